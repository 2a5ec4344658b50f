import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIrqGenCommand, buildIrqRecvCommand, buildReadyWaitScript, buildStreamId, parseIrqRecvReadyLine } from '../../../../lib/tools/irq-agent/command.ts';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  expect.fail('expected a ConfigError');
}

describe('tools/irq-agent buildIrqGenCommand', () => {
  it('builds the generator argv with the 1 ms default period', () => {
    const c = buildIrqGenCommand({ binary: '/tmp/kfn/kfn-irqgen-ab/kfn-irqgen', dest: '198.18.0.2', port: 47000, count: 120000 });
    expect(c.argv).to.deep.equal(['/tmp/kfn/kfn-irqgen-ab/kfn-irqgen', '--dest', '198.18.0.2', '--port', '47000', '--period-ns', '1000000', '--count', '120000']);
    expect(c.escapedCommand).to.equal('/tmp/kfn/kfn-irqgen-ab/kfn-irqgen --dest 198.18.0.2 --port 47000 --period-ns 1000000 --count 120000');
  });

  it('passes every option, skip seqs sorted and once each', () => {
    const c = buildIrqGenCommand({
      binary: 'kfn-irqgen',
      dest: 'fd00::2',
      port: 9,
      periodNs: 250_000,
      durationS: 2.5,
      streamId: 7,
      clock: 'monotonic',
      iface: 'ens1f0',
      skipSeqs: [1500, 500, 1500],
      endFrames: false,
      cpu: 3,
      priority: 95,
    });
    expect(c.argv.slice(1)).to.deep.equal([
      '--dest', 'fd00::2', '--port', '9', '--period-ns', '250000', '--duration', '2.5', '--stream-id', '7',
      '--clock', 'monotonic', '--iface', 'ens1f0', '--skip-seq', '500,1500', '--no-end-frames', '--cpu', '3', '--priority', '95',
    ]);
  });

  it('writes durations as plain decimals, never in exponent notation', () => {
    const c = buildIrqGenCommand({ binary: 'g', dest: '10.0.0.1', port: 1, durationS: 1e-7 });
    expect(c.argv).to.include('0.0000001');
  });

  it('reports every bad parameter at once', () => {
    const issues = issuesOf(() =>
      buildIrqGenCommand({ binary: 'g', dest: '', port: 70000, periodNs: 10, priority: 0, skipSeqs: [0], iface: 'a very long interface name' }),
    );
    expect(issues).to.have.length(6);
    expect(issues.join('\n')).to.match(/^dest: /m).and.match(/^port: expected an integer in \[1, 65535\], found 70000$/m);
    expect(issues.join('\n')).to.match(/^periodNs: /m).and.match(/^priority: /m).and.match(/^skipSeqs\[0\]: /m).and.match(/^iface: /m);
  });

  it('quotes a destination that is not a plain word in the escaped command', () => {
    const c = buildIrqGenCommand({ binary: '/opt/kfn agents/kfn-irqgen', dest: '10.0.0.1', port: 1 });
    expect(c.escapedCommand.startsWith("'/opt/kfn agents/kfn-irqgen' --dest")).to.equal(true);
  });
});

describe('tools/irq-agent buildIrqRecvCommand', () => {
  it('builds the receiver argv for a same-host self-check', () => {
    const c = buildIrqRecvCommand({ binary: 'kfn-irqrecv', port: 0, bind: '127.0.0.1', clockDomain: 'same-host', expect: 2000, exitOnEnd: true, cpu: 1, priority: 90 });
    expect(c.argv).to.deep.equal([
      'kfn-irqrecv', '--port', '0', '--clock-domain', 'same-host', '--bind', '127.0.0.1', '--expect', '2000', '--exit-on-end', '--cpu', '1', '--priority', '90',
    ]);
  });

  it('passes the offset, late threshold, duration and hardware timestamps', () => {
    const c = buildIrqRecvCommand({ binary: 'r', port: 4790, clockDomain: 'ptp', clockOffsetNs: -1200, lateNs: 500_000, durationS: 60, hwTimestampsIface: 'eth1', streamId: 3 });
    expect(c.argv.slice(1)).to.deep.equal([
      '--port', '4790', '--clock-domain', 'ptp', '--stream-id', '3', '--clock-offset-ns', '-1200', '--late-ns', '500000', '--duration', '60', '--hw-timestamps', 'eth1',
    ]);
  });

  it('refuses an offset with unsynchronised clocks', () => {
    const issues = issuesOf(() => buildIrqRecvCommand({ binary: 'r', port: 1, clockDomain: 'unsynchronised', clockOffsetNs: 0 }));
    expect(issues).to.deep.equal(['clockOffsetNs: expected no offset with clockDomain unsynchronised, found one']);
  });

  it('refuses an unknown clock domain and a zero duration', () => {
    const issues = issuesOf(() => buildIrqRecvCommand({ binary: 'r', port: 1, clockDomain: 'gps' as never, durationS: 0 }));
    expect(issues.map((i) => i.split(':')[0])).to.deep.equal(['durationS', 'clockDomain']);
  });
});

describe('tools/irq-agent parseIrqRecvReadyLine', () => {
  it('reads the address and the port the kernel chose', () => {
    expect(parseIrqRecvReadyLine('kfn-irqrecv: ready 127.0.0.1:43210\n')).to.deep.equal({ address: '127.0.0.1', port: 43210 });
    expect(parseIrqRecvReadyLine('warning\nkfn-irqrecv: ready [::]:4790\n')).to.deep.equal({ address: '::', port: 4790 });
  });

  it('returns undefined before the receiver is ready', () => {
    expect(parseIrqRecvReadyLine('kfn-irqrecv: cannot bind UDP 0.0.0.0 port 4790: Address in use\n')).to.equal(undefined);
  });
});

describe('tools/irq-agent buildStreamId', () => {
  it('gives each run its own non-zero 32-bit stream id, the same on every call', () => {
    const a = buildStreamId('20261125-152408-5fad');
    expect(a).to.equal(buildStreamId('20261125-152408-5fad'));
    expect(a).to.not.equal(buildStreamId('20261125-152408-5fae'));
    for (const id of ['', 'a', a.toString()]) expect(buildStreamId(id)).to.be.within(1, 0xffff_ffff);
  });
});

describe('tools/irq-agent buildReadyWaitScript (run by sh)', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kfn-ready-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = (timeoutS: number) => {
    const paths = { stderrPath: join(dir, "it's.err"), exitCodePath: join(dir, 'rc') };
    return spawnSync('sh', ['-c', buildReadyWaitScript(paths, timeoutS)], { encoding: 'utf8', timeout: 10_000 });
  };

  it('prints stderr and exits 0 once the ready line is there', () => {
    writeFileSync(join(dir, "it's.err"), 'kfn-irqrecv: ready 198.19.7.2:47900\n');
    const r = run(5);
    expect([r.status, parseIrqRecvReadyLine(r.stdout)]).to.deep.equal([0, { address: '198.19.7.2', port: 47900 }]);
  });

  it('exits 3 with stderr as soon as the receiver has exited, and 2 when the time is up', () => {
    writeFileSync(join(dir, "it's.err"), 'kfn-irqrecv: cannot bind UDP 198.19.7.2 port 47900: Address already in use\n');
    writeFileSync(join(dir, 'rc'), '1\n');
    const exited = run(5);
    expect([exited.status, exited.stdout]).to.deep.equal([3, 'kfn-irqrecv: cannot bind UDP 198.19.7.2 port 47900: Address already in use\n']);
    rmSync(join(dir, 'rc'));
    writeFileSync(join(dir, "it's.err"), 'kfn-irqrecv: starting\n');
    expect(run(1).status).to.equal(2);
  });
});
