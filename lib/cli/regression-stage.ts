// --baseline: compares the finished run with an earlier one, like with like, and keeps
// every run in the results root's history so that `--baseline last` can find it.
import { join } from 'node:path';
import type { ThresholdProfile } from '../config/thresholds.ts';
import { ConfigError, describeError } from '../errors.ts';
import { appendHistory, evaluateRegression, findBaseline, loadBaselineRun, parseRegressionPolicy, type RegressionReport } from '../regression/index.ts';
import { COMPARE_ACROSS, type CompareAcross } from '../regression/policy.ts';
import type { RunResult } from '../results/model.ts';

/** --compare-across kernel,qemu: the verify job compares a new kernel or QEMU build with the last run. */
export function parseCompareAcross(raw: string | undefined): CompareAcross[] {
  if (raw === undefined || raw.trim() === '') return [];
  const items = raw.split(',').map((s) => s.trim());
  const bad = items.filter((s) => !(COMPARE_ACROSS as readonly string[]).includes(s));
  if (bad.length > 0) throw new ConfigError('command line', [{ path: '--compare-across', message: `expected a comma-separated list of ${COMPARE_ACROSS.join(', ')}, found ${bad.map((b) => JSON.stringify(b)).join(', ')}` }]);
  return [...new Set(items as CompareAcross[])];
}

// A baseline file is read before any node is touched: a typo is exit 2, not a lost run.
export async function checkBaselineOption(spec: string | undefined): Promise<void> {
  if (spec === undefined || spec === 'last') return;
  await loadBaselineRun(spec);
}

export interface RegressionJudgement {
  report?: RegressionReport;
  /** Why the run could not be judged as asked; the run is then "not measured" (70). */
  problem?: string;
}

// Never throws: whatever happens here, the run's reports are still written.
export async function judgeRegression(args: {
  run: RunResult;
  spec: string;
  resultsRoot: string;
  profile: ThresholdProfile;
  compareAcross: readonly CompareAcross[];
  log: (line: string) => void;
}): Promise<RegressionJudgement> {
  try {
    const policy = parseRegressionPolicy(args.profile.sections.regression, args.profile.file);
    const compareAcross = [...new Set([...policy.compareAcross, ...args.compareAcross])];
    const baseline = await findBaseline({ resultsRoot: args.resultsRoot, current: args.run, spec: args.spec, compareAcross, onNote: args.log });
    const report = evaluateRegression({ current: args.run, baseline, profileSection: args.profile.sections.regression, profileFile: args.profile.file, compareAcross });
    args.log(`regression: ${report.summary}`);
    // A named baseline that shares no comparable figure would make a silent green gate.
    if (args.spec !== 'last' && report.baseline && report.compared.length === 0 && report.missing.length === 0) {
      return { report, problem: `the baseline ${args.spec} (run ${report.baseline.runId}) has no figure comparable with this run: ${report.notCompared.map((f) => `${f.id}: ${f.reason}`).slice(0, 3).join('; ') || 'no figures'}` };
    }
    return { report };
  } catch (error) {
    return { problem: `the regression against ${args.spec} could not be judged: ${describeError(error)}` };
  }
}

export async function recordHistory(args: { run: RunResult; runDir: string; resultsRoot: string; log: (line: string) => void }): Promise<void> {
  try {
    await appendHistory({ resultsRoot: args.resultsRoot, run: args.run, resultsFile: join(args.runDir, 'results.json') });
  } catch (error) {
    args.log(`run history not updated: ${describeError(error)}`);
  }
}
