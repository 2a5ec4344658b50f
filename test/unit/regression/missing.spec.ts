// A figure the baseline measured and this comparable run did not is a regression: a path that
// stopped forwarding has no NDR, and that must not pass the gate as "not compared".
import { expect } from 'chai';
import { evaluateRegression, type RegressionReport } from '../../../lib/regression/evaluate.ts';
import { buildRegressionTestcases } from '../../../lib/regression/testcases.ts';
import type { RunResult, TestcaseResult } from '../../../lib/results/model.ts';
import { forwardingOf, loadBaseline, timerCaseOf, timerOf, trialOf, withDeviceInterrupt, withRun } from './runs.ts';

const ID = {
  ndr64: 'ovs_dpdk_forwarding pod 64 B frames ndr',
  ndr1518: 'ovs_dpdk_forwarding pod 1518 B frames ndr',
  pdr1518: 'ovs_dpdk_forwarding pod 1518 B frames pdr',
  guestP99: 'timer guest guest all threads p99',
  guestMax: 'timer guest guest all threads max',
  wireP99: 'device_interrupt guest wire_to_handler p99',
};

function evaluate(current: RunResult, options: { baseline?: RunResult; section?: unknown } = {}): RegressionReport {
  return evaluateRegression({ current, baseline: options.baseline ?? loadBaseline(), profileSection: options.section, profileFile: 'thresholds.yaml' });
}

const missing = (r: RegressionReport, id: string) => r.missing.find((m) => m.id === id);
const notCompared = (r: RegressionReport, id: string) => r.notCompared.find((n) => n.id === id);

/** NDR of 64 B frames not confirmed: the search found nothing the verification kept. */
const stoppedForwarding = (run: RunResult) => {
  const t = trialOf(run, 64) as unknown as { ndrPps: null; ndr: Record<string, unknown> };
  t.ndrPps = null;
  Object.assign(t.ndr, { confirmedPps: null, confirmedBy: null, searchPps: 0, status: 'no rate passed' });
};

const test = (title: string, status: TestcaseResult['status'], message?: string): TestcaseResult => ({
  title, classname: 'kvmfornfv.x', status, durationMs: 0, properties: {}, measurements: {}, ...(message ? { message } : {}),
});

describe('regression/evaluate: missing figures', () => {
  it('calls an NDR the baseline had and this run lost a regression, with the baseline run and the reason', () => {
    const r = evaluate(withRun(stoppedForwarding));
    const m = missing(r, ID.ndr64);
    expect(m).to.include({ verdict: 'regression', action: 'assert', effectiveAction: 'assert', baseline: 10_000_000, baselineIsBound: false });
    expect(m?.message).to.equal(
      'pod 64 B frames ndr: measured in the baseline run 20261120-020000-aaaa (10000000 pps), missing in this run '
        + '(NDR not confirmed: the search found 0 pps per direction (no rate passed) and no verification trial passed): regression',
    );
    expect(m?.comparedOn).to.include('traffic generator (generator) trex').and.include('NDR loss tolerance (ndr_loss_percent) 0.001 %');
    expect(notCompared(r, ID.ndr64)).to.equal(undefined);
    expect(r).to.include({ failing: true, regressions: 1 });
    expect(r.summary).to.match(/^REGRESSION .*: 1 regression \(1 assert\), 7 compared, 1 missing, 0 not compared, 0 new$/);
  });

  it('follows the action rules: monitored only on the lab pod, or when the profile says monitor', () => {
    const lab = evaluate(withRun((run) => {
      run.pod.lab = true;
      stoppedForwarding(run);
    }));
    expect(missing(lab, ID.ndr64)).to.include({ action: 'assert', effectiveAction: 'monitor' });
    expect(lab).to.include({ failing: false, regressions: 1 });
    expect(lab.summary).to.match(/^regression monitored .*lab pod/);
    const monitored = evaluate(withRun(stoppedForwarding), { section: { cases: { ovs_dpdk_forwarding: { ndr: { action: 'monitor' } } } } });
    expect(missing(monitored, ID.ndr64)).to.include({ action: 'monitor', effectiveAction: 'monitor' });
    expect(monitored.failing).to.equal(false);
  });

  it('calls a latency percentile that became null a regression, with the summary\'s reason', () => {
    const r = evaluate(withRun((run) => Object.assign(timerOf(run, 'guest').overall.summary, { p99: null, notes: { p99: 'needs at least 100 samples, had 12' } })));
    expect(missing(r, ID.guestP99)?.message).to.include('missing in this run (needs at least 100 samples, had 12)');
    expect(r.failing).to.equal(true);
  });

  it('counts a frame size the case planned and did not measure (it errored) as missing, with the error of its test', () => {
    const why = 'the VNF (dpdk-testpmd) on guest had stopped before the end of the case (exit code 139)';
    const r = evaluate(withRun((run) => {
      const fwd = forwardingOf(run);
      fwd.status = 'error';
      fwd.details.throughput = (fwd.details.throughput as { frameSize: number }[]).filter((t) => t.frameSize === 64);
      fwd.testcases = [test('64 B: measured', 'pass'), test('1518 B: measured', 'error', why)];
    }));
    expect(r.missing.map((m) => m.id)).to.deep.equal([ID.ndr1518, ID.pdr1518]);
    expect(missing(r, ID.ndr1518)?.why).to.equal(why);
    expect(missing(r, ID.ndr1518)?.comparedOn).to.include('frame size 1518 B').and.include('duration 60 s');
    expect(r.compared.filter((c) => c.caseName === 'ovs_dpdk_forwarding')).to.have.length(2);
    expect(r.failing).to.equal(true);
  });

  it('does not hold a frame size this run\'s plan left out against it, and names the argument and both values', () => {
    const r = evaluate(withRun((run) => {
      const fwd = forwardingOf(run);
      (fwd.details.plan as { frameSizes: number[] }).frameSizes = [64];
      fwd.details.throughput = (fwd.details.throughput as { frameSize: number }[]).filter((t) => t.frameSize === 64);
    }));
    expect(r.missing).to.deep.equal([]);
    expect(notCompared(r, ID.ndr1518)).to.include({ kind: 'not-comparable', reason: 'frame sizes (frame_sizes) differ: the baseline measured 1518 B, this run\'s plan has 64 B' });
    expect(r.failing).to.equal(false);
  });

  it('counts every figure of a case that died before measuring as missing, leaving unrecorded conditions unchecked', () => {
    const r = evaluate(withRun((run) => {
      const fwd = forwardingOf(run);
      Object.assign(fwd, { status: 'error', reason: 'topology setup failed: ovs-vswitchd-dpdk did not start' });
      fwd.details = { plan: fwd.details.plan };
    }));
    expect(r.missing.filter((m) => m.caseName === 'ovs_dpdk_forwarding')).to.have.length(4);
    const m = missing(r, ID.ndr64);
    expect(m?.why).to.equal('topology setup failed: ovs-vswitchd-dpdk did not start');
    expect(m?.unrecorded).to.include.members(['traffic generator (generator)', 'forwarder (forwarder, forward_mode)', 'direction (direction)']);
    expect(m?.message).to.include('not recorded in this run, so not checked: traffic generator (generator)');
    // Conditions this run did record still had to match.
    expect(m?.comparedOn).to.include('duration 60 s').and.include('search resolution (search_resolution_percent) 0.1 %');
  });

  it('does not call a missing figure a regression when a condition recorded in both runs differs', () => {
    const r = evaluate(withRun((run) => {
      stoppedForwarding(run);
      (forwardingOf(run).details.generator as { name: string }).name = 'softgen';
    }));
    expect(r.missing).to.deep.equal([]);
    expect(notCompared(r, ID.ndr64)).to.include({ kind: 'not-comparable' });
    expect(notCompared(r, ID.ndr64)?.reason).to.include('traffic generator (generator) differs: baseline trex, this run softgen');
  });

  it('counts a timer node that could not measure as missing, and a node this run did not plan as not comparable', () => {
    const why = 'not measured: cyclictest is missing on guest and no apt-get, dnf or yum was found';
    const failed = evaluate(withRun((run) => {
      const timer = timerCaseOf(run);
      timer.status = 'error';
      delete timer.details.guest;
      timer.testcases = [test('host: cyclictest measured every thread', 'pass'), test('guest: cyclictest measured every thread', 'error', why)];
    }));
    expect(failed.missing.map((m) => [m.id, m.why])).to.deep.equal([[ID.guestP99, why], [ID.guestMax, why]]);
    // The node that measured gives the arguments both ran with.
    expect(missing(failed, ID.guestP99)?.comparedOn).to.include('load idle').and.include('cyclictest interval (interval_us) 1000 us');
    const dropped = evaluate(withRun((run) => {
      const timer = timerCaseOf(run);
      delete timer.details.guest;
      timer.testcases = [test('host: cyclictest measured every thread', 'pass')];
    }));
    expect(dropped.missing).to.deep.equal([]);
    expect(notCompared(dropped, ID.guestP99)?.reason).to.include('node guest was measured in the baseline run and is not part of this run');
  });

  it('counts a baseline max known only as a lower bound as measured', () => {
    const baseline = loadBaseline();
    Object.assign(timerOf(baseline, 'guest').overall.summary, { max: 20000, maxIsLowerBound: true, notes: {} });
    const r = evaluate(withRun((run) => delete timerCaseOf(run).details.guest), { baseline });
    expect(missing(r, ID.guestMax)).to.include({ baseline: 20000, baselineIsBound: true });
    expect(missing(r, ID.guestMax)?.message).to.include('(>= 20000 us), missing in this run');
  });

  it('leaves a figure neither run has, and a skipped case, out of the regressions', () => {
    const baseline = loadBaseline();
    stoppedForwarding(baseline);
    const neither = evaluate(withRun(stoppedForwarding), { baseline });
    expect(notCompared(neither, ID.ndr64)).to.include({ kind: 'unavailable' });
    expect(notCompared(neither, ID.ndr64)?.reason).to.match(/^neither run has ndr: NDR not confirmed/);
    expect(neither.missing).to.deep.equal([]);
    const skipped = evaluate(withRun((run) => {
      forwardingOf(run).status = 'skip';
      forwardingOf(run).details = {};
    }));
    expect(skipped.missing).to.deep.equal([]);
    expect(skipped.failing).to.equal(false);
  });

  it('calls a device_interrupt latency that vanished under the same clock case a regression, and not under another', () => {
    const baseline = withDeviceInterrupt(loadBaseline());
    const lost = evaluate(withRun((run) => withDeviceInterrupt(run, (d) => Object.assign(d.wire_to_handler, { summary: null, reason: 'every frame lacked a send timestamp' }))), { baseline });
    expect(missing(lost, ID.wireP99)?.message).to.equal(
      'guest wire_to_handler p99: measured in the baseline run 20261120-020000-aaaa (243711 ns), missing in this run (every frame lacked a send timestamp): regression',
    );
    const unsync = evaluate(withRun((run) => withDeviceInterrupt(run, (d) => {
      Object.assign(d.wire_to_handler, { summary: null, reason: 'clock domain unsynchronised' });
      d.clock_case.domain = 'unsynchronised';
    })), { baseline });
    expect(missing(unsync, ID.wireP99)).to.equal(undefined);
    expect(notCompared(unsync, ID.wireP99)?.reason).to.equal('clock case (clock_domain) differs: baseline same-host, this run unsynchronised');
  });
});

describe('regression/testcases: missing figures in JUnit', () => {
  it('fails the case\'s testcase on a missing figure, even when nothing else was compared', () => {
    const current = withRun((run) => {
      Object.assign(forwardingOf(run), { status: 'error', reason: 'no frame came back', details: {} });
    });
    const tcs = buildRegressionTestcases(evaluate(current));
    const fwd = tcs.find((t) => t.classname === 'kvmfornfv.regression.ovs_dpdk_forwarding');
    expect(fwd).to.include({ status: 'fail' });
    expect(fwd?.message).to.match(/^4 regressions: pod 64 B frames ndr: measured in the baseline run .* missing in this run \(no frame came back\)/);
    expect(fwd?.properties).to.include({ missing: 4, compared: 0 });
  });

  it('passes with a monitor message on the lab pod', () => {
    const tcs = buildRegressionTestcases(evaluate(withRun((run) => {
      run.pod.lab = true;
      stoppedForwarding(run);
    })));
    const fwd = tcs.find((t) => t.classname === 'kvmfornfv.regression.ovs_dpdk_forwarding');
    expect(fwd).to.include({ status: 'pass' });
    expect(fwd?.message).to.include('1 regression(s) monitored only (lab pod): pod 64 B frames ndr: measured in the baseline run');
    expect(fwd?.systemOut).to.include('[monitor] pod 64 B frames ndr: measured in the baseline run');
  });
});
