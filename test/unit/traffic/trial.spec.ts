import { expect } from 'chai';
import { MeasurementError } from '../../../lib/errors.ts';
import type { TrialLatency, TrialParams } from '../../../lib/traffic/generator.ts';
import { buildTrialResult, describeTrial, resolveTrial, splitLatencyRate, toLatencySummary, type DirectionMeasurement } from '../../../lib/traffic/trial.ts';
import { buildTgenNode } from '../../support/fake-node-session.ts';
import { catchConfigError } from '../../support/catch-error.ts';

const NIC_NODE = buildTgenNode([
  { name: 'p0', interface: 'ens1f0', lineRateBps: 10e9 },
  { name: 'p1', interface: 'ens1f1', lineRateBps: 10e9 },
]);
const VETH_NODE = buildTgenNode([
  { name: 't0', interface: 'kfn-t0' },
  { name: 't1', interface: 'kfn-t1' },
]);

const params = (over: Partial<TrialParams> = {}): TrialParams => ({
  frameSize: 64,
  rate: { pps: 100_000 },
  durationS: 10,
  flows: 1,
  direction: 'one-way',
  ports: { tx: 'p0', rx: 'p1' },
  ...over,
});


describe('traffic/trial resolveTrial', () => {
  it('turns a percent of line rate into pps on a port with a line rate', () => {
    const t = resolveTrial(params({ rate: { percentLineRate: 100 } }), NIC_NODE);
    expect(t.streams).to.have.length(1);
    expect(Math.floor(t.streams[0]!.totalPps)).to.equal(14_880_952);
    expect(t.streams[0]!.txPort.name).to.equal('p0');
    expect(t.latencyStreamPps).to.equal(1000);
    expect(resolveTrial(params({ rate: { percentLineRate: 50 }, frameSize: 1518 }), NIC_NODE).streams[0]!.totalPps).to.be.closeTo(406_371.9, 0.1);
  });

  it('adds the reverse stream with the ports swapped when bidirectional', () => {
    const t = resolveTrial(params({ direction: 'bidirectional' }), NIC_NODE);
    expect(t.streams.map((s) => [s.direction, s.txPort.name, s.rxPort.name])).to.deep.equal([
      ['forward', 'p0', 'p1'],
      ['reverse', 'p1', 'p0'],
    ]);
  });

  it('refuses a percent rate on a port without a line rate, naming the port and the fix', () => {
    const e = catchConfigError(() => resolveTrial(params({ rate: { percentLineRate: 10 }, ports: { tx: 't0', rx: 't1' } }), VETH_NODE));
    expect(e.issues).to.have.length(1);
    expect(e.issues[0]!.path).to.equal('rate.percentLineRate');
    expect(e.issues[0]!.message).to.match(/lineRateBps on port t0 of node tgen.*pps only.*give the rate in pps/);
    expect(resolveTrial(params({ ports: { tx: 't0', rx: 't1' } }), VETH_NODE).streams[0]!.totalPps).to.equal(100_000);
  });

  it('reports every bad parameter at once', () => {
    const e = catchConfigError(() =>
      resolveTrial(params({ flows: 0, durationS: -1, frameSize: 60, ports: { tx: 'p0', rx: 'nope' }, rate: { pps: 0 }, latencyStreamPps: 1.5 }), NIC_NODE),
    );
    expect(e.issues.map((i) => i.path)).to.have.members(['frameSize', 'durationS', 'flows', 'latencyStreamPps', 'ports.rx', 'rate.pps']);
    expect(e.message).to.match(/ports\.rx: expected a port of node tgen \(p0, p1\), found "nope"/);
    expect(catchConfigError(() => resolveTrial(params({ ports: { tx: 'p0', rx: 'p0' } }), NIC_NODE)).message).to.match(/two different ports/);
    expect(catchConfigError(() => resolveTrial(params({ rate: { percentLineRate: 120 } }), NIC_NODE)).message).to.match(/\(0, 100\], found 120/);
  });
});

describe('traffic/trial splitLatencyRate', () => {
  it('takes the latency stream out of the total so a port is never asked for more', () => {
    expect(splitLatencyRate(1_000_000, 1000)).to.deep.equal({ loadPps: 999_000, latencyPps: 1000 });
    expect(splitLatencyRate(500, 1000)).to.deep.equal({ loadPps: 0, latencyPps: 500 });
    expect(splitLatencyRate(2000, 0)).to.deep.equal({ loadPps: 2000, latencyPps: 0 });
  });
});

describe('traffic/trial buildTrialResult', () => {
  const trial = { frameSize: 64 as const, durationS: 10, flows: 1, direction: 'one-way' as const };
  const dir = (over: Partial<DirectionMeasurement> = {}): DirectionMeasurement => ({
    direction: 'forward',
    txPort: 'p0',
    rxPort: 'p1',
    txFrames: 1_000_000,
    rxFrames: 999_990,
    requestedPps: 100_000,
    txSeconds: 10,
    sequence: null,
    latency: null,
    ...over,
  });

  it('counts loss against the frames actually sent', () => {
    const r = buildTrialResult({ generator: 'fake', trial, directions: [dir({ txFrames: 900_000, rxFrames: 899_991, requestedPps: 95_000 })] });
    expect(r.directions[0]!.lostFrames).to.equal(9);
    expect(r.directions[0]!.lossRatio).to.equal(9 / 900_000);
    expect(r.lossRatio).to.equal(9 / 900_000);
    expect(r.lossPercent).to.be.closeTo(0.001, 1e-12);
    expect(r.achievedTxPps).to.equal(90_000);
    expect(r.valid).to.equal(true);
  });

  it('flags a trial below 90 % of the requested rate as invalid, the generator not the device', () => {
    const slow = buildTrialResult({ generator: 'fake', trial, directions: [dir({ txFrames: 899_999, rxFrames: 899_999 })] });
    expect(slow.valid).to.equal(false);
    expect(slow.lossRatio).to.equal(0);
    expect(slow.invalidReasons[0]).to.match(/forward: the generator sent 89999 pps, 89\.9 % of the 100000 pps requested \(below 90 %\)/);
    const justEnough = buildTrialResult({ generator: 'fake', trial, directions: [dir({ txFrames: 900_000, rxFrames: 900_000 })] });
    expect(justEnough.valid).to.equal(true);
    const none = buildTrialResult({ generator: 'fake', trial, directions: [dir({ txFrames: 0, rxFrames: 0 })] });
    expect(none.invalidReasons).to.deep.equal(['forward: the generator sent no frame']);
  });

  it('keeps tool-specific reasons that spoil a trial', () => {
    const r = buildTrialResult({ generator: 'fake', trial, directions: [dir()], invalidReasons: ['rx ring dropped 3 frames'] });
    expect(r.valid).to.equal(false);
    expect(r.invalidReasons).to.deep.equal(['rx ring dropped 3 frames']);
  });

  it('sums the directions and judges each one', () => {
    const r = buildTrialResult({
      generator: 'fake',
      trial: { ...trial, direction: 'bidirectional' },
      directions: [dir(), dir({ direction: 'reverse', txPort: 'p1', rxPort: 'p0', txFrames: 500_000, rxFrames: 500_000 })],
    });
    expect([r.txFrames, r.rxFrames]).to.deep.equal([1_500_000, 1_499_990]);
    expect(r.lossRatio).to.equal(10 / 1_500_000);
    expect(r.valid).to.equal(false);
    expect(r.invalidReasons).to.have.length(1);
    expect(r.invalidReasons[0]).to.match(/^reverse:/);
    expect(describeTrial(r)).to.match(/^64 B bidirectional forward 100000 pps, reverse 100000 pps: loss .* \(invalid: generator-limited\)$/);
  });

  it('refuses counters that received more than was sent', () => {
    expect(() => buildTrialResult({ generator: 'fake', trial, directions: [dir({ rxFrames: 1_000_001 })] }))
      .to.throw(MeasurementError, /1000001 frames received but only 1000000 sent/);
    expect(() => buildTrialResult({ generator: 'fake', trial, directions: [dir({ txFrames: -1 })] })).to.throw(MeasurementError, /txFrames/);
    expect(() => buildTrialResult({ generator: 'fake', trial, directions: [] })).to.throw(MeasurementError);
  });

  it('refuses latency buckets that overlap', () => {
    const latency: TrialLatency = {
      source: 'all-frames', samples: 2, minNs: 1, avgNs: 1, maxNs: 1, jitterNs: null, p50Ns: 1, p99Ns: null, p999Ns: null, p9999Ns: null,
      resolutionNs: 1, buckets: [{ lowerNs: 0, upperNs: 10, count: 1 }, { lowerNs: 5, upperNs: 20, count: 1 }], overflows: 0, maxIsLowerBound: false, notes: {},
    };
    expect(() => buildTrialResult({ generator: 'fake', trial, directions: [dir({ latency })] })).to.throw(MeasurementError, /latency histogram unusable: bucket 1/);
  });
});

describe('traffic/trial toLatencySummary', () => {
  it('keeps the ns figures, bounds and notes for the verdicts', () => {
    const lat: TrialLatency = {
      source: 'latency-stream', samples: 10, minNs: 1000, avgNs: 1500, maxNs: 9000, jitterNs: 100,
      p50Ns: 1999, p99Ns: null, p999Ns: null, p9999Ns: null, resolutionNs: 1000, buckets: [],
      overflows: 0, maxIsLowerBound: true, notes: { p99: 'null: too few' },
    };
    expect(toLatencySummary(lat)).to.deep.equal({
      unit: 'ns', samples: 10, min: 1000, avg: 1500, max: 9000, p50: 1999, p99: null, p999: null, p9999: null,
      notes: { p99: 'null: too few' }, overflows: 0, maxIsLowerBound: true,
    });
  });
});
