// The forwarding comparison states each path against bare metal only as far as the figures
// allow: exact against exact is a signed difference, exact against a floor is one-sided
// ("≤ +52 %"), floor against floor and paths measured with another forwarder or accelerator
// are not comparable. Rows are in the shape lib/cases/forwarding-figures.ts records
// (ThroughputEntry); the last tests read a recorded lab run (test/fixtures/report/lab-all.run.source.md).
import { expect } from 'chai';
import { buildForwardingComparison, formatComparisonTable } from '../../../lib/report/comparison.ts';
import type { CaseResult, RunResult } from '../../../lib/results/model.ts';
import { loadLabAllRun } from '../../fixtures/report/lab-runs.ts';

const summary = (p99: number, max: number, unit: 'ns' | 'us' = 'ns', maxIsLowerBound = false) => ({ unit, samples: 1000, min: 1, avg: 2, max, p50: 1, p99, p999: null, p9999: null, notes: {}, overflows: 0, maxIsLowerBound });
const row = (frameSize: number | string, ndrPps: number | null, p99: number, max: number, over: Record<string, unknown> = {}) => ({
  frameSize,
  durationS: 30,
  direction: 'bidirectional',
  flows: 1,
  ndrPps,
  pdrPps: ndrPps,
  ndr: { lossPercentLimit: 0.001, isLowerBound: false },
  pdr: { lossPercentLimit: 0.1, isLowerBound: false },
  latency: { where: '90 % of NDR, both directions merged', summary: summary(p99, max) },
  ...over,
});
const floor = { ndr: { lossPercentLimit: 0.001, isLowerBound: true, limitedBy: 'generator' } };

function caseOf(caseName: string, throughput: unknown, status: CaseResult['status'] = 'pass', details: Record<string, unknown> = {}): CaseResult {
  const recorded = { plan: { epsilonFraction: 0.001 }, generator: { name: 'softgen' }, forwarder: { kind: 'testpmd', forwardMode: 'io' }, ...details };
  return { caseName, tier: 'forwarding', projectName: 'kvmfornfv', status, startedAt: '', stoppedAt: '', durationMs: 0, testcases: [], details: throughput === undefined ? {} : { ...recorded, throughput }, rawOutputs: [] };
}

function runOf(cases: CaseResult[]): RunResult {
  return { cases } as unknown as RunResult;
}

describe('report/comparison buildForwardingComparison', () => {
  it('puts each case next to bare metal per frame size: NDR in percent, latency in ns', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('timer', undefined),
        caseOf('baremetal_forwarding', [row(64, 2_000_000, 10_000, 40_000), row(1518, 800_000, 12_000, 50_000)]),
        caseOf('ovs_dpdk_forwarding', [row(64, 1_500_000, 25_000, 90_000), row('imix', 900_000, 30_000, 100_000)]),
        caseOf('sriov_forwarding', [row(64, 1_900_000, 12_000, 45_000)]),
      ]),
    )!;
    expect(data.cases).to.deep.equal(['baremetal_forwarding', 'sriov_forwarding', 'ovs_dpdk_forwarding']);
    expect(data.frameSizes.map((f) => f.frameSize)).to.deep.equal(['64', '1518', 'imix']);
    const at64 = data.frameSizes[0]!.cells;
    expect(at64.map((c) => [c.caseName, c.ndrDeltaPercent, c.p99DeltaNs, c.maxDeltaNs])).to.deep.equal([
      ['baremetal_forwarding', 0, 0, 0],
      ['sriov_forwarding', -5, 2000, 5000],
      ['ovs_dpdk_forwarding', -25, 15_000, 50_000],
    ]);
    expect(at64[2]!.ndrVsBaseline).to.deep.equal({ kind: 'exact', value: -500_000, percent: -25 });
    expect(at64[2]!.p99VsBaseline).to.deep.equal({ kind: 'exact', value: 15_000, percent: 150 });
    expect(at64[2]!.conditions).to.deep.equal({ forwarder: 'testpmd io', accelerator: 'none recorded' });
    // imix ran only through OVS: bare metal has nothing to set it against.
    const imix = data.frameSizes[2]!.cells[0]!;
    expect(imix).to.deep.include({ caseName: 'ovs_dpdk_forwarding', ndrPps: 900_000, ndrIsLowerBound: false, p99Ns: 30_000, maxNs: 100_000, latencyWhere: '90 % of NDR, both directions merged', ndrDeltaPercent: null, p99DeltaNs: null, maxDeltaNs: null });
    expect(imix.ndrVsBaseline).to.deep.equal({ kind: 'not-comparable', reason: 'baremetal_forwarding has no NDR at this frame size' });
  });

  it('states exact against a floor as a one-sided bound, and a floor against a floor not at all', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000, floor)]),
        caseOf('sriov_forwarding', [row(64, 60_000, 12_000, 45_000)]),
        caseOf('ovs_dpdk_forwarding', [row(64, 25_000, 25_000, 90_000, floor)]),
      ]),
    )!;
    const [base, sriov, ovs] = data.frameSizes[0]!.cells;
    expect(base).to.deep.include({ ndrPps: 40_000, ndrIsLowerBound: true, ndrDeltaPercent: null, ndrVsBaseline: null });
    // Bare metal forwards at least 40 kpps: SR-IOV's 60 kpps is at most 50 % above it, maybe below.
    expect(sriov!.ndrVsBaseline).to.deep.equal({ kind: 'at-most', value: 20_000, percent: 50 });
    expect(sriov!.ndrDeltaPercent).to.equal(null);
    expect(ovs!.ndrVsBaseline?.kind).to.equal('not-comparable');
    expect((ovs!.ndrVsBaseline as { reason: string }).reason).to.include('both only lower bounds').and.include('either sign');
    expect(ovs!.ndrDeltaPercent).to.equal(null);
    // Latency is exact on both sides: still a signed difference.
    expect(ovs!.p99VsBaseline).to.deep.include({ kind: 'exact', value: 15_000 });
  });

  it('states an exact NDR against a bare metal that is exact, with a floor on the other side, as at least', () => {
    const data = buildForwardingComparison(runOf([caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000)]), caseOf('sriov_forwarding', [row(64, 30_000, 12_000, 45_000, floor)])]))!;
    expect(data.frameSizes[0]!.cells[1]!.ndrVsBaseline).to.deep.equal({ kind: 'at-least', value: -10_000, percent: -25 });
  });

  it('does not set a path against bare metal when the forwarder or the accelerator differs; KVM against bare metal is the comparison', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000)], 'pass', { forwarder: { kind: 'kernel', counters: {} } }),
        caseOf('sriov_forwarding', [row(64, 60_000, 12_000, 45_000)]),
      ]),
    )!;
    const sriov = data.frameSizes[0]!.cells[1]!;
    for (const d of [sriov.ndrVsBaseline, sriov.p99VsBaseline, sriov.maxVsBaseline]) {
      expect(d).to.deep.equal({ kind: 'not-comparable', reason: 'forwarder (forwarder, forward_mode) differs: baremetal_forwarding kernel, sriov_forwarding testpmd io' });
    }
    expect([sriov.ndrDeltaPercent, sriov.p99DeltaNs, sriov.maxDeltaNs]).to.deep.equal([null, null, null]);
    const vm = (accelerator: string) => buildForwardingComparison(runOf([caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000)]), caseOf('ovs_dpdk_forwarding', [row(64, 20_000, 30_000, 60_000)], 'pass', { accelerator })]))!.frameSizes[0]!.cells[1]!;
    expect(vm('kvm').ndrVsBaseline).to.deep.equal({ kind: 'exact', value: -20_000, percent: -50 });
    expect(vm('kvm').conditions).to.deep.equal({ forwarder: 'testpmd io', accelerator: 'kvm' });
    expect(vm('tcg').ndrVsBaseline).to.deep.equal({
      kind: 'not-comparable',
      reason: 'accelerator (accelerator) differs: baremetal_forwarding none recorded, ovs_dpdk_forwarding tcg: figures of an emulated or another hypervisor are not KVM\'s',
    });
  });

  it('converts microseconds, keeps a max that is only a bound as a bound, and an NDR not confirmed as none', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('baremetal_forwarding', [row(64, null, 0, 0, { latency: { where: 'w', summary: summary(10, 40, 'us') } })]),
        caseOf('sriov_forwarding', [row(64, 100, 0, 0, { latency: { where: 'w', summary: summary(12, 400, 'us', true) } })], 'fail'),
      ]),
    )!;
    const [base, sriov] = data.frameSizes[0]!.cells;
    expect([base!.p99Ns, base!.maxNs, base!.ndrPps, base!.ndrDeltaPercent]).to.deep.equal([10_000, 40_000, null, null]);
    expect([sriov!.p99Ns, sriov!.maxNs, sriov!.maxAtLeastNs, sriov!.p99DeltaNs, sriov!.maxDeltaNs, sriov!.ndrDeltaPercent]).to.deep.equal([12_000, null, 400_000, 2000, null, null]);
    expect(sriov!.maxVsBaseline).to.deep.equal({ kind: 'at-least', value: 360_000, percent: 900 });
    expect(sriov!.ndrVsBaseline?.kind).to.equal('not-comparable');
    expect(data.notes).to.deep.equal(['sriov_forwarding ended fail: its figures are shown but were not all judged']);
  });

  it('leaves out a latency the generator could not drive, and says so', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('baremetal_forwarding', [row(64, 2_000_000, 10_000, 40_000)]),
        caseOf('sriov_forwarding', [row(64, 1_900_000, 0, 0, { latency: { where: 'w', valid: false, invalidReasons: ['x'], summary: summary(5_000, 9_000) } })]),
      ]),
    )!;
    const sriov = data.frameSizes[0]!.cells[1]!;
    expect([sriov.p99Ns, sriov.maxNs, sriov.p99DeltaNs, sriov.ndrDeltaPercent]).to.deep.equal([null, null, null, -5]);
    expect(data.notes).to.deep.equal(['sriov_forwarding 64 B: the generator could not drive the latency trial; its latency is left out']);
  });

  it('is undefined when no forwarding case measured anything, and notes a missing baseline', () => {
    expect(buildForwardingComparison(runOf([caseOf('timer', undefined), caseOf('baremetal_forwarding', undefined, 'error')]))).to.equal(undefined);
    const data = buildForwardingComparison(runOf([caseOf('sriov_forwarding', [row(64, 1, 1, 1)]), caseOf('ovs_dpdk_forwarding', 'broken')]))!;
    expect(data.notes).to.deep.equal(['ovs_dpdk_forwarding: details.throughput is not a list; skipped', 'baremetal_forwarding did not run: no differences to bare metal']);
    expect(data.frameSizes[0]!.cells[0]!.ndrVsBaseline).to.equal(null);
  });
});

describe('report/comparison formatComparisonTable', () => {
  it('prints one block per frame size with signed differences between exact figures', () => {
    const data = buildForwardingComparison(
      runOf([caseOf('baremetal_forwarding', [row(64, 2_000_000, 10_000, 40_000)]), caseOf('ovs_dpdk_forwarding', [row(64, 1_500_000, 25_000, 90_000)])]),
    )!;
    const lines = formatComparisonTable(data).split('\n');
    expect(lines[1]).to.match(/^frame\s+case\s+forwarder \(where\)\s+NDR pps\s+vs bare metal\s+p99 us\s+vs bm\s+max us\s+vs bm$/);
    expect(lines[2]).to.match(/^64 B\s+baremetal\s+testpmd io \(no VM\)\s+2000000\s+\(baseline\)\s+10\s+40$/);
    expect(lines[3]).to.match(/^\s+ovs_dpdk\s+testpmd io \(no VM\)\s+1500000\s+-25 %\s+25\s+\+15\s+90\s+\+50$/);
  });

  it('prints the lab run\'s bare-metal floor as a floor and every difference to it as one-sided', () => {
    const data = buildForwardingComparison(loadLabAllRun())!;
    const lines = formatComparisonTable(data).split('\n');
    // Recorded: bare metal 64 B NDR >= 27316 pps (generator-limited), SR-IOV 46054, OVS-DPDK 28042 exact.
    expect(lines[2]).to.match(/^64 B\s+baremetal\s+\S.*?\)\s+≥ 27316\s+\(baseline\)/);
    expect(lines[3]).to.match(/^\s+sriov\s+\S.*?\)\s+46054\s+≤ \+68\.6 %/);
    expect(lines[4]).to.match(/^\s+ovs_dpdk\s+\S.*?\)\s+28042\s+≤ \+2\.66 %\s+15794\s+\+6947\s+20081\s+-42424$/);
    // 1518 B: bare metal exact, SR-IOV without a confirmed NDR.
    expect(lines[5]).to.match(/^1518 B\s+baremetal\s+\S.*?\)\s+4824\s+\(baseline\)/);
    expect(lines[6]).to.match(/^\s+sriov\s+\S.*?\)\s+\?\s+-\s+-\s+-\s+-\s+-$/);
    expect(lines[7]).to.match(/^\s+ovs_dpdk\s+\S.*?\)\s+27944\s+\+479 %/);
  });

  it('says once per case why a VM under TCG is not comparable, for all its figures', () => {
    const vm = (accelerator: string) => runOf([caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000), row(1518, 20_000, 9_000, 30_000)]), caseOf('sriov_forwarding', [row(64, 30_000, 20_000, 50_000), row(1518, 15_000, 12_000, 40_000)], 'pass', { accelerator })]);
    const text = formatComparisonTable(buildForwardingComparison(vm('tcg'))!);
    const notes = text.split('\n').filter((l) => l.startsWith('note:') && l.includes('not comparable'));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^note: 64 B sriov NDR, 64 B sriov p99, 64 B sriov max, 1518 B sriov NDR, 1518 B sriov p99, 1518 B sriov max: not comparable: accelerator .* differs/);
    expect(text).to.match(/sriov\s+testpmd io \(VM, TCG\)/);
  });

  it('marks two floors n/c and says why under the table', () => {
    const data = buildForwardingComparison(runOf([caseOf('baremetal_forwarding', [row(64, 40_000, 10_000, 40_000, floor)]), caseOf('ovs_dpdk_forwarding', [row(64, 25_000, 25_000, 90_000, floor)])]))!;
    const text = formatComparisonTable(data);
    expect(text.split('\n')[3]).to.match(/^\s+ovs_dpdk\s+\S.*?\)\s+≥ 25000\s+n\/c\s+25\s+\+15/);
    expect(text).to.include('note: 64 B ovs_dpdk NDR: not comparable: ovs_dpdk_forwarding\'s ndr and baremetal_forwarding\'s ndr are both only lower bounds');
  });
});
