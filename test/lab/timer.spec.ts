// The Timer test end to end on the embedded lab pod, as CI and an operator run it: the
// CLI builds the lab, measures host and guest over SSH, writes its reports and removes
// the lab. The test reads junit.xml as Jenkins would and results.json as a tool would.
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import { readJenkinsJunit } from '../support/jenkins-junit-reader.ts';
import type { RunResult } from '../../lib/results/model.ts';

describe('lab: run -t timer', function () {
  this.timeout(300_000);
  const resultsRoot = mkdtempSync(join(tmpdir(), 'kfn-lab-timer-'));
  let exitCode: number;
  let runDir: string;
  let output: string;

  before(async () => {
    const run = await runCliProcess(['run', '-t', 'timer', '--duration', '3', '--results', resultsRoot], { timeoutMs: 280_000 });
    exitCode = run.exitCode;
    output = `${run.stdout}\n${run.stderr}`;
    const [id] = readdirSync(resultsRoot);
    runDir = join(resultsRoot, id ?? 'missing');
  });

  it('ends with 0 or, if the VM spiked past the lab limits, 68; never an error', () => {
    expect([0, 68], output).to.include(exitCode);
  });

  it('writes junit.xml that Jenkins shows under kvmfornfv.latency.timer with guest and host tests', () => {
    const suites = readJenkinsJunit(readFileSync(join(runDir, 'junit.xml'), 'utf8'));
    const cases = suites.flatMap((s) => s.cases);
    expect(new Set(cases.map((c) => `${c.packageName}|${c.simpleClassName}`))).to.deep.equal(new Set(['kvmfornfv.latency|timer']));
    const names = cases.map((c) => c.name);
    for (const node of ['host', 'guest']) {
      expect(names).to.include(`${node}: cyclictest measured every thread`);
      expect(names).to.include(`${node}: max ≤ 250000 us (assert)`);
    }
    expect(cases.filter((c) => c.failedBy === 'error').map((c) => c.name)).to.deep.equal([]);
    const measured = cases.find((c) => c.name === 'guest: cyclictest measured every thread');
    expect(measured?.stdout).to.match(/<measurement><name>guest_max_us<\/name><value>\d+/);
  });

  it('writes results.json with real figures for every thread, the build under test and the tool version', () => {
    const run = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResult;
    expect(run.schemaVersion).to.match(/^1\./);
    expect(run.pod.lab).to.equal(true);
    const timer = run.cases.find((c) => c.caseName === 'timer');
    for (const node of ['host', 'guest']) {
      const details = timer?.details[node] as { threads: Array<{ summary: { samples: number; min: number; max: number; avg: number } }> };
      expect(details.threads.length).to.be.greaterThan(0);
      for (const t of details.threads) {
        // The VM's vCPU is emulated (TCG) and shares the host's CPUs: it may lose a few loops, never gain any.
        expect(t.summary.samples).to.be.within(node === 'guest' ? 1500 : 2000, 3100);
        expect(t.summary.min).to.be.greaterThan(0);
        expect(t.summary.max).to.be.at.least(t.summary.avg);
      }
      expect(run.nodes[node]?.kind).to.equal(node === 'guest' ? 'vm' : 'namespace');
      expect(run.nodes[node]?.kernelRelease).to.be.a('string').and.not.empty;
      expect(run.tools[node]?.cyclictest).to.match(/^\d+\.\d+/);
    }
    expect(timer?.rawOutputs).to.include.members(['timer/guest/cyclictest.json', 'timer/host/cyclictest.stdout']);
  });

  it("measures the guest inside the QEMU VM it launched: Debian's RT kernel, the accelerator, vCPUs pinned as read from /proc", () => {
    const run = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResult;
    const guest = run.nodes.guest;
    expect(guest?.preemptRt).to.equal(true);
    expect(guest?.kernelRelease).to.match(/-rt-amd64$/);
    expect(guest?.kernelRelease).not.to.equal(run.nodes.host?.kernelRelease);
    const launch = guest?.launch;
    expect(launch?.accelerator).to.be.oneOf(['kvm', 'tcg']);
    expect(launch?.emulated).to.equal(launch?.accelerator === 'tcg');
    expect(launch?.acceleratorReason).to.match(/^auto on the lab pod/);
    expect(launch?.qemuVersion).to.match(/^\d+\.\d+\.\d+/);
    expect(launch?.kernelRelease).to.equal(guest?.kernelRelease);
    // The lab pod pins RT vCPU 1 to the host's rt CPU at SCHED_FIFO 1, and vCPU 0 with QEMU's own threads to housekeeping.
    const host = run.nodes.host;
    expect(launch?.vcpus.map((v) => [v.index, v.rt, v.policy, v.priority])).to.deep.equal([[0, false, 'SCHED_OTHER', 0], [1, true, 'SCHED_FIFO', 1]]);
    expect(launch?.vcpus[1]?.hostCpus).to.deep.equal([Number(host?.cpus) - 1]);
    for (const t of launch?.threads.filter((x) => !/^CPU 1\//.test(x.name)) ?? []) expect(t.cpus, t.name).to.deep.equal([0]);
    if (launch?.emulated) {
      expect(run.notes.join('\n')).to.match(/guest guest runs under TCG, QEMU's software emulation .*test function, not real-time quality/);
      const suites = readJenkinsJunit(readFileSync(join(runDir, 'junit.xml'), 'utf8'));
      const measured = suites.flatMap((x) => x.cases).find((c) => c.name === 'guest: cyclictest measured every thread');
      expect(measured?.stdout).to.contain('guest is a QEMU guest under TCG, software emulation');
    }
  });

  it('leaves no namespace and no process of the lab behind', async () => {
    const { stdout } = await execa('ip', ['netns', 'list']);
    const { stdout: ps } = await execa('ps', ['-eo', 'args']);
    expect(ps).not.to.include(`${REPO_ROOT}.lab/`);
    expect(ps).not.to.match(/cyclictest .*kfn-/);
    expect(ps).not.to.match(/qemu-system|kfn-vm-/);
    const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));
    expect(stdout.split('\n').filter((ns) => ns.startsWith(`${prefix}-`))).to.deep.equal([]);
  });
});
