// How one figure stands against a reference figure, in results.json: the forwarding
// comparison (each path against bare metal) and the regression gate (this run against a
// baseline) both state differences this way. A figure that is only a lower bound (an NDR the
// generator capped, an overflowed histogram's max) never yields a signed difference.

/**
 * `exact`: both figures exact, `value` is the difference. `at-most`: the reference is only a
 * lower bound, so the true difference is at most `value` ("≤ +52 %", its sign may be unknown).
 * `at-least`: this figure is only a lower bound, so the true difference is at least `value`.
 */
export type DeltaKind = 'exact' | 'at-most' | 'at-least';

export interface Delta {
  kind: DeltaKind;
  /** This figure minus the reference, in the figure's unit (pps, ns). */
  value: number;
  /** `value` relative to the reference, in percent; null when the reference is 0. */
  percent: number | null;
}

/** A difference that cannot be stated: both are bounds, one is missing, or the conditions differ. */
export interface NoDelta {
  kind: 'not-comparable';
  reason: string;
}

/** One forwarding case at one frame size, next to bare metal. */
export interface ComparisonCell {
  caseName: string;
  /** All directions together, pps; null when the case could not confirm one. */
  ndrPps: number | null;
  ndrIsLowerBound: boolean;
  p99Ns: number | null;
  /** Null when not measured, and (as in schema 1.1) when only a lower bound: see maxAtLeastNs. */
  maxNs: number | null;
  /** Since 1.2.0: the bound when the max is only a lower bound (overflowed histogram), else null. */
  maxAtLeastNs?: number | null;
  /** Where the latency was taken, e.g. `90 % of NDR, both directions merged`. */
  latencyWhere: string | null;
  /**
   * Signed differences to bare metal, set only when both figures are exact (since 1.2.0; in 1.1
   * they were signed even against a lower bound, which is why the fields below were added).
   */
  ndrDeltaPercent: number | null;
  p99DeltaNs: number | null;
  maxDeltaNs: number | null;
  /** Since 1.2.0: the difference to bare metal as it may be stated; null on the bare-metal row itself. */
  ndrVsBaseline?: Delta | NoDelta | null;
  p99VsBaseline?: Delta | NoDelta | null;
  maxVsBaseline?: Delta | NoDelta | null;
  /** Since 1.2.0: what the path was measured with, e.g. `{ forwarder: 'testpmd io', accelerator: 'kvm' }`. */
  conditions?: Record<string, string | null>;
}

export interface ForwardingComparison {
  baseline: string;
  /** Forwarding cases with at least one frame size measured, in catalogue order. */
  cases: string[];
  frameSizes: Array<{ frameSize: string; cells: ComparisonCell[] }>;
  notes: string[];
}

const BOUND_PREFIX: Record<DeltaKind, string> = { exact: '', 'at-most': '≤ ', 'at-least': '≥ ' };

/**
 * A difference as text, `format` writing its magnitude: `+52.1 %`, `≤ +52.1 %`, `≥ -5 us`.
 * Every view writes differences through here, so a bound always carries its ≤ or ≥.
 */
export function formatDelta(kind: DeltaKind, value: number, format: (magnitude: number) => string): string {
  const sign = value > 0 ? '+' : value < 0 ? '-' : '±';
  return `${BOUND_PREFIX[kind]}${sign}${format(Math.abs(value))}`;
}
