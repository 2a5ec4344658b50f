// Bad input of every kind ends with exit code 2 and one clear message naming the file,
// the field and what was expected, before any node is touched; never a stack trace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCliProcess } from '../../support/cli.ts';

const podFixture = (name: string) => `test/fixtures/config/pod/${name}`;
const thresholdFixture = (name: string) => `test/fixtures/config/thresholds/${name}`;
const goodPod = podFixture('extended-pod.yaml');
const results = mkdtempSync(join(tmpdir(), 'kfn-bad-input-'));

const cases: Array<{ kind: string; args: string[]; says: string[] }> = [
  { kind: 'pod file missing', args: ['--pod', 'no/such/pod.yaml'], says: ['no/such/pod.yaml', 'cannot read the file', 'expected a pod inventory'] },
  { kind: 'pod YAML syntax error', args: ['--pod', podFixture('yaml-syntax.yaml')], says: ['yaml-syntax.yaml', 'line'] },
  { kind: 'ssh_port not a port', args: ['--pod', podFixture('bad-ssh-port.yaml')], says: ['bad-ssh-port.yaml', 'ssh_port', 'expected an integer 1-65535'] },
  { kind: 'unknown role', args: ['--pod', podFixture('unknown-role.yaml')], says: ['unknown-role.yaml', 'role'] },
  { kind: 'misspelt pod key', args: ['--pod', podFixture('unknown-key.yaml')], says: ['unknown-key.yaml', 'nodes[0].rt_cpu', 'did you mean rt_cpus?'] },
  { kind: 'misspelt Yardstick role', args: ['--pod', podFixture('misspelt-role.yaml')], says: ['misspelt-role.yaml', 'nodes[0].role', 'did you mean vnf__0?'] },
  { kind: 'bad CPU list', args: ['--pod', podFixture('bad-cpu-list.yaml')], says: ['bad-cpu-list.yaml', 'rt_cpus', 'expected a CPU list'] },
  { kind: 'duplicate node names', args: ['--pod', podFixture('duplicate-names.yaml')], says: ['duplicate-names.yaml', 'name'] },
  { kind: 'no nodes', args: ['--pod', podFixture('no-nodes.yaml')], says: ['no-nodes.yaml', 'nodes'] },
  { kind: 'literal password of the wrong type', args: ['--pod', podFixture('password-number.yaml')], says: ['password-number.yaml', 'password'] },
  { kind: 'unknown threshold profile', args: ['--pod', goodPod, '--thresholds', 'no-such-profile'], says: ['no-such-profile', 'opnfv-tc028', 'rt-kvm', 'lab'] },
  { kind: 'threshold unit unknown', args: ['--pod', goodPod, '--thresholds', thresholdFixture('bad-unit.yaml')], says: ['bad-unit.yaml', 'unit'] },
  { kind: 'threshold with both max and min', args: ['--pod', goodPod, '--thresholds', thresholdFixture('max-and-min.yaml')], says: ['max-and-min.yaml', 'exactly one of max or min'] },
  { kind: 'threshold action unknown', args: ['--pod', goodPod, '--thresholds', thresholdFixture('bad-action.yaml')], says: ['bad-action.yaml', 'action'] },
  { kind: 'unknown -t selection', args: ['--pod', goodPod, '-t', 'timr'], says: ['-t', '"timr" is not a case, a tier or all'] },
  { kind: '--duration not a number', args: ['--pod', goodPod, '--duration', 'ten'], says: ['--duration', 'expected seconds > 0, got "ten"'] },
  { kind: 'unknown option', args: ['--pod', goodPod, '--durration', '5'], says: ['unknown option', '--durration'] },
  { kind: 'baseline file missing', args: ['--pod', goodPod, '--baseline', 'no/such/results.json'], says: ['no/such/results.json', 'cannot read the baseline', 'expected a results.json'] },
  { kind: 'baseline not a results.json', args: ['--pod', goodPod, '--baseline', podFixture('extended-pod.yaml')], says: ['extended-pod.yaml', 'expected a results.json'] },
  { kind: '--compare-across unknown', args: ['--pod', goodPod, '--baseline', 'last', '--compare-across', 'kernel,libvirt'], says: ['--compare-across', 'kernel, qemu', '"libvirt"'] },
  { kind: 'unknown host key policy', args: ['--pod', goodPod, '--host-key-policy', 'yolo'], says: ['--host-key-policy', 'yolo', 'strict'] },
];

describe('CLI: bad input', function () {
  this.timeout(60_000);
  for (const c of cases) {
    it(`${c.kind}: exit 2, a clear message, no stack trace`, async () => {
      const run = await runCliProcess(['run', '--dry-run', '--results', results, ...c.args]);
      expect(run.exitCode, run.stderr).to.equal(2);
      for (const text of c.says) expect(run.stderr).to.include(text);
      expect(run.stderr).not.to.match(/\n\s+at .+:\d+:\d+/);
    });
  }

  it('never prints a literal password from a bad pod file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfn-secret-'));
    const pod = join(dir, 'pod.yaml');
    writeFileSync(pod, 'nodes:\n  - {name: host, role: host, ip: 127.0.0.1, ssh_port: 0, password: "s3cret-Kfn-77", rt_cpus: "1", housekeeping_cpus: "0"}\n');
    const run = await runCliProcess(['run', '--dry-run', '--results', results, '--pod', pod]);
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.include('ssh_port');
    expect(run.stderr + run.stdout).not.to.include('s3cret-Kfn-77');
  });
});
