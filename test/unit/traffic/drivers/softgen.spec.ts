import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError, MeasurementError } from '../../../../lib/errors.ts';
import type { RemoteCommand } from '../../../../lib/remote/types.ts';
import { buildSoftgenPktgenReceiver, SoftgenGenerator } from '../../../../lib/traffic/drivers/softgen.ts';
import type { TrialParams } from '../../../../lib/traffic/generator.ts';
import { buildScriptedSession, buildTgenNode, type FakeCall } from '../../../support/fake-node-session.ts';

const fixture = (path: string): string => readFileSync(new URL(`../../../fixtures/${path}`, import.meta.url), 'utf8');
const NODE = buildTgenNode([
  { name: 't0', interface: 't0', mac: '02:00:00:00:01:01', peer: 'host:h0' },
  { name: 't1', interface: 't1', mac: '02:00:00:00:02:01', peer: 'host:h1' },
  { name: 'p9', mac: '02:00:00:00:09:01' },
]);
const oneWay: TrialParams = { frameSize: 64, rate: { pps: 10_000 }, durationS: 2, flows: 1, direction: 'one-way', ports: { tx: 't0', rx: 't1' } };
const argvOf = (calls: FakeCall[]) => calls.flatMap((c) => (c.kind === 'start' ? [c.raw as readonly string[]] : []));
const flag = (argv: readonly string[], name: string) => argv[argv.indexOf(name) + 1];

describe('traffic/drivers/softgen SoftgenGenerator', () => {
  it('runs one detached trial and maps the recorded document onto the shared result, in ns', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: fixture('softgen/trial-64-10kpps.json'), runningPolls: 1 } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/cache/kfn-softgen/kfn-softgen', firstStreamId: 1, dstMacs: { forward: '02:00:00:00:00:aa' } });
    const r = await gen.runTrial(oneWay);
    const [argv] = argvOf(session.calls);
    expect(argv!.slice(0, 6)).to.deep.equal(['/cache/kfn-softgen/kfn-softgen', 'trial', '--tx-if', 't0', '--rx-if', 't1']);
    expect([flag(argv!, '--size'), flag(argv!, '--rate'), flag(argv!, '--duration'), flag(argv!, '--stream-id'), flag(argv!, '--dst-mac')]).to.deep.equal(['64', '10000', '2', '1', '02:00:00:00:00:aa']);
    expect(r).to.include({ generator: 'softgen', valid: true, txFrames: 20_000, rxFrames: 20_000, lossRatio: 0, achievedTxPps: 10_000 });
    const [fwd] = r.directions;
    expect(fwd).to.include({ direction: 'forward', txPort: 't0', rxPort: 't1', requestedPps: 10_000 });
    expect(fwd!.sequence).to.deep.equal({ scope: 'all-frames', dropped: 0, duplicate: 0, outOfOrder: 0 });
    expect(fwd!.latency).to.include({ source: 'all-frames', samples: 20_000, minNs: 345, maxNs: 70_973, p50Ns: 995, p99Ns: 17_279, p999Ns: 62_207, p9999Ns: 70_655, resolutionNs: 1, maxIsLowerBound: false });
    expect(fwd!.latency!.buckets).to.have.length(773);
    expect(fwd!.latency!.buckets.reduce((s, b) => s + b.count, 0)).to.equal(20_000);
    expect(session.calls.filter((c) => c.kind === 'stop')).to.have.length(1);
  });

  it('maps both streams of a bidirectional trial to their directions and ports', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: fixture('softgen/trial-bidir-imix.json') } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen', firstStreamId: 11 });
    const r = await gen.runTrial({ ...oneWay, frameSize: 'imix', rate: { pps: 5000 }, durationS: 1, flows: 16, direction: 'bidirectional' });
    const [argv] = argvOf(session.calls);
    expect(argv).to.include.members(['--imix', '--bidirectional', '--flows']);
    expect(flag(argv!, '--rev-stream-id')).to.equal('12');
    expect(r.directions.map((d) => [d.direction, d.txPort, d.rxPort])).to.deep.equal([
      ['forward', 't0', 't1'],
      ['reverse', 't1', 't0'],
    ]);
    expect(r.valid).to.equal(true);
  });

  it('reads a forwarded trial (recorded through testpmd): loss against frames sent', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: fixture('testpmd/macswap-oneway-1518-flood.softgen.json') } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen', firstStreamId: 31 });
    const r = await gen.calibrate({ frameSize: 1518, durationS: 3, flows: 1, direction: 'one-way', ports: { tx: 't0', rx: 't1' } });
    expect(flag(argvOf(session.calls)[0]!, '--rate')).to.equal('0');
    expect(r.trial.txFrames).to.equal(3_434_752);
    expect(r.trial.rxFrames).to.equal(3_056_428);
    expect(r.trial.lossPercent).to.be.closeTo((100 * 378_324) / 3_434_752, 1e-9);
    expect(r.trial.directions[0]!.requestedPps).to.equal(0);
    expect(r.maxTxPps).to.be.closeTo(1_144_906.3, 1);
  });

  it('marks a trial the generator could not drive invalid, never device loss', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: fixture('softgen/trial-overload.json') } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen', firstStreamId: 7 });
    const r = await gen.runTrial({ ...oneWay, rate: { pps: 5_000_000 }, durationS: 1 });
    expect(r.valid).to.equal(false);
    expect(r.invalidReasons.join(' ')).to.match(/below 90 %/);
  });

  it('marks an interrupted run invalid', async () => {
    const doc = fixture('softgen/trial-interrupted.json');
    const id = (JSON.parse(doc) as { streams: Array<{ stream_id: number }> }).streams[0]!.stream_id;
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: doc } });
    const r = await new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen', firstStreamId: id }).runTrial({ ...oneWay, rate: { pps: 1000 } });
    expect(r.invalidReasons).to.include('kfn-softgen was interrupted (SIGINT/SIGTERM) before the trial ended');
  });

  it('refuses a document for another stream: late output of another trial is never read as this one', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: fixture('softgen/trial-64-10kpps.json') } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen', firstStreamId: 3 });
    await gen.runTrial(oneWay).then(
      () => expect.fail('expected a MeasurementError'),
      (e: unknown) => expect((e as Error).message).to.match(/no stream 3 \(forward\); found 1/),
    );
  });

  it('takes fresh stream ids for every trial', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: (c: RemoteCommand) => fixture('softgen/trial-64-10kpps.json').replace('"stream_id":1,', `"stream_id":${flag(c as string[], '--stream-id')},`) } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen' });
    await gen.runTrial(oneWay);
    await gen.runTrial(oneWay);
    expect(argvOf(session.calls).map((a) => flag(a, '--stream-id'))).to.deep.equal(['101', '103']);
  });

  it('explains a softgen that failed at run time with its stderr', async () => {
    const session = buildScriptedSession(NODE, { 'softgen-trial': { stdout: '', stderr: 'kfn-softgen: t0: No such device\n', exitCode: 1 } });
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen' });
    await gen.runTrial(oneWay).then(
      () => expect.fail('expected a MeasurementError'),
      (e: unknown) => {
        expect(e).to.be.instanceOf(MeasurementError);
        expect((e as Error).message).to.match(/exited with 1: kfn-softgen: t0: No such device/);
      },
    );
  });

  it('refuses a port without a kernel interface before anything runs', async () => {
    const session = buildScriptedSession(NODE, {});
    const gen = new SoftgenGenerator({ session, binaryPath: '/b/kfn-softgen' });
    await gen.runTrial({ ...oneWay, ports: { tx: 'p9', rx: 't1' } }).then(
      () => expect.fail('expected a ConfigError'),
      (e: unknown) => expect(e).to.be.instanceOf(ConfigError),
    );
    expect(session.calls).to.deep.equal([]);
  });
});

describe('traffic/drivers/softgen buildSoftgenPktgenReceiver', () => {
  it('builds `rx --pktgen` and reads its report with microsecond timestamps (recorded)', () => {
    const receiver = buildSoftgenPktgenReceiver('/b/kfn-softgen');
    expect(receiver.buildCommand({ iface: 't1', durationS: 1.5 })).to.deep.equal(['/b/kfn-softgen', 'rx', '--if', 't1', '--pktgen', '--duration', '1.5']);
    const report = receiver.parseReport(fixture('softgen/rx-pktgen.json'));
    expect(report).to.include({ rxFrames: 300, dropped: 0, duplicate: 0, outOfOrder: 0 });
    expect(report.latency?.resolutionNs).to.equal(1000);
    expect(report.invalidReasons).to.deep.equal([]);
  });

  it('rejects a trial document where a receive-only one is expected', () => {
    expect(() => buildSoftgenPktgenReceiver('/b/kfn-softgen').parseReport(fixture('softgen/trial-64-10kpps.json'))).to.throw(MeasurementError, /expected one receive stream, found mode trial/);
  });
});
