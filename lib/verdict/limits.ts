// Applies a threshold limit to measured figures. The rule that matters most: a figure
// that could not be measured is never a pass. It is an error, unless a known lower
// bound already breaks the limit, which is a failure.
import { convert, formatValue } from './units.ts';

export interface LimitSpec {
  metric: string;
  max?: number | undefined;
  min?: number | undefined;
  unit: string;
  action: 'assert' | 'monitor';
  description?: string | undefined;
}

/** One measured figure and where it came from, e.g. `guest thread 1 (cpu 1)`. */
export interface Figure {
  value: number | null;
  unit: string;
  where: string;
  /** For a null value: a bound the true value is known to exceed (e.g. the histogram's top). */
  atLeast?: number;
  /** Why the value is null. */
  note?: string;
}

export type LimitOutcome = 'pass' | 'fail' | 'unknown';

export interface LimitVerdict {
  limit: LimitSpec;
  outcome: LimitOutcome;
  /** The figure that decided the outcome: the worst one, or the first unknown. */
  decisive: Figure | undefined;
  message: string;
}

/** A missed threshold: JUnit `<failure>`, exit code 68. Distinct from errors on purpose. */
export class ThresholdFailure extends Error {
  readonly verdict: LimitVerdict;
  constructor(verdict: LimitVerdict) {
    super(verdict.message);
    this.name = 'ThresholdFailure';
    this.verdict = verdict;
  }
}

/** A figure that cannot be judged: JUnit `<error>`, never a pass. */
export class UnjudgeableFigure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnjudgeableFigure';
  }
}

export function isThresholdFailure(error: unknown): boolean {
  return error instanceof ThresholdFailure || (error instanceof Error && error.name === 'AssertionError');
}

export function describeLimit(limit: LimitSpec): string {
  const bound = limit.max !== undefined ? `≤ ${formatValue(limit.max, limit.unit)}` : `≥ ${formatValue(limit.min ?? 0, limit.unit)}`;
  return `${limit.metric} ${bound}`;
}

// The worst figure decides, so one bad thread or node cannot hide behind a good average.
export function evaluateLimit(limit: LimitSpec, figures: readonly Figure[]): LimitVerdict {
  const isMax = limit.max !== undefined;
  const bound = (isMax ? limit.max : limit.min) as number;
  if (figures.length === 0) {
    return { limit, outcome: 'unknown', decisive: undefined, message: `${limit.metric}: nothing was measured` };
  }
  let worst: { figure: Figure; value: number } | undefined;
  let unknown: Figure | undefined;
  for (const figure of figures) {
    if (figure.value === null) {
      if (figure.atLeast !== undefined && isMax) {
        const atLeast = convert(figure.atLeast, figure.unit, limit.unit);
        if (atLeast > bound) {
          return verdict(limit, 'fail', figure, `${figure.where}: ${limit.metric} > ${formatValue(atLeast, limit.unit)} (beyond what was recorded), limit ${describeLimit(limit)}`);
        }
      }
      unknown ??= figure;
      continue;
    }
    const value = convert(figure.value, figure.unit, limit.unit);
    if (!worst || (isMax ? value > worst.value : value < worst.value)) worst = { figure, value };
  }
  if (worst && (isMax ? worst.value > bound : worst.value < bound)) {
    const op = isMax ? '>' : '<';
    return verdict(limit, 'fail', worst.figure, `${worst.figure.where}: ${limit.metric} ${formatValue(worst.value, limit.unit)} ${op} limit ${formatValue(bound, limit.unit)}`);
  }
  if (unknown) {
    return verdict(limit, 'unknown', unknown, `${unknown.where}: ${limit.metric} could not be determined${unknown.note ? ` (${unknown.note})` : ''}`);
  }
  const w = worst as { figure: Figure; value: number };
  return verdict(limit, 'pass', w.figure, `${w.figure.where}: ${limit.metric} ${formatValue(w.value, limit.unit)} within ${describeLimit(limit)}`);
}

function verdict(limit: LimitSpec, outcome: LimitOutcome, decisive: Figure | undefined, message: string): LimitVerdict {
  return { limit, outcome, decisive, message };
}

/**
 * Turns a verdict into the test's outcome: assert limits throw on failure, monitor limits
 * only report. An unknown figure throws for both, because a monitor that silently shows
 * nothing is the kind of wrong PASS this project exists to prevent.
 */
export function enforceVerdict(v: LimitVerdict, context: { profile: string }): { monitorViolation: boolean } {
  if (v.outcome === 'unknown') throw new UnjudgeableFigure(v.message);
  if (v.outcome === 'fail') {
    if (v.limit.action === 'assert') {
      throw new ThresholdFailure({ ...v, message: `${v.message} (assert, profile ${context.profile})` });
    }
    return { monitorViolation: true };
  }
  return { monitorViolation: false };
}
