// The regression report as JUnit testcases, one per case: a failing testcase is what makes
// Jenkins mark a nightly build UNSTABLE when the ci/ script maps exit code 71 to 0.
import type { TestcaseResult } from '../results/model.ts';
import type { RegressionReport } from './evaluate.ts';

// Without a JUnit entry a monitored or nightly regression would be invisible in Jenkins.
export function buildRegressionTestcases(report: RegressionReport): TestcaseResult[] {
  // Reports written before missing figures were judged have no such list.
  const missingAll = report.missing ?? [];
  const cases = [...new Set([...report.compared.map((c) => c.caseName), ...missingAll.map((m) => m.caseName), ...report.notCompared.map((n) => n.caseName)])];
  return cases.map((caseName): TestcaseResult => {
    const compared = report.compared.filter((c) => c.caseName === caseName);
    const missing = missingAll.filter((m) => m.caseName === caseName);
    const notCompared = report.notCompared.filter((n) => n.caseName === caseName);
    // Missing figures first: a figure that vanished says more than one that moved.
    const judged = [...missing, ...compared];
    const failing = judged.filter((c) => c.verdict === 'regression' && c.effectiveAction === 'assert');
    const monitored = judged.filter((c) => c.verdict === 'regression' && c.effectiveAction === 'monitor');
    const lines = [
      report.summary,
      ...judged.map((c) => `${c.effectiveAction === 'monitor' && c.verdict === 'regression' ? '[monitor] ' : ''}${c.message}; compared on ${c.comparedOn}${c.waived.length ? `; ${c.waived.join('; ')}` : ''}`),
      ...notCompared.map((n) => `not compared (${n.kind}): ${n.node} ${n.where} ${n.metric}: ${n.reason}`),
    ];
    const base = {
      title: `${caseName} regression against the baseline`,
      classname: `kvmfornfv.regression.${caseName}`,
      durationMs: 0,
      properties: { baseline_run: report.baseline?.runId ?? 'none', compared: compared.length, missing: missing.length, not_compared: notCompared.length },
      measurements: {},
      systemOut: lines.join('\n'),
    };
    if (failing.length > 0) {
      const first = failing[0] as (typeof failing)[number];
      return { ...base, status: 'fail', message: `${failing.length} regression${failing.length === 1 ? '' : 's'}: ${first.message}` };
    }
    if (judged.length === 0) {
      return { ...base, status: 'skip', message: notCompared[0]?.reason ?? 'nothing to compare' };
    }
    const message = monitored.length > 0 ? `${monitored.length} regression(s) monitored only${report.monitorOnly ? ' (lab pod)' : ''}: ${monitored[0]?.message}` : undefined;
    return message === undefined ? { ...base, status: 'pass' } : { ...base, status: 'pass', message };
  });
}
