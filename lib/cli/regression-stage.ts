// --baseline: compares the finished run with an earlier one, like with like, and keeps
// every run in the results root's history so that `--baseline last` can find it.
import { join } from 'node:path';
import type { ThresholdProfile } from '../config/thresholds.ts';
import { describeError } from '../errors.ts';
import { appendHistory, evaluateRegression, findBaseline, type RegressionReport } from '../regression/index.ts';
import type { RunResult } from '../results/model.ts';

export async function judgeRegression(args: {
  run: RunResult;
  spec: string;
  resultsRoot: string;
  profile: ThresholdProfile;
  log: (line: string) => void;
}): Promise<RegressionReport> {
  const baseline = await findBaseline({ resultsRoot: args.resultsRoot, current: args.run, spec: args.spec, onNote: args.log });
  const report = evaluateRegression({ current: args.run, baseline, profileSection: args.profile.sections.regression, profileFile: args.profile.file });
  args.log(`regression: ${report.summary}`);
  return report;
}

export async function recordHistory(args: { run: RunResult; runDir: string; resultsRoot: string; log: (line: string) => void }): Promise<void> {
  try {
    await appendHistory({ resultsRoot: args.resultsRoot, run: args.run, resultsFile: join(args.runDir, 'results.json') });
  } catch (error) {
    args.log(`run history not updated: ${describeError(error)}`);
  }
}
