// The one place that decides the exit code, so Jenkins gating, the ci/ script and the
// docs agree. Precedence, highest first: bad input, unmeasured, threshold, regression, push.
import type { RunResult } from './model.ts';

export const EXIT = {
  ok: 0,
  badInput: 2,
  thresholdFailed: 68,
  pushFailed: 69,
  notMeasured: 70,
  regression: 71,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface RunOutcome {
  badInput?: boolean;
  notMeasured?: boolean;
  thresholdFailed?: boolean;
  regression?: boolean;
  pushFailed?: boolean;
}

export function exitCodeFor(outcome: RunOutcome): ExitCode {
  if (outcome.badInput) return EXIT.badInput;
  if (outcome.notMeasured) return EXIT.notMeasured;
  if (outcome.thresholdFailed) return EXIT.thresholdFailed;
  if (outcome.regression) return EXIT.regression;
  if (outcome.pushFailed) return EXIT.pushFailed;
  return EXIT.ok;
}

/** What the run's cases say about the exit code; pushes and regressions are added by their stages. */
export function outcomeOfCases(run: Pick<RunResult, 'cases'>, options: { dryRun?: boolean } = {}): RunOutcome {
  const statuses = run.cases.map((c) => c.status);
  return { notMeasured: statuses.includes('error') || (!options.dryRun && isNothingMeasured(run)), thresholdFailed: statuses.includes('fail') };
}

// Every selected case skipped (unmet dependencies, no such node on the pod): a gate that
// went green here would have verified nothing.
export function isNothingMeasured(run: Pick<RunResult, 'cases'>): boolean {
  return run.cases.length > 0 && run.cases.every((c) => c.status === 'skip');
}
