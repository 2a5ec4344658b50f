// What the report's view model says about advisory findings and bounds, on the recorded lab
// run (test/fixtures/report/lab-all.run.source.md): a failed advisory check is a finding with
// its fix and never a pass, and a difference to a lower bound is never exact.
import { expect } from 'chai';
import { buildForwardingComparison } from '../../../lib/report/comparison.ts';
import { compareFigures } from '../../../lib/report/html/compare-view.ts';
import { buildRunView } from '../../../lib/report/html/view-model.ts';
import { loadLabAllRun } from '../../fixtures/report/lab-runs.ts';

describe('report/html view model: findings and bounds', () => {
  it('shows the forwarding comparison of lib/report/comparison.ts in Mpps and us, a floor and every difference to it as bounds', () => {
    const run = loadLabAllRun();
    run.comparison = buildForwardingComparison(run);
    const section = buildRunView({ run }).comparison!;
    if (section.kind !== 'forwarding') throw new Error(`expected the forwarding view, got ${section.kind}`);
    const at64 = section.rows.filter((r) => r.frameSize === '64');
    // Recorded (lab-all.run.source.md): bare metal 64 B NDR >= 27316 pps, SR-IOV 46054, OVS-DPDK 28042.
    expect(at64.map((r) => [r.caseName, r.ndrMpps, r.ndrIsLowerBound, r.ndrVs?.kind])).to.deep.equal([
      ['baremetal_forwarding', 0.027316, true, undefined],
      ['sriov_forwarding', 0.046054, false, 'at-most'],
      ['ovs_dpdk_forwarding', 0.028042, false, 'at-most'],
    ]);
    expect((at64[1]!.ndrVs as { value: number }).value).to.be.closeTo(68.597, 1e-3);
    // Latency is exact on both sides, in µs.
    expect(at64[2]!.p99Vs).to.deep.include({ kind: 'exact' });
    expect((at64[2]!.p99Vs as { value: number }).value).to.be.closeTo(6946.816, 1e-6);
    expect(at64[2]).to.deep.include({ forwarder: 'testpmd io', accelerator: 'none recorded', latencyWhere: '90 % of NDR, both directions merged' });
    const ndr = section.charts[0]!;
    expect(ndr.series.map((x) => [x.name, x.bounds])).to.deep.equal([['baremetal_forwarding', [true, false]], ['sriov_forwarding', [false, false]], ['ovs_dpdk_forwarding', [false, false]]]);
    expect(section.charts[1]!.series.every((x) => x.bounds.every((b) => !b))).to.equal(true);
  });

  it('rebuilds a comparison written before schema 1.2.0, whose differences were signed against a floor', () => {
    const run = loadLabAllRun();
    run.schemaVersion = '1.1.0';
    const legacy = structuredClone(buildForwardingComparison(run)!);
    for (const c of legacy.frameSizes.flatMap((f) => f.cells)) {
      delete c.ndrVsBaseline;
      delete c.p99VsBaseline;
      delete c.maxVsBaseline;
    }
    legacy.frameSizes[0]!.cells[1]!.ndrDeltaPercent = 68.597; // as 1.1 wrote it: signed against the floor
    run.comparison = legacy;
    const section = buildRunView({ run }).comparison!;
    if (section.kind !== 'forwarding') throw new Error(`expected the forwarding view, got ${section.kind}`);
    expect(section.rows[1]!.ndrVs?.kind).to.equal('at-most');
    expect(section.notes[0]).to.equal('rebuilt from the cases: this results.json (schema 1.1.0) predates bounded differences');
    // Without the cases to rebuild from, a signed difference next to a floor is not shown.
    run.cases = [];
    const bare = buildRunView({ run }).comparison!;
    if (bare.kind !== 'forwarding') throw new Error(`expected the forwarding view, got ${bare.kind}`);
    expect(bare.rows[1]!.ndrVs?.kind).to.equal('not-comparable');
  });

  it('shows a failed advisory check as an advisory finding with expected, found and fix, counted apart from passes', () => {
    const view = buildRunView({ run: loadLabAllRun() });
    const preflight = view.cases[0]!;
    const rt = preflight.testcases.find((t) => t.title === 'host: kernel.preempt-rt PREEMPT_RT kernel')!;
    expect(rt.status).to.equal('advisory');
    expect(rt.message).to.equal('expected a PREEMPT_RT kernel: /sys/kernel/realtime is 1, or uname -v names PREEMPT_RT; found uname -r 6.18.44-fc-v1300; uname -v "#1 SMP PREEMPT_DYNAMIC @0"; /sys/kernel/realtime absent; fix: boot a PREEMPT_RT kernel (Debian linux-image-rt-amd64, RHEL kernel-rt, or CONFIG_PREEMPT_RT=y)');
    expect(preflight.testcases.filter((t) => t.status === 'advisory')).to.have.length(28);
    expect(view.summary.testcaseCounts).to.deep.equal({ pass: 44, advisory: 28, fail: 0, error: 0, skip: 37 });
    expect(view.summary.caseCounts).to.deep.equal({ pass: 6, fail: 0, error: 0, skip: 0 });
    expect(view.findings).to.have.length(28);
    expect(view.findings[0]).to.deep.include({ caseName: 'preflight', node: 'host', check: 'kernel.preempt-rt', found: 'uname -r 6.18.44-fc-v1300; uname -v "#1 SMP PREEMPT_DYNAMIC @0"; /sys/kernel/realtime absent' });
  });

  it('report --vs: a difference to a reference floor is one-sided, two floors are not comparable, and better or worse only when the sign is known', () => {
    const run = loadLabAllRun();
    const other = loadLabAllRun();
    other.runId = 'reference';
    const sriov = (other.cases.find((c) => c.caseName === 'sriov_forwarding')!.details.throughput as { frameSize: number; ndrPps: number; ndr: Record<string, unknown> }[])[0]!;
    sriov.ndrPps = 57_568;
    sriov.ndr.isLowerBound = true;
    const rows = compareFigures(run, other);
    const row = (label: string) => rows.find((r) => r.label === label)!;
    // This run's 46054 pps against a reference of at least 57568 pps: at most -20 %, worse for sure.
    expect(row('sriov_forwarding: 64 B frames ndr')).to.deep.include({ otherBound: true, better: false });
    expect(row('sriov_forwarding: 64 B frames ndr').change).to.deep.include({ kind: 'at-most' });
    expect((row('sriov_forwarding: 64 B frames ndr').change as { value: number }).value).to.be.closeTo(-20, 0.01);
    expect(row('baremetal_forwarding: 64 B frames ndr')).to.deep.include({ runBound: true, otherBound: true, better: null });
    expect(row('baremetal_forwarding: 64 B frames ndr').change.kind).to.equal('not-comparable');
    // A reference floor below this run's exact figure: at most +X %, so better is not known.
    sriov.ndrPps = 40_000;
    const up = compareFigures(run, other).find((r) => r.label === 'sriov_forwarding: 64 B frames ndr')!;
    expect(up.change.kind).to.equal('at-most');
    expect(up.better).to.equal(null);
  });
});
