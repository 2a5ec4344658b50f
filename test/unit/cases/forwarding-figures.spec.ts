import { expect } from 'chai';
import {
  buildForwardingFigures,
  buildFrameMeasurements,
  limitAppliesTo,
  listForwardingMetricNames,
  mergeLatencies,
  parseForwardingMetric,
  type ThroughputEntry,
} from '../../../lib/cases/forwarding-figures.ts';
import { loadThresholds } from '../../../lib/config/thresholds.ts';
import type { LatencySummary } from '../../../lib/results/model.ts';
import type { TrialLatency } from '../../../lib/traffic/generator.ts';
import { evaluateLimit } from '../../../lib/verdict/limits.ts';

const summary = (over: Partial<LatencySummary> = {}): LatencySummary => ({
  unit: 'ns',
  samples: 1000,
  min: 1000,
  avg: 2000,
  max: 9000,
  p50: 1800,
  p99: 5000,
  p999: 8000,
  p9999: null,
  notes: { p9999: 'null: 1000 samples cannot support p9999' },
  overflows: 0,
  maxIsLowerBound: false,
  ...over,
});

function entry(over: Partial<ThroughputEntry> = {}): ThroughputEntry {
  const target = { lossPercentLimit: 0.001, searchPps: 100_000, confirmedPps: 100_000, confirmedBy: 'verification' as const, status: 'verified', limitedBy: 'device-loss' as const, isLowerBound: false, converged: true, interval: { passPps: 100_000, failPps: 101_000 } };
  return {
    frameSize: 64,
    durationS: 5,
    direction: 'bidirectional',
    flows: 1,
    directions: 2,
    ndrPps: 200_000,
    pdrPps: 220_000,
    ndr: target,
    pdr: { ...target, confirmedPps: 110_000, lossPercentLimit: 0.1 },
    ceilingPps: 500_000,
    ceilingSource: 'calibration',
    lossAtRate: { ratePps: 50_000, lossPercent: 0.5, valid: true, invalidReasons: [] },
    latency: { where: '90 % of NDR, both directions merged', ratePps: 90_000, lossPercent: 0, valid: true, invalidReasons: [], summary: summary(), histogram: [], jitterNs: null },
    latencyAtLoads: [
      { loadPercent: 10, ratePps: 10_000, lossPercent: 0, valid: true, directions: [{ direction: 'forward', summary: summary({ p99: 3000, max: 4000 }), histogram: [], jitterNs: 1 }] },
      { loadPercent: 90, ratePps: 90_000, lossPercent: 0, valid: true, directions: [{ direction: 'forward', summary: summary({ p99: 7000, max: 20_000 }), histogram: [], jitterNs: 1 }] },
    ],
    calibration: null,
    search: { epsilonPps: 5000, maxSearchTrials: 8, generatorLimitPps: null, notes: [] },
    trials: [],
    notes: [],
    ...over,
  };
}

describe('cases/forwarding-figures metrics', () => {
  it('reads `metric` and `metric@size` and refuses anything else', () => {
    expect(parseForwardingMetric('ndr')).to.deep.equal({ metric: 'ndr' });
    expect(parseForwardingMetric('latency_p99@1518')).to.deep.equal({ metric: 'latency_p99', frameSize: '1518' });
    expect(parseForwardingMetric('ndr@imix')).to.deep.equal({ metric: 'ndr', frameSize: 'imix' });
    expect(parseForwardingMetric('throughput')).to.equal(undefined);
    expect(limitAppliesTo({ metric: 'ndr@64' }, 64)).to.equal(true);
    expect(limitAppliesTo({ metric: 'ndr@64' }, 1518)).to.equal(false);
    expect(limitAppliesTo({ metric: 'ndr' }, 'imix')).to.equal(true);
  });

  it('judges NDR on the confirmed rate of all directions', () => {
    const v = evaluateLimit({ metric: 'ndr', min: 1, unit: 'mpps', action: 'assert' }, buildForwardingFigures(entry(), 'ndr'));
    expect(v.outcome).to.equal('fail');
    expect(v.message).to.match(/64 B, bidirectional: ndr 0\.2 Mpps < limit 1 Mpps/);
    expect(evaluateLimit({ metric: 'ndr', min: 1000, unit: 'pps', action: 'assert' }, buildForwardingFigures(entry(), 'ndr')).outcome).to.equal('pass');
  });

  it('never passes an NDR that no verification confirmed', () => {
    const e = entry({ ndrPps: null, ndr: { ...entry().ndr, confirmedPps: null, confirmedBy: null, status: 'verification-failed' } });
    const figures = buildForwardingFigures(e, 'ndr', { min: 1, unit: 'pps' });
    expect(figures[0]!.value).to.equal(null);
    expect(evaluateLimit({ metric: 'ndr', min: 1, unit: 'pps', action: 'assert' }, figures).outcome).to.equal('unknown');
  });

  it('judges latency on every load and direction, the worst deciding', () => {
    const v = evaluateLimit({ metric: 'latency_max', max: 10, unit: 'us', action: 'assert' }, buildForwardingFigures(entry(), 'latency_max'));
    expect(v.outcome).to.equal('fail');
    expect(v.decisive?.where).to.equal('64 B, 90 % of NDR (90000 pps), forward');
    expect(buildForwardingFigures(entry(), 'latency_p99@64').map((f) => f.value)).to.deep.equal([3000, 7000]);
  });

  it('turns an overflowed max into a bound and an invalid trial into unknown', () => {
    const load = entry().latencyAtLoads[1]!;
    const bounded = entry({ latencyAtLoads: [{ ...load, directions: [{ ...load.directions[0]!, summary: summary({ max: 50_000, maxIsLowerBound: true }) }] }] });
    expect(buildForwardingFigures(bounded, 'latency_max')[0]).to.include({ value: null, atLeast: 50_000 });
    const invalid = entry({ latencyAtLoads: [{ ...load, valid: false }] });
    expect(buildForwardingFigures(invalid, 'latency_p99')[0]).to.include({ value: null, note: 'the generator could not drive this latency trial' });
    expect(buildForwardingFigures(entry({ latencyAtLoads: [] }), 'latency_p99')[0]!.note).to.match(/no latency trial ran/);
  });

  it('reads loss at the fixed rate, unknown when the generator could not drive it', () => {
    expect(buildForwardingFigures(entry(), 'loss_at_rate')).to.deep.equal([{ value: 0.5, unit: 'percent', where: '64 B at 50000 pps per direction' }]);
    const invalid = entry({ lossAtRate: { ratePps: 50_000, lossPercent: 40, valid: false, invalidReasons: ['forward: the generator sent 30000 pps'] } });
    expect(buildForwardingFigures(invalid, 'loss_at_rate')[0]).to.include({ value: null });
  });

  it('gives Jenkins plots per frame size', () => {
    expect(buildFrameMeasurements(entry())).to.deep.equal({ '64_ndr_pps': 200_000, '64_pdr_pps': 220_000, '64_loss_at_rate_percent': 0.5, '64_p50_ns': 1800, '64_p99_ns': 5000, '64_max_ns': 9000 });
  });
});

describe('cases/forwarding-figures mergeLatencies', () => {
  const lat = (buckets: Array<[number, number, number]>, over: Partial<TrialLatency> = {}): TrialLatency => {
    const samples = buckets.reduce((s, b) => s + b[2], 0);
    return {
      source: 'all-frames',
      samples,
      minNs: buckets[0]![0],
      avgNs: 1000,
      maxNs: buckets.at(-1)![1],
      jitterNs: 10,
      p50Ns: null,
      p99Ns: null,
      p999Ns: null,
      p9999Ns: null,
      resolutionNs: 1,
      buckets: buckets.map(([lowerNs, upperNs, count]) => ({ lowerNs, upperNs, count })),
      overflows: 0,
      maxIsLowerBound: false,
      notes: {},
      ...over,
    };
  };

  it('adds the buckets of two directions and recomputes the percentiles as bucket upper bounds', () => {
    const m = mergeLatencies([lat([[100, 100, 90], [200, 201, 10]]), lat([[100, 100, 50], [900, 907, 50]], { avgNs: 3000 })])!;
    expect(m.samples).to.equal(200);
    expect(m.buckets.map((b) => [b.lowerNs, b.count])).to.deep.equal([[100, 140], [200, 10], [900, 50]]);
    expect(m.p50Ns).to.equal(100);
    expect(m.p99Ns).to.equal(907);
    expect(m.avgNs).to.equal(2000);
    expect([m.minNs, m.maxNs]).to.deep.equal([100, 907]);
  });

  it('keeps the worse direction when the bucket schemes differ', () => {
    const a = lat([[0, 9999, 100]], { p99Ns: 9999 });
    const b = lat([[5000, 5000, 100]], { p99Ns: 5000 });
    expect(mergeLatencies([b, a])).to.equal(a);
  });
});

describe('cases/forwarding-figures limits in the shipped profiles', () => {
  const expected: Record<string, Array<[string, number, string, 'assert' | 'monitor']>> = {
    lab: [['ndr', 1000, 'pps', 'assert'], ['pdr', 1000, 'pps', 'monitor'], ['loss_at_rate', 20, 'percent', 'monitor'], ['latency_p99', 100, 'ms', 'monitor'], ['latency_max', 250, 'ms', 'monitor']],
    'rt-kvm': [['ndr@64', 5, 'mpps', 'monitor'], ['loss_at_rate', 0.001, 'percent', 'monitor'], ['latency_p99', 40, 'us', 'monitor'], ['latency_max', 200, 'us', 'monitor']],
    'opnfv-tc028': [['ndr@64', 5, 'mpps', 'monitor'], ['loss_at_rate', 0.001, 'percent', 'monitor'], ['latency_p99', 100, 'us', 'monitor'], ['latency_max', 1000, 'us', 'monitor']],
  };
  for (const [name, limits] of Object.entries(expected)) {
    it(`${name}: forwarding limits load, name only metrics the cases report, and are as documented`, () => {
      const profile = loadThresholds(name);
      const known = listForwardingMetricNames();
      for (const c of ['baremetal_forwarding', 'sriov_forwarding', 'ovs_dpdk_forwarding']) {
        const bad = profile.limitsFor(c).filter((l) => !known.includes(l.metric));
        expect(bad, `${name} ${c}`).to.deep.equal([]);
        expect(profile.limitsFor(c).length, `${name} ${c}`).to.be.greaterThan(0);
      }
      expect(profile.limitsFor('baremetal_forwarding').map((l) => [l.metric, l.max ?? l.min, l.unit, l.action])).to.deep.equal(limits);
    });
  }

  it('lists each metric alone and for each standard frame size', () => {
    const names = listForwardingMetricNames();
    expect(names).to.include.members(['ndr', 'ndr@64', 'latency_p99@imix', 'loss_at_rate@1518']);
    expect(names).not.to.include('ndr@63');
  });
});
