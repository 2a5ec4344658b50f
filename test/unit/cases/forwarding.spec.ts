import { expect } from 'chai';
import { ConfigError, MeasurementError } from '../../../lib/errors.ts';
import { DryRunStop } from '../../../lib/harness/dry-run.ts';
import { startForwarding, type CountingTopology, type ForwarderCounts } from '../../../lib/cases/forwarding.ts';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import { buildForwardingFigures, type ThroughputEntry } from '../../../lib/cases/forwarding-figures.ts';
import { extractForwardingFigures } from '../../../lib/regression/figures.ts';
import { buildInfluxPoints } from '../../../lib/report/influx-points.ts';
import type { CaseResult, RunResult } from '../../../lib/results/model.ts';
import { buildForwardingContext, buildLabPod, buildSimulatedTgen, type DeviceModel } from './forwarding-fakes.ts';

const pod = buildLabPod();
const tgen = pod.nodes.find((n) => n.name === 'tgen')!;
const host = pod.nodes.find((n) => n.name === 'host')!;

function fakeTopology(counts?: () => ForwarderCounts | undefined): CountingTopology & { setups: number; evidence: number } {
  const t = {
    name: 'baremetal' as const,
    setups: 0,
    evidence: 0,
    async setup() {
      t.setups += 1;
      return { topology: 'baremetal' as const, tgen, ports: { tx: 't0', rx: 't1' }, description: 'tgen:t0 → host → tgen:t1', nodes: [host] };
    },
    async collectEvidence() {
      t.evidence += 1;
    },
    forwarderCounts: () => counts?.(),
  };
  return t;
}

const args = (over: Record<string, unknown> = {}) =>
  parseForwardingArgs({ frame_sizes: [64], trial_duration_s: 1, search_resolution_percent: 1, budget_s: 3600, ...over }, { caseName: 'baremetal_forwarding' });

async function measureOnce(model: DeviceModel, over: Record<string, unknown> = {}) {
  const session = buildSimulatedTgen(tgen, model);
  const ctx = buildForwardingContext({ pod, sessions: { tgen: session } });
  const topology = fakeTopology();
  const run = await startForwarding(ctx, { topology, args: args(over) });
  const entry = await run.measure(64);
  return { ctx, session, entry, run, topology };
}

describe('cases/forwarding startForwarding and measure', () => {
  it('finds the NDR of a device that forwards 100 kpps per direction, verified, with latency at 10/50/90 % of it', async () => {
    const { ctx, entry, session } = await measureOnce({ generatorMaxPps: 500_000, capacityPps: 100_000, latencyNs: 50_000 });
    expect(entry.ceilingSource).to.equal('calibration');
    expect(entry.ceilingPps).to.equal(500_000);
    expect(entry.ndr.confirmedBy).to.equal('verification');
    expect(entry.ndr.confirmedPps).to.be.within(95_000, 100_000);
    expect(entry.ndrPps).to.equal(entry.ndr.confirmedPps! * 2);
    expect(entry.ndr.lossPercentLimit).to.be.closeTo(0.001, 1e-12);
    expect(entry.latencyAtLoads.map((l) => l.loadPercent)).to.deep.equal([10, 50, 90]);
    expect(entry.latencyAtLoads[2]!.ratePps).to.equal(Math.floor(entry.ndr.confirmedPps! * 0.9));
    expect(entry.latencyAtLoads[0]!.directions.map((d) => [d.direction, d.summary.p99, d.summary.unit])).to.deep.equal([
      ['forward', 50_000, 'ns'],
      ['reverse', 50_000, 'ns'],
    ]);
    expect(entry.latency).to.include({ where: '90 % of NDR, both directions merged' });
    expect(entry.latency!.summary.samples).to.equal(2 * Math.round(entry.latencyAtLoads[2]!.ratePps * 1));
    expect(entry.latency!.histogram).to.deep.equal([[50_000, 50_000, entry.latency!.summary.samples]]);
    expect(entry.calibration).to.deep.include({ via: 'loopback', ports: { tx: 'c0', rx: 'c1' }, maxTxPps: 500_000, latencyRatePps: 50_000 });
    expect(entry.calibration!.latency.map((l) => l.summary.p99)).to.deep.equal([2_000, 2_000]);
    expect(entry.lossAtRate).to.deep.equal({ ratePps: 50_000, lossPercent: 0, valid: true, invalidReasons: [] });
    const purposes = entry.trials.map((t) => t.purpose);
    expect(purposes.slice(0, 2)).to.deep.equal(['calibration', 'calibration']);
    expect(purposes.filter((p) => p === 'search').length).to.be.within(1, 16);
    expect(purposes.slice(-4)).to.deep.equal(['latency', 'latency', 'latency', 'fixed-rate']);
    // The first search trial asks for the whole ceiling.
    expect(entry.trials.find((t) => t.purpose === 'search')!.ratePps).to.equal(500_000);
    expect(ctx.details.throughput).to.deep.equal([entry]);
    expect(ctx.raws.has('trials-64.json')).to.equal(true);
    expect(ctx.tools).to.deep.include(['tgen', 'kfn-softgen', '1.0.0']);
    // Frames are addressed to the device ports facing the generator (pod.yaml peers).
    const argv = session.callsOf('start').at(-1)!.command;
    expect(argv).to.include(`--dst-mac ${host.ports.find((p) => p.name === 'h0')!.mac}`);
  });

  it('records the shape the InfluxDB view reads: one point per frame size, on the forwarding node', async () => {
    const { entry } = await measureOnce({ generatorMaxPps: 500_000, capacityPps: 100_000, latencyNs: 50_000 });
    const details = { topology: { nodes: ['host'] }, throughput: [entry] };
    const result = { caseName: 'baremetal_forwarding', status: 'pass', startedAt: '2026-11-25T12:00:00.000Z', details };
    const run = { pod: { name: 'lab' }, environment: { nodeName: '', deployScenario: '', installerType: '', buildTag: '' }, nodes: {}, cases: [result] } as unknown as RunResult;
    const points = buildInfluxPoints(run);
    expect(points).to.have.length(1);
    expect(points[0]!.tags).to.include({ frame_size: '64', node: 'host', load: 'idle' });
    expect(points[0]!.fields).to.include({ ndr_pps: entry.ndrPps, pdr_pps: entry.pdrPps, p99_us: 50 });
  });

  it('records the shape the regression gate reads', async () => {
    const { entry } = await measureOnce({ generatorMaxPps: 500_000, capacityPps: 100_000, latencyNs: 50_000 });
    const result = { caseName: 'baremetal_forwarding', details: { throughput: [entry] } } as unknown as CaseResult;
    const { figures, notes } = extractForwardingFigures(result);
    expect(notes).to.deep.equal([]);
    expect(figures.map((f) => [f.metric, f.value])).to.deep.equal([
      ['ndr', entry.ndrPps],
      ['pdr', entry.pdrPps],
      ['p99', 50_000],
      ['max', 50_000],
    ]);
  });

  it('walks down from a rate whose verification lost frames, and says so', async () => {
    // The device is flaky at the rate the search settles on: its verification loses 1 %.
    const model: DeviceModel = { generatorMaxPps: 400_000, capacityPps: 100_000, latencyNs: 10_000 };
    const probe = await measureOnce(model);
    const found = probe.entry.ndr.searchPps;
    const { entry } = await measureOnce({ ...model, flaky: [{ ratePps: found, nth: 2 }] }, { verify_fallbacks: [0.5] });
    expect(entry.ndr.status).to.equal('verification-failed');
    expect(entry.ndr.confirmedBy).to.equal('fallback-verification');
    expect(entry.ndr.confirmedPps).to.equal(Math.floor(found * 0.5));
    expect(entry.trials.filter((t) => t.purpose === 'fallback-verify').length).to.be.within(1, 2);
  });

  it('reports a rate limited by the generator as a lower bound, judged only when the bound settles it', async () => {
    const { entry } = await measureOnce({ generatorMaxPps: 300_000, capacityPps: 10_000_000, latencyNs: 1_000 });
    expect(entry.ndr.isLowerBound).to.equal(true);
    const passes = buildForwardingFigures(entry, 'ndr', { min: 100, unit: 'kpps' });
    expect(passes[0]!.value).to.equal(entry.ndrPps);
    expect(passes[0]!.where).to.match(/only known to be at least/);
    const unknown = buildForwardingFigures(entry, 'ndr', { min: 5, unit: 'mpps' });
    expect(unknown[0]!.value).to.equal(null);
    expect(unknown[0]!.note).to.match(/cannot tell whether the device reaches the limit/);
  });

  it('refuses results whose frames did not all go through the device', async () => {
    const session = buildSimulatedTgen(tgen, { generatorMaxPps: 500_000, capacityPps: 100_000, latencyNs: 1_000 });
    const ctx = buildForwardingContext({ pod, sessions: { tgen: session } });
    let counts: ForwarderCounts | undefined;
    const topology = fakeTopology(() => counts);
    const run = await startForwarding(ctx, { topology, args: args() });
    await run.measure(64);
    counts = { txTowardTgenPort: { t0: 10, t1: 10 }, source: 'test counters' };
    const error = await run.finish().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/the generator received \d+ frames on t1 but the device sent only 10 toward it \(test counters\)/);
    expect(topology.evidence).to.equal(1);
    expect((ctx.details.pathCheck as { problems: string[] }).problems).to.have.length(2);
  });

  it('refuses a budget it cannot keep before the topology touches anything', async () => {
    const ctx = buildForwardingContext({ pod, sessions: {} });
    const topology = fakeTopology();
    const error = await startForwarding(ctx, { topology, args: args({ frame_sizes: [64, 1518], budget_s: 60, trial_duration_s: 10 }) }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(/expected at least \d+ s for the shortest useful sweep, found a budget of 60 s/);
    expect(topology.setups).to.equal(0);
  });

  it('prints one trial in a dry run and measures nothing', async () => {
    const session = buildSimulatedTgen(tgen, { generatorMaxPps: 1, capacityPps: 1, latencyNs: 1 });
    const ctx = buildForwardingContext({ pod, sessions: { tgen: session }, dryRun: true });
    const run = await startForwarding(ctx, { topology: fakeTopology(), args: args() });
    const error = await run.measure(64).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(DryRunStop);
    expect(session.callsOf('start')).to.have.length(1);
    expect(ctx.details.throughput).to.equal(undefined);
  });

  it('uses --duration for every search trial', async () => {
    const session = buildSimulatedTgen(tgen, { generatorMaxPps: 500_000, capacityPps: 100_000, latencyNs: 1_000 });
    const ctx = buildForwardingContext({ pod, sessions: { tgen: session }, durationOverrideS: 2 });
    const run = await startForwarding(ctx, { topology: fakeTopology(), args: args() });
    const entry: ThroughputEntry = await run.measure(64);
    expect(entry.durationS).to.equal(2);
    expect(new Set(entry.trials.filter((t) => t.purpose !== 'calibration').map((t) => t.durationS))).to.deep.equal(new Set([2]));
  });
});

