// The regression report as JUnit testcases, one per case: a failing testcase is what makes
// Jenkins mark a nightly build UNSTABLE when the ci/ script maps exit code 71 to 0.
import type { TestcaseResult } from '../results/model.ts';
import type { RegressionReport } from './evaluate.ts';

// Without a JUnit entry a monitored or nightly regression would be invisible in Jenkins.
export function buildRegressionTestcases(report: RegressionReport): TestcaseResult[] {
  const cases = [...new Set([...report.compared.map((c) => c.caseName), ...report.notCompared.map((n) => n.caseName)])];
  return cases.map((caseName): TestcaseResult => {
    const compared = report.compared.filter((c) => c.caseName === caseName);
    const notCompared = report.notCompared.filter((n) => n.caseName === caseName);
    const failing = compared.filter((c) => c.verdict === 'regression' && c.effectiveAction === 'assert');
    const monitored = compared.filter((c) => c.verdict === 'regression' && c.effectiveAction === 'monitor');
    const lines = [
      report.summary,
      ...compared.map((c) => `${c.effectiveAction === 'monitor' && c.verdict === 'regression' ? '[monitor] ' : ''}${c.message}; compared on ${c.comparedOn}${c.waived.length ? `; ${c.waived.join('; ')}` : ''}`),
      ...notCompared.map((n) => `not compared (${n.kind}): ${n.node} ${n.where} ${n.metric}: ${n.reason}`),
    ];
    const base = {
      title: `${caseName} regression against the baseline`,
      classname: `kvmfornfv.regression.${caseName}`,
      durationMs: 0,
      properties: { baseline_run: report.baseline?.runId ?? 'none', compared: compared.length, not_compared: notCompared.length },
      measurements: {},
      systemOut: lines.join('\n'),
    };
    if (failing.length > 0) {
      const first = failing[0] as (typeof failing)[number];
      return { ...base, status: 'fail', message: `${failing.length} regression${failing.length === 1 ? '' : 's'}: ${first.message}` };
    }
    if (compared.length === 0) {
      return { ...base, status: 'skip', message: notCompared[0]?.reason ?? 'nothing to compare' };
    }
    const message = monitored.length > 0 ? `${monitored.length} regression(s) monitored only${report.monitorOnly ? ' (lab pod)' : ''}: ${monitored[0]?.message}` : undefined;
    return message === undefined ? { ...base, status: 'pass' } : { ...base, status: 'pass', message };
  });
}
