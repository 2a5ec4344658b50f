// Percentiles, merging and summaries of bucketed latency histograms (value → count plus an
// overflow count). Pure maths, no I/O: cyclictest's 1 µs buckets today, the interrupt agent's
// and the traffic generators' histograms later.
import { MeasurementError } from '../errors.ts';
import type { LatencySummary } from '../results/model.ts';

export type LatencyUnit = LatencySummary['unit'];

/**
 * One bucket. `value` must be the LARGEST value a sample counted in this bucket can have (in
 * the tool's resolution), so that a percentile read from it never understates latency. For
 * cyclictest that is the bucket index: it truncates each sample to whole µs and counts it
 * in that bucket, and its min/max are truncated the same way.
 */
export interface HistogramBucket {
  value: number;
  count: number;
}

export interface BucketHistogram {
  unit: LatencyUnit;
  /** Non-empty buckets, sorted by value, values unique. */
  buckets: readonly HistogramBucket[];
  /** Samples outside the buckets: each one is ≥ `limit`. */
  overflows: number;
  /** Every bucket value is < limit and every overflowed sample is ≥ limit; null = no limit. */
  limit: number | null;
}

export type PercentileKey = 'p50' | 'p99' | 'p999' | 'p9999';

/** A quantile as an exact fraction, so that ranks are integer maths (0.999 × 10000 is not 9990 in floating point). */
export interface PercentileSpec {
  key: PercentileKey;
  numerator: number;
  denominator: number;
}

export const SUMMARY_PERCENTILES: readonly PercentileSpec[] = [
  { key: 'p50', numerator: 1, denominator: 2 },
  { key: 'p99', numerator: 99, denominator: 100 },
  { key: 'p999', numerator: 999, denominator: 1000 },
  { key: 'p9999', numerator: 9999, denominator: 10000 },
];

export interface PercentileResult {
  value: number | null;
  /** Why value is null: too few samples, or the rank lies among the overflowed samples. */
  note?: string;
}

/** Figures the tool measured exactly; the histogram alone only bounds them. */
export interface ExactStats {
  min: number | null;
  avg: number | null;
  max: number | null;
}

function fail(message: string): never {
  throw new MeasurementError(`histogram: ${message}`);
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

// Parsers hand over buckets in any order, zero counts included; the maths needs one checked shape.
export function buildBucketHistogram(input: {
  unit: LatencyUnit;
  counts: Iterable<readonly [number, number]>;
  overflows: number;
  limit: number | null;
}): BucketHistogram {
  const { unit, overflows, limit } = input;
  if (!isCount(overflows)) fail(`overflow count must be a whole number ≥ 0, got ${overflows}`);
  if (limit !== null && !(Number.isFinite(limit) && limit > 0)) fail(`limit must be a positive number or null, got ${limit}`);
  if (limit === null && overflows > 0) fail(`${overflows} overflows but no histogram limit`);
  const byValue = new Map<number, number>();
  for (const [value, count] of input.counts) {
    if (!(Number.isFinite(value) && value >= 0)) fail(`bucket value must be a finite number ≥ 0, got ${value}`);
    if (!isCount(count)) fail(`bucket ${value} count must be a whole number ≥ 0, got ${count}`);
    if (byValue.has(value)) fail(`bucket ${value} is listed twice`);
    if (limit !== null && value >= limit) fail(`bucket ${value} is not below the histogram limit ${limit}`);
    byValue.set(value, count);
  }
  const buckets = [...byValue]
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([value, count]) => ({ value, count }));
  return { unit, buckets, overflows, limit };
}

// Samples in buckets plus overflowed samples: the N every percentile rank is taken against.
export function countSamples(histogram: BucketHistogram): number {
  return histogram.buckets.reduce((sum, b) => sum + b.count, 0) + histogram.overflows;
}

// A tail percentile from fewer samples than 10/(1−q) rests on a handful of values: not a figure to gate on.
export function minimumSamplesFor(spec: PercentileSpec): number {
  return Math.ceil((10 * spec.denominator) / (spec.denominator - spec.numerator));
}

// Why nearest-rank: it always returns a value that was actually observed (a bucket's value),
// never an interpolation between buckets, and it is exact on integer ranks.
// Convention: N = all samples including overflows, r = ceil(q·N) (at least 1), and the
// percentile is the smallest bucket value v with count(≤ v) ≥ r. When r > count(in buckets),
// the r-th sample overflowed: its value is unknown except that it is ≥ limit, so the result
// is null with a note, never a figure below the limit.
export function computePercentile(histogram: BucketHistogram, spec: PercentileSpec): PercentileResult {
  const total = countSamples(histogram);
  const needed = minimumSamplesFor(spec);
  if (total < needed) return { value: null, note: `needs ≥ ${needed} samples, have ${total}` };
  const rank = computeRank(total, spec);
  let cumulative = 0;
  for (const bucket of histogram.buckets) {
    cumulative += bucket.count;
    if (cumulative >= rank) return { value: bucket.value };
  }
  return {
    value: null,
    note:
      `exceeds the histogram limit: ≥ ${histogram.limit} ${histogram.unit} ` +
      `(rank ${rank} of ${total} lies among the ${histogram.overflows} overflowed samples)`,
  };
}

// ceil(numerator·N / denominator) in BigInt, so that ranks stay exact for any sample count.
function computeRank(total: number, spec: PercentileSpec): number {
  const n = BigInt(total) * BigInt(spec.numerator);
  const d = BigInt(spec.denominator);
  const rank = Number((n + d - 1n) / d);
  return Math.max(1, rank);
}

// Per-thread (per-CPU) histograms become one distribution for the node; percentiles of the
// merged counts are right, averaging per-thread percentiles is not.
export function mergeHistograms(histograms: readonly BucketHistogram[]): BucketHistogram {
  const first = histograms[0];
  if (first === undefined) fail('nothing to merge');
  const counts = new Map<number, number>();
  let overflows = 0;
  for (const h of histograms) {
    if (h.unit !== first.unit) fail(`cannot merge a ${h.unit} histogram into a ${first.unit} one`);
    if (h.limit !== first.limit) fail(`cannot merge histograms with limits ${first.limit} and ${h.limit}`);
    for (const b of h.buckets) counts.set(b.value, (counts.get(b.value) ?? 0) + b.count);
    overflows += h.overflows;
  }
  return buildBucketHistogram({ unit: first.unit, counts, overflows, limit: first.limit });
}

// The exact figures a tool printed must fit its own histogram; if they do not, something was
// mixed up (wrong limit, files from two runs), and no figure from either can be trusted.
function checkExact(h: BucketHistogram, exact: ExactStats): void {
  const low = h.buckets[0];
  const high = h.buckets[h.buckets.length - 1];
  const { min, max } = exact;
  if (max !== null && h.overflows > 0 && h.limit !== null && max < h.limit) {
    fail(`max ${max} ${h.unit} is below the histogram limit ${h.limit} ${h.unit}, yet ${h.overflows} samples overflowed`);
  }
  if (max !== null && high !== undefined && max < high.value) fail(`max ${max} is below the highest bucket ${high.value}`);
  if (min !== null && low !== undefined && min > low.value) fail(`min ${min} is above the lowest bucket ${low.value}`);
  if (min !== null && max !== null && min > max) fail(`min ${min} is above max ${max}`);
}

function nullSummary(unit: LatencyUnit, samples: number, overflows: number, why: string): LatencySummary {
  const notes: Record<string, string> = {};
  for (const key of ['min', 'avg', 'max', ...SUMMARY_PERCENTILES.map((p) => p.key)]) notes[key] = why;
  return {
    unit,
    samples,
    min: null,
    avg: null,
    max: null,
    p50: null,
    p99: null,
    p999: null,
    p9999: null,
    notes,
    overflows,
    maxIsLowerBound: false,
  };
}

// The result model's LatencySummary from one histogram; exact min/avg/max from the tool win
// over what the buckets can tell, and a max the buckets cannot know is flagged as a bound.
export function summarizeHistogram(histogram: BucketHistogram, exact?: ExactStats): LatencySummary {
  const { unit, overflows, limit } = histogram;
  const samples = countSamples(histogram);
  if (samples === 0) return nullSummary(unit, 0, 0, 'no samples');
  const given: ExactStats = exact ?? { min: null, avg: null, max: null };
  checkExact(histogram, given);
  const notes: Record<string, string> = {};
  const low = histogram.buckets[0];
  const high = histogram.buckets[histogram.buckets.length - 1];

  let min = given.min;
  if (min === null && low !== undefined) {
    min = low.value;
    notes['min'] = 'from the lowest histogram bucket';
  } else if (min === null) {
    notes['min'] = `every sample overflowed: ≥ ${limit} ${unit}`;
  }

  const avg = given.avg;
  if (avg === null) notes['avg'] = 'not reported by the tool';

  let max = given.max;
  let maxIsLowerBound = false;
  if (max === null && overflows > 0) {
    // Why a bound and not null: a threshold on max below the limit must still fail.
    max = limit;
    maxIsLowerBound = true;
    notes['max'] = `≥ ${limit} ${unit}: ${overflows} samples overflowed and the tool did not report the true maximum`;
  } else if (max === null && high !== undefined) {
    max = high.value;
    notes['max'] = 'from the highest histogram bucket';
  }

  const summary: LatencySummary = {
    unit,
    samples,
    min,
    avg,
    max,
    p50: null,
    p99: null,
    p999: null,
    p9999: null,
    notes,
    overflows,
    maxIsLowerBound,
  };
  for (const spec of SUMMARY_PERCENTILES) {
    const result = computePercentile(histogram, spec);
    summary[spec.key] = result.value;
    if (result.note !== undefined) notes[spec.key] = result.note;
  }
  return summary;
}

// For notes and reports that must say a figure is missing rather than show nothing.
export function buildNullSummary(input: { unit: LatencyUnit; samples: number; overflows: number; why: string }): LatencySummary {
  return nullSummary(input.unit, input.samples, input.overflows, input.why);
}
