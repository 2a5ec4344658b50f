// The regression gate's verdict as results.json keeps it (lib/regression/evaluate.ts builds
// it): every figure of the run compared with the baseline, missing from this run, or not
// compared with the reason.
import type { Delta } from './comparison.ts';

/** The figures the gate compares (lib/regression/figures.ts REGRESSION_METRICS). */
export type FigureMetric = 'ndr' | 'pdr' | 'p99' | 'max';

/** Which figure: the fields every list of the report shares. */
export interface FigureRef {
  /** Stable across runs: `<case> <node> <where> <metric>`. */
  id: string;
  caseName: string;
  node: string;
  where: string;
  metric: FigureMetric;
}

/** What a judged figure (compared, or missing) states beside its verdict. */
interface JudgedFigure extends FigureRef {
  unit: string;
  action: 'assert' | 'monitor';
  /** monitor on the lab pod whatever the profile says. */
  effectiveAction: 'assert' | 'monitor';
  message: string;
  /** The conditions that matched, so the comparison says what it compared. */
  comparedOn: string;
  /** Differences compared anyway because regression.compare_across allows it. */
  waived: string[];
}

export interface ComparedFigure extends JudgedFigure {
  baseline: number;
  current: number;
  delta: number;
  /** Null when the baseline is 0. */
  deltaPercent: number | null;
  /** True when a value is a bound (overflowed histogram) and the verdict holds for any true value. */
  fromBound: boolean;
  /**
   * Since 1.2.0: the difference as it may be stated. With fromBound, `delta` and `deltaPercent`
   * are only the bound of the difference (`at-least` or `at-most`), never the difference itself.
   */
  change?: Delta;
  marginPercent: number;
  verdict: 'pass' | 'regression';
}

/** A figure the baseline measured and this comparable run lacks: always a regression. */
export interface MissingFigure extends JudgedFigure {
  /** The baseline's value, or its lower bound when baselineIsBound. */
  baseline: number;
  baselineIsBound: boolean;
  verdict: 'regression';
  /** Why this run has no value, as its details or tests say; null when they do not. */
  why: string | null;
  /** Conditions this run did not record (it stopped before): not checked, not held against it. */
  unrecorded: string[];
}

export type NotComparedKind = 'new' | 'not-comparable' | 'unavailable';

export interface NotComparedFigure extends FigureRef {
  kind: NotComparedKind;
  reason: string;
}

export interface RegressionReport {
  baseline: { runId: string; startedAt: string; pod: string } | null;
  /** True on the lab pod: regressions are reported and never fail the run. */
  monitorOnly: boolean;
  compared: ComparedFigure[];
  /** Regressions too: measured in the baseline, absent or null in this run. */
  missing: MissingFigure[];
  notCompared: NotComparedFigure[];
  /** Cases skipped as a whole and details that could not be read. */
  notes: string[];
  /** Compared regressions plus missing figures. */
  regressions: number;
  /** An assert regression on a pod where regressions gate: the CLI's exit code 71. */
  failing: boolean;
  summary: string;
}
