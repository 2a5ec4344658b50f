import { expect } from 'chai';
import { evaluateRegression } from '../../../lib/regression/evaluate.ts';
import { buildRegressionTestcases } from '../../../lib/regression/testcases.ts';
import { loadBaseline, trialOf, withRun } from './runs.ts';

describe('regression/testcases (JUnit view)', () => {
  const dropped = (lab: boolean) =>
    withRun((run) => {
      run.pod.lab = lab;
      trialOf(run, 64).ndrPps = 8_000_000;
    });

  it('fails the case\'s testcase on an assert regression, so Jenkins marks the build', () => {
    const report = evaluateRegression({ current: dropped(false), baseline: loadBaseline(), profileSection: undefined });
    const tcs = buildRegressionTestcases(report);
    expect(tcs.map((t) => [t.classname, t.status])).to.deep.equal([
      ['kvmfornfv.regression.timer', 'pass'],
      ['kvmfornfv.regression.ovs_dpdk_forwarding', 'fail'],
    ]);
    expect(tcs[1]?.message).to.include('1 regression: pod 64 B frames ndr');
    expect(tcs[1]?.systemOut).to.include('compared on pod intel-pod10');
  });

  it('passes with a monitor message on the lab pod, and skips when nothing was compared', () => {
    const lab = buildRegressionTestcases(evaluateRegression({ current: dropped(true), baseline: loadBaseline(), profileSection: undefined }));
    expect(lab[1]).to.include({ status: 'pass' });
    expect(lab[1]?.message).to.include('monitored only (lab pod)');
    const none = buildRegressionTestcases(evaluateRegression({ current: withRun(), baseline: undefined, profileSection: undefined }));
    expect(none.every((t) => t.status === 'skip' && t.message === 'no baseline run to compare with')).to.equal(true);
  });
});
