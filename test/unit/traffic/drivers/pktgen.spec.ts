import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError, MeasurementError } from '../../../../lib/errors.ts';
import { PktgenGenerator, type PacketReceiver, type ReceiverReport } from '../../../../lib/traffic/drivers/pktgen.ts';
import type { TrialParams } from '../../../../lib/traffic/generator.ts';
import { buildScriptedSession, buildTgenNode, type FakeCall } from '../../../support/fake-node-session.ts';

const FIXTURES = new URL('../../../fixtures/pktgen/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const NODE = buildTgenNode([
  { name: 'p0', interface: 'eth4', mac: '02:00:00:00:00:01' },
  { name: 'p1', interface: 'eth5', mac: '02:00:00:00:00:02' },
]);
// 100 000 frames in 15 430 us (pktgen.rst's example): what a 0.0154 s trial at 6.48 Mpps sends.
const params: TrialParams = { frameSize: 64, rate: { pps: 6_480_000 }, durationS: 0.01543, flows: 1, direction: 'one-way', ports: { tx: 'p0', rx: 'p1' } };
const txOutput = `==> /proc/net/pktgen/eth4@kfn0 <==\n${fixture('eth4-rst-example.txt')}`;

const report: ReceiverReport = {
  rxFrames: 99_990,
  dropped: 10,
  duplicate: 0,
  outOfOrder: 2,
  latency: {
    source: 'all-frames', samples: 99_990, minNs: 4000, avgNs: 6100.5, maxNs: 91_000, jitterNs: 800, p50Ns: 6000, p99Ns: 12_000,
    p999Ns: 40_000, p9999Ns: 91_000, resolutionNs: 1, buckets: [{ lowerNs: 4000, upperNs: 91_000, count: 99_990 }], overflows: 0,
    maxIsLowerBound: false, notes: {},
  },
};

function receiver(out: ReceiverReport = report): PacketReceiver & { asked: Array<{ iface: string; durationS: number }> } {
  const asked: Array<{ iface: string; durationS: number }> = [];
  return {
    asked,
    buildCommand: (a) => (asked.push(a), ['kfn-softgen', 'rx', '--if', a.iface, '--pktgen', '--duration', String(a.durationS)]),
    parseReport: (stdout) => {
      expect(stdout).to.equal('{"softgen":"rx"}');
      return out;
    },
  };
}

const ops = (calls: FakeCall[]) => calls.map((c) => `${c.kind}${'name' in c ? ` ${c.name.replace(/-\d+-\d+$/, '')}` : ''}`);

describe('traffic/drivers/pktgen PktgenGenerator', () => {
  it('starts the receiver, then pktgen, and joins pktgen TX with the receiver RX', async () => {
    const session = buildScriptedSession(NODE, { 'pktgen-rx': { stdout: '{"softgen":"rx"}' }, 'pktgen-tx': { stdout: txOutput, runningPolls: 1 } });
    const rx = receiver();
    const gen = new PktgenGenerator({ session, receiver: rx, sleep: async () => {}, threads: { forward: 1 } });
    const r = await gen.runTrial(params);
    expect(ops(session.calls)).to.deep.equal(['start pktgen-rx', 'start pktgen-tx', 'stop pktgen-tx', 'wait pktgen-rx']);
    expect(rx.asked).to.deep.equal([{ iface: 'eth5', durationS: 0.5 + 0.01543 + 1 + 1 }]);
    const script = (session.calls[1] as Extract<FakeCall, { kind: 'start' }>).raw as { script: string };
    expect(script.script).to.include("pgset /proc/net/pktgen/kpktgend_1 'add_device eth4@kfn0'");
    expect(script.script).to.include("'dst_mac 02:00:00:00:00:02'");
    expect(script.script).to.include("'count 99986'");
    expect(script.script).to.include("'ratep 6480000'");
    const [d] = r.directions;
    expect(d).to.deep.include({ txPort: 'p0', rxPort: 'p1', txFrames: 100_000, rxFrames: 99_990, lostFrames: 10 });
    expect(d!.achievedTxPps).to.be.closeTo(100_000 / 0.01543, 1e-6);
    expect(r.valid).to.equal(true);
    expect(d!.sequence).to.deep.equal({ scope: 'all-frames', dropped: 10, duplicate: 0, outOfOrder: 2 });
    expect(d!.latency!.resolutionNs).to.equal(1000);
    expect(d!.latency!.notes.resolution).to.match(/whole microseconds/);
    expect(r.notes.join('\n')).to.match(/latency resolution is 1 us/);
  });

  it('explains a node without the pktgen module and stops the receiver', async () => {
    const session = buildScriptedSession(NODE, {
      'pktgen-rx': { stdout: '', runningPolls: 1000 },
      'pktgen-tx': { exitCode: 3, stderr: 'kfn-pktgen: /proc/net/pktgen/pgctrl is missing: the pktgen module is not loaded (modprobe pktgen; ...)' },
    });
    let caught: unknown;
    await new PktgenGenerator({ session, receiver: receiver(), sleep: async () => {} }).runTrial(params).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(MeasurementError);
    expect((caught as Error).message).to.match(/^kernel pktgen on tgen exited with 3: kfn-pktgen: .*module is not loaded/);
    expect(ops(session.calls)).to.deep.equal(['start pktgen-rx', 'start pktgen-tx', 'stop pktgen-tx', 'stop pktgen-rx']);
  });

  it('marks the trial invalid when the receiver says it lost frames itself', async () => {
    const session = buildScriptedSession(NODE, { 'pktgen-rx': { stdout: '{"softgen":"rx"}' }, 'pktgen-tx': { stdout: txOutput } });
    const rx = receiver({ ...report, invalidReasons: ['eth5 ring dropped 10 frames'] });
    const r = await new PktgenGenerator({ session, receiver: rx, sleep: async () => {} }).runTrial(params);
    expect(r.valid).to.equal(false);
    expect(r.invalidReasons).to.deep.equal(['forward: receiver: eth5 ring dropped 10 frames']);
  });

  it('fails the trial when the receiver failed', async () => {
    const session = buildScriptedSession(NODE, { 'pktgen-rx': { exitCode: 2, stderr: 'kfn-softgen: --if: no such interface' }, 'pktgen-tx': { stdout: txOutput } });
    let caught: unknown;
    await new PktgenGenerator({ session, receiver: receiver(), sleep: async () => {} }).runTrial(params).catch((e) => (caught = e));
    expect((caught as Error).message).to.match(/receiver pktgen-rx-\d+-\d+ on tgen exited with 2: kfn-softgen: --if: no such interface/);
  });

  it('needs kernel interfaces and a destination MAC, checked before anything starts', async () => {
    const bare = buildTgenNode([{ name: 'p0', pci: '0000:05:00.0' }, { name: 'p1' }]);
    const session = buildScriptedSession(bare, {});
    let caught: unknown;
    await new PktgenGenerator({ session, receiver: receiver(), sleep: async () => {} }).runTrial(params).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((i) => i.path)).to.deep.equal(['ports.p0.interface', 'ports.p1.interface', 'addresses.forward.dstMac']);
    expect(session.calls).to.deep.equal([]);
  });

  it('runs a trial whose count pktgen would cut (rate x duration over 10 digits or 32 bits) until its time limit', async () => {
    const session = buildScriptedSession(NODE, { 'pktgen-rx': { stdout: '{"softgen":"rx"}' }, 'pktgen-tx': { stdout: txOutput } });
    const r = await new PktgenGenerator({ session, receiver: receiver() }).runTrial({ ...params, rate: { pps: 14_880_952 }, durationS: 700 });
    const script = (session.calls[1] as Extract<FakeCall, { kind: 'start' }>).raw as { script: string };
    expect(script.script).to.include("'count 0' 'OK: count=0'");
    expect(script.script).to.include("'ratep 14880952' 'OK: rate=14880952'");
    expect(script.script).to.include('[ $i -lt 7000 ]');
    expect(r.notes.join('\n')).to.match(/count 0 until its time limit: rate x duration exceeds the 4294967295 frames/);
    const short = buildScriptedSession(NODE, { 'pktgen-rx': { stdout: '{"softgen":"rx"}' }, 'pktgen-tx': { stdout: txOutput } });
    const ok = await new PktgenGenerator({ session: short, receiver: receiver() }).runTrial({ ...params, rate: { pps: 14_880_952 }, durationS: 288 });
    expect(((short.calls[1] as Extract<FakeCall, { kind: 'start' }>).raw as { script: string }).script).to.include("'count 4285714176' 'OK: count=4285714176'");
    expect(ok.notes.join('\n')).to.not.match(/count 0/);
  });

  it('calibrates with unpaced pktgen and keeps the rate it reached', async () => {
    const session = buildScriptedSession(NODE, { 'pktgen-rx': { stdout: '{"softgen":"rx"}' }, 'pktgen-tx': { stdout: txOutput } });
    const cal = await new PktgenGenerator({ session, receiver: receiver(), sleep: async () => {} }).calibrate({
      frameSize: 64, durationS: 0.01543, flows: 1, direction: 'one-way', ports: { tx: 'p0', rx: 'p1' },
    });
    const script = (session.calls[1] as Extract<FakeCall, { kind: 'start' }>).raw as { script: string };
    expect(script.script).to.include("'delay 0'");
    // count 0: pktgen sends until the time limit, which is the calibration's duration (ceil(0.1543) ticks of 0.1 s).
    expect(script.script).to.include("'count 0' 'OK: count=0'");
    expect(script.script).to.include('[ $i -lt 1 ]');
    expect(cal.maxTxPps).to.be.closeTo(6_480_881, 1);
    expect(cal.trial.notes.join('\n')).to.match(/unpaced/);
  });
});
