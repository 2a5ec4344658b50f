import { expect } from 'chai';
import { buildForwardingComparison, formatComparisonTable } from '../../../lib/report/comparison.ts';
import type { CaseResult, RunResult } from '../../../lib/results/model.ts';

const summary = (p99: number, max: number, unit: 'ns' | 'us' = 'ns', maxIsLowerBound = false) => ({ unit, samples: 1000, min: 1, avg: 2, max, p50: 1, p99, p999: null, p9999: null, notes: {}, overflows: 0, maxIsLowerBound });
const row = (frameSize: number | string, ndrPps: number | null, p99: number, max: number, over: Record<string, unknown> = {}) => ({
  frameSize,
  durationS: 30,
  ndrPps,
  pdrPps: ndrPps,
  ndr: { isLowerBound: false },
  latency: { where: '90 % of NDR, both directions merged', summary: summary(p99, max) },
  ...over,
});

function caseOf(caseName: string, throughput: unknown, status: CaseResult['status'] = 'pass'): CaseResult {
  return { caseName, tier: 'forwarding', projectName: 'kvmfornfv', status, startedAt: '', stoppedAt: '', durationMs: 0, testcases: [], details: throughput === undefined ? {} : { throughput }, rawOutputs: [] };
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
    // imix ran only through OVS: no baseline to subtract.
    expect(data.frameSizes[2]!.cells).to.deep.include({ caseName: 'ovs_dpdk_forwarding', ndrPps: 900_000, ndrIsLowerBound: false, p99Ns: 30_000, maxNs: 100_000, latencyWhere: '90 % of NDR, both directions merged', ndrDeltaPercent: null, p99DeltaNs: null, maxDeltaNs: null });
  });

  it('converts microseconds, and leaves out a max that is only a bound and an NDR not confirmed', () => {
    const data = buildForwardingComparison(
      runOf([
        caseOf('baremetal_forwarding', [row(64, null, 0, 0, { latency: { where: 'w', summary: summary(10, 40, 'us') } })]),
        caseOf('sriov_forwarding', [row(64, 100, 0, 0, { latency: { where: 'w', summary: summary(12, 400, 'us', true) } })], 'fail'),
      ]),
    )!;
    const [base, sriov] = data.frameSizes[0]!.cells;
    expect([base!.p99Ns, base!.maxNs]).to.deep.equal([10_000, 40_000]);
    expect([sriov!.p99Ns, sriov!.maxNs, sriov!.p99DeltaNs, sriov!.ndrDeltaPercent]).to.deep.equal([12_000, null, 2000, null]);
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
    expect(data.notes).to.deep.equal(['ovs_dpdk_forwarding: details.throughput is not a list; left out', 'baremetal_forwarding did not run: no differences to bare metal']);
  });
});

describe('report/comparison formatComparisonTable', () => {
  it('prints one block per frame size with signed differences', () => {
    const data = buildForwardingComparison(
      runOf([caseOf('baremetal_forwarding', [row(64, 2_000_000, 10_000, 40_000)]), caseOf('ovs_dpdk_forwarding', [row(64, 1_500_000, 25_000, 90_000, { ndr: { isLowerBound: true } })])]),
    )!;
    const lines = formatComparisonTable(data).split('\n');
    expect(lines[1]).to.match(/^frame\s+case\s+NDR pps\s+vs bare metal\s+p99 us\s+vs bm\s+max us\s+vs bm$/);
    expect(lines[2]).to.match(/^64 B\s+baremetal\s+2000000\s+\(baseline\)\s+10\s+40$/);
    expect(lines[3]).to.match(/^\s+ovs_dpdk\s+1500000\*\s+-25 %\s+25\s+\+15\s+90\s+\+50$/);
  });
});
