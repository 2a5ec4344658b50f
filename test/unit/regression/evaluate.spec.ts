import { expect } from 'chai';
import { evaluateRegression, type RegressionReport } from '../../../lib/regression/evaluate.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadBaseline, timerOf, trialOf, withRun } from './runs.ts';

const ID = {
  ndr64: 'ovs_dpdk_forwarding pod 64 B frames ndr',
  pdr64: 'ovs_dpdk_forwarding pod 64 B frames pdr',
  guestP99: 'timer guest guest all threads p99',
  guestMax: 'timer guest guest all threads max',
  hostP99: 'timer host host all threads p99',
};

function evaluate(current: RunResult, options: { baseline?: RunResult | null; section?: unknown; isLab?: boolean } = {}): RegressionReport {
  const baseline = options.baseline === null ? undefined : (options.baseline ?? loadBaseline());
  const input = { current, baseline, profileSection: options.section, profileFile: 'thresholds.yaml' };
  return evaluateRegression(options.isLab === undefined ? input : { ...input, isLab: options.isLab });
}

const compared = (r: RegressionReport, id: string) => r.compared.find((c) => c.id === id);
const notCompared = (r: RegressionReport, id: string) => r.notCompared.find((n) => n.id === id);

describe('regression/evaluate: verdicts', () => {
  it('passes every figure of an identical run and says what it compared', () => {
    const r = evaluate(withRun());
    expect(r.compared).to.have.length(8);
    expect(r.notCompared).to.deep.equal([]);
    expect(r.compared.every((c) => c.verdict === 'pass')).to.equal(true);
    expect(r.failing).to.equal(false);
    expect(compared(r, ID.guestP99)?.comparedOn).to.include('kernel of host 4.4.50-rt62nfv').and.include('QEMU on host 2.6.0').and.include('duration 60 s').and.include('load idle');
    expect(r.summary).to.match(/^no regression against run 20261120-020000-aaaa/);
  });

  const throughputTable = [
    { drop: '15 %', ndr: 8_500_000, verdict: 'regression', failing: true },
    { drop: '5 %', ndr: 9_500_000, verdict: 'pass', failing: false },
    { drop: 'exactly 10 % (90 % of the baseline passes)', ndr: 9_000_000, verdict: 'pass', failing: false },
    { drop: '10.1 %', ndr: 8_990_000, verdict: 'regression', failing: true },
  ];
  for (const row of throughputTable) {
    it(`throughput drop of ${row.drop} → ${row.verdict}`, () => {
      const r = evaluate(withRun((run) => (trialOf(run, 64).ndrPps = row.ndr)));
      const c = compared(r, ID.ndr64);
      expect(c?.verdict).to.equal(row.verdict);
      expect(r.failing).to.equal(row.failing);
      expect(c?.baseline).to.equal(10_000_000);
      expect(c?.current).to.equal(row.ndr);
      expect(c?.deltaPercent).to.be.closeTo(((row.ndr - 10_000_000) / 10_000_000) * 100, 1e-9);
    });
  }

  it('names the figure, the change and the allowance in a regression message', () => {
    const r = evaluate(withRun((run) => (trialOf(run, 64).ndrPps = 8_500_000)));
    expect(compared(r, ID.ndr64)?.message).to.equal('pod 64 B frames ndr: 8500000 pps vs baseline 10000000 pps (-15.0 %; allowed at least 90 % of the baseline): regression');
    expect(r.summary).to.match(/^REGRESSION against run 20261120-020000-aaaa .*: 1 regression \(1 assert\), 8 compared, 0 missing, 0 not compared, 0 new$/);
  });

  const latencyTable = [
    { what: 'p99 +25 % (margin 20 %)', set: { p99: 25 }, id: ID.guestP99, verdict: 'regression' },
    { what: 'p99 +15 %', set: { p99: 23 }, id: ID.guestP99, verdict: 'pass' },
    { what: 'p99 +20 % exactly', set: { p99: 24 }, id: ID.guestP99, verdict: 'pass' },
    { what: 'max +60 % (margin 50 %)', set: { max: 64 }, id: ID.guestMax, verdict: 'regression' },
    { what: 'max +40 %', set: { max: 56 }, id: ID.guestMax, verdict: 'pass' },
    { what: 'p99 improved by half', set: { p99: 10 }, id: ID.guestP99, verdict: 'pass' },
  ];
  for (const row of latencyTable) {
    it(`guest ${row.what} → ${row.verdict}`, () => {
      const r = evaluate(withRun((run) => Object.assign(timerOf(run, 'guest').overall.summary, row.set)));
      expect(compared(r, row.id)?.verdict).to.equal(row.verdict);
      expect(r.failing).to.equal(row.verdict === 'regression');
    });
  }

  it('takes margins and actions per case and metric from the profile', () => {
    const current = withRun((run) => (timerOf(run, 'guest').overall.summary.p99 = 25));
    expect(compared(evaluate(current, { section: { cases: { timer: { p99: { margin_percent: 30 } } } } }), ID.guestP99)?.verdict).to.equal('pass');
    const monitored = evaluate(current, { section: { metrics: { p99: { action: 'monitor' } } } });
    expect(compared(monitored, ID.guestP99)).to.include({ verdict: 'regression', action: 'monitor', effectiveAction: 'monitor' });
    expect(monitored.failing).to.equal(false);
    expect(monitored.summary).to.match(/^regression monitored /);
  });

  it('ignores a rise smaller than min_delta_us even when the percentage is large', () => {
    const current = withRun((run) => (timerOf(run, 'host').overall.summary.p99 = 13));
    expect(compared(evaluate(current), ID.hostP99)?.verdict).to.equal('regression');
    expect(compared(evaluate(current, { section: { metrics: { p99: { min_delta_us: 5 } } } }), ID.hostP99)?.verdict).to.equal('pass');
  });

  it('converts units before comparing (baseline in us, this run in ns)', () => {
    const current = withRun((run) => Object.assign(timerOf(run, 'guest').overall.summary, { unit: 'ns', p99: 26_000, max: 40_000 }));
    const r = evaluate(current);
    expect(compared(r, ID.guestP99)).to.include({ verdict: 'regression', baseline: 20_000, current: 26_000, unit: 'ns' });
    expect(compared(r, ID.guestMax)?.verdict).to.equal('pass');
  });
});

describe('regression/evaluate: like with like', () => {
  it('does not compare figures measured over a different duration, and says why', () => {
    const r = evaluate(withRun((run) => (timerOf(run, 'guest').durationS = 5)));
    const n = notCompared(r, ID.guestMax);
    expect(n?.kind).to.equal('not-comparable');
    expect(n?.reason).to.include('baseline ran 60 s, this run 5 s: max and percentiles over different lengths mislead');
    expect(compared(r, ID.hostP99)?.verdict).to.equal('pass');
  });

  it('does not compare across a kernel change on the host, for host and guest figures alike', () => {
    const current = withRun((run) => {
      (run.nodes.host as { kernelRelease: string }).kernelRelease = '4.4.60-rt73nfv';
      timerOf(run, 'guest').overall.summary.p99 = 60;
    });
    const r = evaluate(current);
    expect(notCompared(r, ID.guestP99)?.reason).to.include('kernel of host differs (baseline 4.4.50-rt62nfv').and.include('this run 4.4.60-rt73nfv');
    expect(notCompared(r, ID.hostP99)?.kind).to.equal('not-comparable');
    expect(r.failing).to.equal(false);
    // A gate that judges a kernel change asks for the comparison explicitly.
    const across = evaluate(current, { section: { compare_across: ['kernel'] } });
    expect(compared(across, ID.guestP99)?.verdict).to.equal('regression');
    expect(compared(across, ID.guestP99)?.waived.join()).to.include('kernel of host changed from 4.4.50-rt62nfv');
  });

  it('does not compare across a QEMU change or a different load', () => {
    const qemu = evaluate(withRun((run) => ((run.nodes.host as { qemuVersion: string }).qemuVersion = '2.9.0')));
    expect(notCompared(qemu, ID.guestP99)?.reason).to.include('QEMU on host differs (baseline 2.6.0, this run 2.9.0)');
    const load = evaluate(withRun((run) => (timerOf(run, 'guest').load = 'cpu (stress-ng --cpu 2)')));
    expect(notCompared(load, ID.guestP99)?.reason).to.include('baseline ran under load idle');
  });

  it('refuses to compare when a kernel was not recorded', () => {
    const r = evaluate(withRun((run) => delete run.nodes.guest));
    expect(notCompared(r, ID.guestP99)?.reason).to.include('kernel of guest not recorded in this run');
  });

  it('compares a different pod or profile with nothing', () => {
    const r = evaluate(withRun((run) => (run.pod.name = 'intel-pod12')));
    expect(r.compared).to.deep.equal([]);
    expect(notCompared(r, ID.ndr64)?.reason).to.include('pod differs: baseline intel-pod10, this run intel-pod12');
  });
});

describe('regression/evaluate: lab, new figures, bounds', () => {
  it('only monitors on the lab pod and says so', () => {
    const current = withRun((run) => {
      run.pod.lab = true;
      trialOf(run, 64).ndrPps = 5_000_000;
    });
    const r = evaluate(current);
    expect(compared(r, ID.ndr64)).to.include({ verdict: 'regression', action: 'assert', effectiveAction: 'monitor' });
    expect(r).to.include({ failing: false, regressions: 1, monitorOnly: true });
    expect(r.summary).to.include('lab pod: regressions are monitored only and never fail the run');
  });

  it('calls figures with no baseline counterpart new, not regressions', () => {
    const baseline = loadBaseline();
    delete (baseline.cases[0] as { details: Record<string, unknown> }).details.guest;
    trialOf(baseline, 64).pdrPps = null;
    const r = evaluate(withRun((run) => (timerOf(run, 'guest').overall.summary.p99 = 500)), { baseline });
    expect(notCompared(r, ID.guestP99)).to.include({ kind: 'new' });
    expect(notCompared(r, ID.pdr64)).to.include({ kind: 'unavailable' });
    expect(notCompared(r, ID.pdr64)?.reason).to.include('the baseline has no pdr');
    expect(r.failing).to.equal(false);
    expect(r.summary).to.include('2 new');
  });

  it('calls every figure new when there is no baseline or the baseline lacks the case', () => {
    const none = evaluate(withRun(), { baseline: null });
    expect(none.notCompared).to.have.length(8);
    expect(none.notCompared.every((n) => n.kind === 'new')).to.equal(true);
    const baseline = loadBaseline();
    baseline.cases = baseline.cases.filter((c) => c.caseName === 'timer');
    expect(notCompared(evaluate(withRun(), { baseline }), ID.ndr64)?.reason).to.include('did not run ovs_dpdk_forwarding');
  });

  it('judges an overflowed max by its lower bound only when the bound decides', () => {
    const overflowed = (atLeast: number) =>
      withRun((run) => Object.assign(timerOf(run, 'guest').overall.summary, { max: atLeast, maxIsLowerBound: true, notes: { max: 'histogram overflowed' } }));
    expect(compared(evaluate(overflowed(20000)), ID.guestMax)).to.include({ verdict: 'regression', fromBound: true });
    const undecided = notCompared(evaluate(overflowed(45)), ID.guestMax);
    expect(undecided?.kind).to.equal('unavailable');
    expect(undecided?.reason).to.include('histogram overflowed');
  });

  // A generator-limited NDR is a floor: the device may forward more than the generator sent.
  it('judges a generator-limited NDR by its floor only when the floor decides', () => {
    const floor = (run: RunResult, pps: number) => {
      trialOf(run, 64).ndrPps = pps;
      Object.assign((trialOf(run, 64) as unknown as { ndr: Record<string, unknown> }).ndr, { isLowerBound: true, limitedBy: 'generator' });
    };
    // This run's floor at 95 % of the baseline: whatever the true NDR, it is within the margin.
    const passed = compared(evaluate(withRun((run) => floor(run, 9_500_000))), ID.ndr64);
    expect(passed).to.include({ verdict: 'pass', fromBound: true });
    // The difference is stated as a bound, never as an exact -5 %.
    expect(passed?.change).to.deep.include({ kind: 'at-least', percent: -5 });
    expect(passed?.message).to.include('>= 9500000 pps vs baseline 10000000 pps (≥ -5.0 %;');
    // At 50 %: the true NDR may still be higher, so no verdict, and no false regression.
    const undecided = notCompared(evaluate(withRun((run) => floor(run, 5_000_000))), ID.ndr64);
    expect(undecided?.kind).to.equal('unavailable');
    expect(undecided?.reason).to.include('lower bound').and.include('limited by the generator');
    // A baseline floor: 95 % of it is not a pass (the baseline may have been far higher)...
    const baseline = loadBaseline();
    floor(baseline, 10_000_000);
    expect(notCompared(evaluate(withRun((run) => (trialOf(run, 64).ndrPps = 9_500_000)), { baseline }), ID.ndr64)?.kind).to.equal('unavailable');
    // ...but 80 % of it is a regression whatever the baseline's true NDR was.
    const below = compared(evaluate(withRun((run) => (trialOf(run, 64).ndrPps = 8_000_000)), { baseline }), ID.ndr64);
    expect(below).to.include({ verdict: 'regression', fromBound: true });
    expect(below?.change).to.deep.include({ kind: 'at-most', percent: -20 });
    expect(below?.message).to.include('8000000 pps vs baseline >= 10000000 pps (≤ -20.0 %;');
    // Both only floors: no difference can be stated at all.
    const both = notCompared(evaluate(withRun((run) => floor(run, 20_000_000)), { baseline }), ID.ndr64);
    expect(both?.kind).to.equal('unavailable');
    expect(both?.reason).to.include('both only lower bounds').and.include('either sign');
  });

  it('compares what an errored case kept, skips a skipped case and a case with no extractor, with notes', () => {
    const current = withRun((run) => {
      (run.cases[1] as { status: string }).status = 'error';
      (run.cases[0] as { status: string }).status = 'skip';
      run.cases.push({ ...(run.cases[0] as RunResult['cases'][number]), caseName: 'preflight', details: {} });
    });
    const r = evaluate(current);
    expect(r.notes).to.include('ovs_dpdk_forwarding: ended error in this run; the figures it kept are compared, and those the baseline had and it lacks are regressions');
    expect(r.notes).to.include('timer: ended skip in this run; its figures are not compared');
    expect(r.notes).to.include('preflight: no regression figures are defined for this case; skipped');
    expect(r.compared.map((c) => c.caseName)).to.deep.equal(Array(4).fill('ovs_dpdk_forwarding'));
    expect(r.missing).to.deep.equal([]);
  });

  it('never compares a run with itself', () => {
    const run = loadBaseline();
    const r = evaluate(run, { baseline: run });
    expect(r.compared).to.deep.equal([]);
    expect(r.notCompared[0]?.reason).to.equal('the baseline is this run itself');
  });
});
