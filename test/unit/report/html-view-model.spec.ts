// The HTML report's view model: what the page says, taken from RunResults without rendering.
// Runs come from the hand-written fixtures (test/fixtures/report/README.source.md,
// test/fixtures/regression/baseline-run.source.md) and the interrupt agents' recorded outputs
// (test/fixtures/irq-agent/veth-monotonic.*.source.md), changed one thing at a time.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { findForwardingTables } from '../../../lib/report/html/forwarding-view.ts';
import { buildGenericBlocks } from '../../../lib/report/html/generic-view.ts';
import { chooseLatencyScale, findDetailHistograms, mergeBuckets, parseCyclictestHistograms, readBuckets, rebinBuckets } from '../../../lib/report/html/histograms.ts';
import { buildTrendView } from '../../../lib/report/html/trends.ts';
import { buildRunView, UNFINISHED_NOTE } from '../../../lib/report/html/view-model.ts';
import { bannerStatus } from '../../../lib/report/html/run-page.ts';
import { buildCompareView } from '../../../lib/report/html/compare-view.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildDeviceInterruptDetails } from '../../../lib/tools/irq-agent/details.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../lib/tools/irq-agent/parse.ts';
import type { ThroughputEntry } from '../../../lib/cases/forwarding-figures.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

const baselineRun = (): RunResult => JSON.parse(readFileSync(new URL('../../fixtures/regression/baseline-run.json', import.meta.url), 'utf8')) as RunResult;
const irqFixture = (name: string) => readFileSync(new URL(`../../fixtures/irq-agent/${name}`, import.meta.url), 'utf8');

/** A copy of `run` started `hours` later, its timer max and p99 on every node scaled by `factor`. */
function laterRun(run: RunResult, hours: number, factor: number, id: string): RunResult {
  const copy = structuredClone(run);
  copy.runId = id;
  copy.startedAt = new Date(Date.parse(run.startedAt) + hours * 3600_000).toISOString();
  for (const c of copy.cases.filter((x) => x.caseName === 'timer')) {
    for (const d of Object.values(c.details) as { overall: { summary: { max: number; p99: number } } }[]) {
      d.overall.summary.max *= factor;
      d.overall.summary.p99 *= factor;
    }
  }
  return copy;
}

describe('report/html view model', () => {
  it('summarises the verdict with case and testcase counts of every status', () => {
    const view = buildRunView({ run: loadRunFixture('daily-mixed') });
    expect(view.summary).to.include({ runId: '20260313T020000Z-pod2', pod: 'intel-pod10', scenario: 'os-nosdn-kvm_ovs_dpdk-ha', profile: 'opnfv-tc028', status: 'error' });
    expect(view.summary.caseCounts).to.deep.equal({ pass: 0, fail: 1, error: 1, skip: 1 });
    const statuses = loadRunFixture('daily-mixed').cases.flatMap((c) => c.testcases.map((t) => t.status));
    expect(view.summary.testcaseCounts.fail).to.equal(statuses.filter((s) => s === 'fail').length).and.to.be.greaterThan(0);
  });

  it('says first that a run with no verdict (running) never reached it, and never paints it green', () => {
    const run = { ...loadRunFixture('lab-timer-pass'), status: 'running' as const, exitCode: 70 };
    const view = buildRunView({ run });
    expect(view.notes[0]).to.equal(UNFINISHED_NOTE);
    expect(view.summary.status).to.equal('running');
    expect(bannerStatus(view.summary)).to.equal('error');
    expect(bannerStatus(buildRunView({ run: loadRunFixture('lab-timer-pass') }).summary)).to.equal('pass');
  });

  it('keeps every case with its reason, explanations and testcases', () => {
    const view = buildRunView({ run: loadRunFixture('daily-mixed') });
    expect(view.cases.map((c) => [c.caseName, c.status])).to.deep.equal([['timer', 'fail'], ['device_interrupt', 'error'], ['sriov_forwarding', 'skip']]);
    expect(view.cases[1]!.reason).to.match(/cannot open \/dev\/ptp0/);
    expect(view.cases[2]!.reason).to.match(/no NIC with SR-IOV/);
    expect(view.cases[0]!.explanations).to.deep.equal(["compute-0: CPU 4 (the load's CPU) shares a core with the guest's vCPU thread"]);
    expect(view.cases[0]!.testcases.some((t) => t.status === 'fail' && t.message !== null)).to.equal(true);
  });

  it('lists each timer thread and the overall as latency rows, a bounded max marked', () => {
    const run = loadRunFixture('lab-timer-pass');
    const overall = (run.cases[0]!.details.guest as { overall: { summary: { maxIsLowerBound: boolean } } }).overall.summary;
    overall.maxIsLowerBound = true;
    const rows = buildRunView({ run }).cases[0]!.latency;
    expect(rows.map((r) => r.label)).to.include.members(['host thread 0 (cpu 1)', 'host thread 1 (cpu 1)', 'host all threads', 'guest all threads']);
    expect(rows.find((r) => r.label === 'host thread 0 (cpu 1)')).to.include({ samples: 60000, min: 4, max: 2810, p99: 208 });
    expect(rows.find((r) => r.label === 'guest all threads')!.maxIsLowerBound).to.equal(true);
    expect(rows.find((r) => r.label === 'host all threads')!.maxIsLowerBound).to.equal(false);
  });

  it('draws the device-interrupt figures of a recorded agent run in microseconds, one chart per receiver', () => {
    const details = buildDeviceInterruptDetails({ gen: parseIrqGenSummary(irqFixture('veth-monotonic.irqgen.json')), recv: parseIrqRecvSummary(irqFixture('veth-monotonic.irqrecv.json')), device: 'veth' });
    const run = loadRunFixture('lab-timer-pass');
    run.cases = [{ ...run.cases[0]!, caseName: 'device_interrupt', details: { guest: details } }];
    const c = buildRunView({ run }).cases[0]!;
    expect(c.histograms).to.have.length(1);
    expect(c.histograms[0]!.series.map((s) => s.name)).to.include.members(['wire_to_handler', 'receive_to_handler']);
    const wire = c.histograms[0]!.series.find((s) => s.name === 'wire_to_handler')!;
    expect(wire.buckets.reduce((n, b) => n + b.count, 0)).to.equal(details.wire_to_handler.summary!.samples);
    expect(wire.buckets[0]!.lower).to.equal(5.76);
    // 5.8 us to 342 us is a long tail: drawn on a log latency axis.
    expect(c.histograms[0]!.scale).to.equal('log');
    // Before binning, [5760, 5791] ns is [5.76, 5.792) us.
    const found = findDetailHistograms({ guest: details }).find((h) => h.path.join(' ') === 'guest wire_to_handler')!;
    expect(found.buckets[0]).to.deep.equal({ lower: 5.76, upper: 5.792, count: 2 });
    const row = c.latency.find((r) => r.label === 'guest wire_to_handler')!;
    expect(row.max).to.equal(details.wire_to_handler.summary!.max! / 1000);
  });

  it('prefers a timer histogram kept in details (the proposed shape) over the raw file, with p99 and max marked', () => {
    const run = loadRunFixture('lab-timer-pass');
    (run.cases[0]!.details.host as Record<string, unknown>).histogram = { unit: 'us', buckets: [[4, 4, 10], [80, 80, 119_000], [2975, 2975, 1]], overflows: 0 };
    const raw = { timer: { host: { threads: { 0: [{ lower: 1, upper: 2, count: 5 }] }, source: 'timer/host/cyclictest.json' }, guest: { threads: { 0: [{ lower: 90, upper: 91, count: 7 }] }, source: 'timer/guest/cyclictest.json' } } };
    const charts = buildRunView({ run, rawHistograms: raw }).cases[0]!.histograms;
    expect(charts.map((c) => c.title)).to.deep.equal(['timer · host', 'timer · guest']);
    expect(charts[0]!.series[0]!.buckets.reduce((n, b) => n + b.count, 0)).to.equal(119_011);
    expect(charts[0]!.markers).to.deep.equal([{ name: 'p99', x: 212 }, { name: 'max', x: 2975 }]);
    expect(charts[1]!.series[0]!.buckets).to.deep.equal([{ lower: 90, upper: 91, count: 7 }]);
    expect(charts[1]!.notes).to.include('from timer/guest/cyclictest.json');
  });

  it('reads forwarding tables in the proposed throughput[] and the fixtures\' frames[] shapes', () => {
    const [proposed] = findForwardingTables(baselineRun().cases[1]!.details);
    expect(proposed!.source).to.equal('throughput');
    expect(proposed!.rows.map((r) => [r.frameSize, r.ndrPps, r.pdrPps])).to.deep.equal([['64', 10_000_000, 10_500_000], ['1518', 800_000, 812_000]]);
    expect(proposed!.columns).to.include({ ndr: true, pdr: true, latency: false, loss: false });
    const [frames] = findForwardingTables(loadRunFixture('forwarding-frames').cases[0]!.details);
    expect(frames!.rows[0]).to.deep.include({ frameSize: '64', rxPps: 7_410_000, lossPercent: 0.001, ndrPps: null });
    expect(frames!.rows[0]!.latencyUs).to.deep.equal({ avg: 21.5, p99: 34, max: 61, maxIsLowerBound: false });
  });

  it('says when an NDR is only a lower bound set by the generator, and converts ns latencies', () => {
    const [t] = findForwardingTables({ throughput: [{ frameSize: 64, ndr: { ratePps: 5e6, limitedBy: 'generator' }, pdr: { ratePps: 6e6, limitedBy: 'device-loss' }, lossRatio: 0.00001, latency: { avgNs: 12_000, p99Ns: 30_000, maxNs: 90_000, maxIsLowerBound: true } }] });
    expect(t!.rows[0]).to.deep.include({ ndrPps: 5e6, pdrPps: 6e6, ndrIsLowerBound: true, pdrIsLowerBound: false, notes: ['NDR only a lower bound: limited by generator'] });
    expect(t!.rows[0]!.lossPercent).to.be.closeTo(0.001, 1e-12);
    expect(t!.rows[0]!.latencyUs).to.deep.equal({ avg: 12, p99: 30, max: 90, maxIsLowerBound: true });
  });

  it('reads a forwarding case\'s throughput entry (lib/cases/forwarding-figures.ts) and draws its headline latency only', () => {
    const summary = { unit: 'ns', samples: 3000, min: 9000, avg: 21_000, max: 250_000, p50: 20_000, p99: 60_000, p999: null, p9999: null, notes: {}, overflows: 0, maxIsLowerBound: false };
    const histogram = [[8000, 15_999, 400], [16_000, 31_999, 2500], [32_000, 63_999, 95], [240_000, 255_999, 5]];
    const entry = {
      frameSize: 64, durationS: 10, direction: 'bidirectional', flows: 1, directions: 2,
      ndrPps: 1_200_000, pdrPps: null,
      ndr: { isLowerBound: true, limitedBy: 'generator', status: 'confirmed' },
      pdr: { isLowerBound: false, limitedBy: 'device-loss', status: 'no verification passed' },
      lossAtRate: { ratePps: 1_000_000, lossPercent: 0.002, valid: true, invalidReasons: [] },
      latency: { where: '90 % of NDR, both directions merged', ratePps: 1_080_000, lossPercent: 0, summary, histogram, jitterNs: null },
      latencyAtLoads: [{ loadPercent: 50, ratePps: 600_000, lossPercent: 0, valid: true, directions: [{ direction: 'forward', summary, histogram, jitterNs: null }] }],
    } satisfies Partial<Record<keyof ThroughputEntry, unknown>>;
    const [t] = findForwardingTables({ throughput: [entry] });
    expect(t!.latencyWhere).to.equal('90 % of NDR, both directions merged');
    expect(t!.rows[0]).to.deep.include({ ndrPps: 1_200_000, ndrIsLowerBound: true, pdrPps: null, pdrIsLowerBound: false, lossPercent: 0.002 });
    expect(t!.rows[0]!.notes).to.deep.equal(['NDR only a lower bound: limited by generator', 'PDR not confirmed: no verification passed', 'loss measured at 1 Mpps']);
    expect(t!.rows[0]!.latencyUs).to.deep.equal({ avg: 21, p99: 60, max: 250, maxIsLowerBound: false });
    const run = loadRunFixture('forwarding-frames');
    run.cases[0]!.details = { throughput: [entry] };
    const [chart] = buildRunView({ run }).cases[0]!.histograms;
    expect(chart!.series.map((x) => x.name)).to.deep.equal(['64 B latency']);
    expect(chart!.series[0]!.buckets.reduce((n, b) => n + b.count, 0)).to.equal(3000);
    expect(chart!.series[0]!.buckets[0]).to.deep.include({ lower: 8, count: 400 });
    expect(chart!.notes).to.include('1 more detailed distribution (per load, direction or calibration) kept in results.json, not drawn');
  });

  it('shows an unknown comparison shape as tables of its own keys', () => {
    const blocks = buildGenericBlocks({ frameSize: 64, rows: [{ topology: 'sriov', ndrMpps: 9.1 }, { topology: 'ovs-dpdk', ndrMpps: 4.2 }] });
    expect(blocks[0]).to.deep.equal({ kind: 'pairs', title: '', pairs: [['frameSize', '64']] });
    expect(blocks[1]).to.deep.equal({ kind: 'table', title: 'rows', columns: ['topology', 'ndrMpps'], rows: [['sriov', '9.1'], ['ovs-dpdk', '4.2']] });
    const run = loadRunFixture('forwarding-frames');
    run.comparison = [{ topology: 'baremetal', ndr: 1 }] as never;
    expect(buildRunView({ run }).comparison).to.deep.equal({ kind: 'generic', blocks: [{ kind: 'table', title: '', columns: ['topology', 'ndr'], rows: [['baremetal', '1']] }] });
    expect(buildRunView({ run: loadRunFixture('forwarding-frames') }).comparison).to.equal(null);
  });
});

describe('report/html histograms', () => {
  it('parses cyclictest 2.4 JSON thread histograms, a bare nan avg included', () => {
    // Shape of cyclictest 2.4 --json (formats.md): non-zero buckets only, "avg" may be nan.
    const text = '{"file_version":1,"num_threads":2,"thread":{"0":{"histogram":{"13":2,"14":30,"276":1},"cycles":33,"min":13,"max":276,"avg":nan},"1":{"histogram":{"14":5},"cycles":5,"min":14,"max":14,"avg":14}}}';
    const parsed = parseCyclictestHistograms(text);
    expect(parsed).to.deep.equal({ threads: { 0: [{ lower: 13, upper: 14, count: 2 }, { lower: 14, upper: 15, count: 30 }, { lower: 276, upper: 277, count: 1 }], 1: [{ lower: 14, upper: 15, count: 5 }] } });
    if ('threads' in parsed) expect(mergeBuckets(Object.values(parsed.threads))[1]).to.deep.equal({ lower: 14, upper: 15, count: 35 });
  });

  it('rejects text that is not cyclictest JSON, and a histogram entry that is not <us>: <count>', () => {
    expect(parseCyclictestHistograms('# Histogram\n000013\t2')).to.deep.equal({ problem: 'not JSON' });
    expect(parseCyclictestHistograms('{"file_version":1}')).to.have.property('problem').that.matches(/no "thread"/);
    expect(parseCyclictestHistograms('{"thread":{"0":{"histogram":{"x13":2}}}}')).to.have.property('problem').that.matches(/"x13"/);
    expect(parseCyclictestHistograms('{"thread":{"0":{"histogram":{"13":-2}}}}')).to.have.property('problem').that.matches(/not <us>: <count>/);
  });

  it('refuses a bucket list with one unreadable element rather than drawing part of it', () => {
    expect(readBuckets([[1000, 1999, 3], [2000, 2999, 'x']], 'ns')).to.equal(undefined);
    expect(readBuckets([[2000, 1000, 3]], 'ns')).to.equal(undefined);
    expect(readBuckets([{ lowerNs: 1000, upperNs: 1999, count: 4 }, [3000, 3999, 0]], 'ns')).to.deep.equal([{ lower: 1, upper: 2, count: 4 }]);
    expect(findDetailHistograms({ a: { buckets: [[1, 2, 'x']] } })).to.deep.equal([]);
  });

  it('rebins a wide sparse range into at most maxBins bins that keep every count and never overlap', () => {
    const buckets = [...Array.from({ length: 300 }, (_, i) => ({ lower: 10 + i, upper: 11 + i, count: 5 })), { lower: 19999, upper: 20000, count: 1 }];
    const bins = rebinBuckets(buckets, { maxBins: 120 });
    // 200 us bins over 10..20000 us: 10..199, 200..309, and the max.
    expect(bins).to.have.length(3);
    expect(bins[0]).to.deep.equal({ lower: 10, upper: 200, count: 950 });
    expect(bins.reduce((n, b) => n + b.count, 0)).to.equal(1501);
    bins.slice(1).forEach((b, i) => expect(b.lower).to.be.at.least(bins[i]!.upper));
    // A bin spans only its buckets: the lone max stays where it was measured.
    expect(bins.at(-1)).to.deep.equal({ lower: 19999, upper: 20000, count: 1 });
    const narrow = buckets.slice(0, 50);
    expect(rebinBuckets(narrow, { maxBins: 120 })).to.deep.equal(narrow);
  });

  it('turns the latency axis logarithmic for a long tail, with bins per decade', () => {
    const bulk = Array.from({ length: 100 }, (_, i) => ({ lower: 10 + i, upper: 11 + i, count: 100 }));
    expect(chooseLatencyScale(bulk)).to.equal('linear');
    const tailed = [...bulk, { lower: 3310, upper: 3311, count: 1 }];
    expect(chooseLatencyScale(tailed)).to.equal('log');
    // Bucket 0 of cyclictest counts from half its width, so it does not make every tail "long".
    expect(chooseLatencyScale([{ lower: 0, upper: 1, count: 3 }, { lower: 20, upper: 21, count: 3 }])).to.equal('linear');
    const bins = rebinBuckets(tailed, { scale: 'log', binsPerDecade: 10 });
    // 10..110 us is one decade at 10 bins per decade, plus the lone max.
    expect(bins.length).to.equal(12);
    expect(bins.reduce((n, b) => n + b.count, 0)).to.equal(10_001);
  });

  it('bins series that are drawn together on one shared grid', () => {
    const a = Array.from({ length: 400 }, (_, i) => ({ lower: i, upper: i + 1, count: 1 }));
    const b = [{ lower: 3, upper: 4, count: 7 }];
    const shared = rebinBuckets(b, { maxBins: 40, reference: [...a, ...b] });
    expect(shared).to.deep.equal([{ lower: 3, upper: 4, count: 7 }]);
    const binsOfA = rebinBuckets(a, { maxBins: 40, reference: [...a, ...b] });
    expect(binsOfA[0]).to.deep.equal({ lower: 0, upper: 10, count: 10 });
  });
});

describe('report/html trends', () => {
  const base = baselineRun();

  it('trends p99 and max per node over comparable earlier runs, oldest first, this run last', () => {
    const earlier = [laterRun(base, -48, 1, 'r-48'), laterRun(base, -24, 2, 'r-24')];
    const view = buildTrendView(base, earlier);
    expect(view.runs.map((r) => r.runId)).to.deep.equal(['r-48', 'r-24', base.runId]);
    const timer = view.charts.find((c) => c.caseName === 'timer' && c.kind === 'latency')!;
    const guestMax = timer.series.find((s) => s.name === 'guest all threads max')!;
    expect(guestMax.points.map((p) => p.value)).to.deep.equal([40, 80, 40]);
    expect(view.charts.find((c) => c.kind === 'throughput')!.series.find((s) => s.name === '64 B frames ndr')!.points.map((p) => p.value)).to.deep.equal([10, 10, 10]);
  });

  it('leaves out runs of another duration, pod or profile, and later runs, and says so', () => {
    const otherDuration = laterRun(base, -24, 1, 'dur');
    otherDuration.options.durationS = 30;
    const otherPod = laterRun(base, -24, 1, 'pod');
    otherPod.pod.name = 'intel-pod11';
    const later = laterRun(base, 24, 1, 'later');
    const view = buildTrendView(base, [otherDuration, otherPod, later]);
    expect(view.runs.map((r) => r.runId)).to.deep.equal([base.runId]);
    expect(view.charts).to.deep.equal([]);
    expect(view.notes.join(' ')).to.match(/3 runs of the history left out/).and.to.match(/nothing to trend yet/);
  });

  it('says so when the comparable runs have nothing to trend', () => {
    const errored = laterRun(base, -24, 1, 'errored');
    const current = structuredClone(base);
    for (const run of [errored, current]) for (const c of run.cases) c.status = 'error';
    const view = buildTrendView(current, [errored]);
    expect(view.runs).to.have.length(2);
    expect(view.charts).to.deep.equal([]);
    expect(view.notes.join(' ')).to.match(/no figures to trend/);
  });

  it('gives a run without a figure a gap, and an overflowed max the bound it is', () => {
    const gap = laterRun(base, -24, 1, 'gap');
    gap.cases = gap.cases.filter((c) => c.caseName !== 'timer');
    const bound = laterRun(base, -12, 1, 'bound');
    const s = (bound.cases[0]!.details.guest as { overall: { summary: { max: number | null; maxIsLowerBound: boolean } } }).overall.summary;
    s.maxIsLowerBound = true;
    const timer = buildTrendView(base, [gap, bound]).charts.find((c) => c.caseName === 'timer')!;
    const points = timer.series.find((x) => x.name === 'guest all threads max')!.points;
    expect(points.map((p) => [p.value, p.bound])).to.deep.equal([[null, false], [40, true], [40, false]]);
  });
});

describe('report/html comparison of two runs', () => {
  it('lines up key figures with their change and says which way is better', () => {
    const other = baselineRun();
    const run = laterRun(other, 24, 1.5, 'newer');
    (run.cases[1]!.details.throughput as { ndrPps: number }[])[0]!.ndrPps = 11_000_000;
    run.nodes.host!.kernelRelease = '4.4.60-rt70';
    const view = buildCompareView({ run, other });
    const guestMax = view.figures.find((f) => f.label === 'timer: guest all threads max')!;
    expect(guestMax).to.deep.include({ run: 60, other: 40, unit: 'us', better: false });
    expect(guestMax.change).to.deep.include({ kind: 'exact' });
    expect((guestMax.change as { value: number }).value).to.be.closeTo(50, 1e-9);
    expect(view.figures.find((f) => f.label === 'ovs_dpdk_forwarding: 64 B frames ndr')).to.deep.include({ run: 11, other: 10, unit: 'Mpps', better: true });
    expect(view.systemRows).to.deep.include({ node: 'host', field: 'kernel', run: '4.4.60-rt70 #1 SMP PREEMPT RT Tue Mar 7 2017', other: '4.4.50-rt62nfv #1 SMP PREEMPT RT Tue Mar 7 2017' });
    expect(view.caveats.join(' ')).to.match(/kernel of host/);
  });

  it('lists testcases whose status changed and cases run in one of the two only', () => {
    const other = loadRunFixture('daily-mixed');
    const run = structuredClone(other);
    run.runId = 'b';
    run.cases[0]!.testcases[0]!.status = run.cases[0]!.testcases[0]!.status === 'pass' ? 'fail' : 'pass';
    run.cases.pop();
    const view = buildCompareView({ run, other });
    expect(view.testcaseChanges).to.have.length(1);
    expect(view.caseRows.find((r) => r.caseName === 'sriov_forwarding')).to.deep.equal({ caseName: 'sriov_forwarding', run: null, other: 'skip' });
  });
});
