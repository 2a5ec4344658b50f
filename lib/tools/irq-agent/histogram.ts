// The agents' log-linear histograms: schema, the checks that make a tampered or truncated
// figure fail to parse, and the conversions to the project's shared shapes.
import { z } from 'zod';
import type { LatencySummary } from '../../results/model.ts';

/** One non-empty bucket: every value v with lowerNs <= v <= upperNs (both inclusive). */
export interface IrqBucket {
  lowerNs: number;
  upperNs: number;
  count: number;
}

/** One latency figure exactly as the agent printed it, in ns. */
export interface IrqLatencyFigure {
  samples: number;
  /** Samples at or above the histogram's top (layout.topNs); counted, not bucketed. */
  overflows: number;
  /** Samples below zero (clocks out of step); counted, not bucketed. */
  negatives: number;
  minNs: number | null;
  avgNs: number | null;
  /** The true maximum, tracked even past the top. */
  maxNs: number | null;
  p50Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
  p9999Ns: number | null;
  buckets: IrqBucket[];
}

export interface IrqHistogramLayout {
  exactBelowNs: number;
  subBucketsPerPowerOfTwo: number;
  topNs: number;
}

/** The shared value/count shape for lib/measure: `value` is the bucket's inclusive upper bound. */
export interface ValueCountHistogram {
  unit: 'ns';
  buckets: Array<{ value: number; count: number }>;
  overflows: number;
  underflows: number;
  min: number | null;
  max: number | null;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const ns = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const layoutSchema = z
  .object({
    exact_below_ns: z.number().int().positive(),
    sub_buckets_per_power_of_two: z.number().int().positive(),
    top_ns: z.number().int().positive(),
  })
  .transform((l): IrqHistogramLayout => ({
    exactBelowNs: l.exact_below_ns,
    subBucketsPerPowerOfTwo: l.sub_buckets_per_power_of_two,
    topNs: l.top_ns,
  }));

export const figureSchema = z
  .object({
    count,
    overflow: count,
    negative: count,
    min: ns.nullable(),
    avg: z.number().nullable(),
    max: ns.nullable(),
    p50: ns.nullable(),
    p99: ns.nullable(),
    p99_9: ns.nullable(),
    p99_99: ns.nullable(),
    buckets: z.array(z.tuple([count, count, count.positive()])),
  })
  .transform(
    (f): IrqLatencyFigure => ({
      samples: f.count,
      overflows: f.overflow,
      negatives: f.negative,
      minNs: f.min,
      avgNs: f.avg,
      maxNs: f.max,
      p50Ns: f.p50,
      p99Ns: f.p99,
      p999Ns: f.p99_9,
      p9999Ns: f.p99_99,
      buckets: f.buckets.map(([lowerNs, upperNs, n]) => ({ lowerNs, upperNs, count: n })),
    }),
  );

/** Percentile keys with their fraction in parts per million, as the agents compute them. */
export const PERCENTILES = [
  ['p50Ns', 500_000],
  ['p99Ns', 990_000],
  ['p999Ns', 999_000],
  ['p9999Ns', 999_900],
] as const;

// The agents' rule, redone here so a figure that disagrees with its own buckets is refused:
// the upper bound of the bucket holding rank ceil(n*q), clamped to [min, max].
export function computeBucketPercentile(fig: IrqLatencyFigure, ppm: number): number | null {
  if (fig.samples === 0 || fig.minNs === null || fig.maxNs === null) return null;
  const bigRank = (BigInt(fig.samples) * BigInt(ppm) + 999_999n) / 1_000_000n;
  const rank = Math.max(1, Number(bigRank));
  let cum = fig.negatives;
  let v = fig.maxNs;
  if (rank <= cum) {
    v = fig.maxNs < 0 ? fig.maxNs : 0;
  } else {
    for (const b of fig.buckets) {
      cum += b.count;
      if (cum >= rank) {
        v = b.upperNs;
        break;
      }
    }
  }
  return Math.max(fig.minNs, Math.min(fig.maxNs, v));
}

// Everything a figure must satisfy to be believed; returns one message per broken rule.
export function checkFigure(fig: IrqLatencyFigure, layout: IrqHistogramLayout, path: string): string[] {
  const issues: string[] = [];
  const bad = (m: string) => issues.push(`${path}: ${m}`);
  const values = [fig.minNs, fig.avgNs, fig.maxNs, fig.p50Ns, fig.p99Ns, fig.p999Ns, fig.p9999Ns];
  if (fig.samples === 0) {
    if (values.some((v) => v !== null) || fig.buckets.length > 0) bad('expected no figures and no buckets with count 0, found some');
    return issues;
  }
  if (values.some((v) => v === null)) return [`${path}: expected min/avg/max/percentiles with count ${fig.samples}, found null`];
  const [min, avg, max] = values as number[];
  const inBuckets = fig.buckets.reduce((s, b) => s + b.count, 0);
  if (inBuckets + fig.overflows + fig.negatives !== fig.samples) {
    bad(`expected buckets (${inBuckets}) + overflow (${fig.overflows}) + negative (${fig.negatives}) = count, found count ${fig.samples}`);
  }
  if (!(min! <= avg! && avg! <= max!)) bad(`expected min <= avg <= max, found ${min}, ${avg}, ${max}`);
  if ((fig.negatives > 0) !== (min! < 0)) bad(`expected min < 0 exactly when negative > 0, found min ${min} with negative ${fig.negatives}`);
  if (fig.overflows > 0 && max! < layout.topNs) bad(`expected max >= top (${layout.topNs}) with overflow ${fig.overflows}, found ${max}`);
  let prevUpper = -1;
  for (const b of fig.buckets) {
    if (b.lowerNs > b.upperNs || b.lowerNs <= prevUpper || b.upperNs >= layout.topNs) {
      bad(`expected ordered, disjoint buckets below ${layout.topNs}, found [${b.lowerNs}, ${b.upperNs}] after upper ${prevUpper}`);
      break;
    }
    prevUpper = b.upperNs;
  }
  const first = fig.buckets[0];
  const last = fig.buckets.at(-1);
  if (first && fig.negatives === 0 && (min! < first.lowerNs || min! > first.upperNs)) bad(`expected min ${min} inside the first bucket [${first.lowerNs}, ${first.upperNs}]`);
  if (last && fig.overflows === 0 && (max! < last.lowerNs || max! > last.upperNs)) bad(`expected max ${max} inside the last bucket [${last.lowerNs}, ${last.upperNs}]`);
  if (issues.length > 0) return issues;
  for (const [key, ppm] of PERCENTILES) {
    const expected = computeBucketPercentile(fig, ppm);
    if (fig[key] !== expected) bad(`expected ${key.replace('Ns', '')} ${expected} from the buckets, found ${fig[key]}`);
  }
  return issues;
}

// The shared shape lib/measure merges and takes percentiles from; upper bounds keep it conservative.
export function toValueCountHistogram(fig: IrqLatencyFigure): ValueCountHistogram {
  return {
    unit: 'ns',
    buckets: fig.buckets.map((b) => ({ value: b.upperNs, count: b.count })),
    overflows: fig.overflows,
    underflows: fig.negatives,
    min: fig.minNs,
    max: fig.maxNs,
  };
}

/** Samples a percentile needs before it says more than the maximum does. */
const MIN_SAMPLES: Record<(typeof PERCENTILES)[number][0], number> = { p50Ns: 2, p99Ns: 100, p999Ns: 1_000, p9999Ns: 10_000 };
const SUMMARY_KEY = { p50Ns: 'p50', p99Ns: 'p99', p999Ns: 'p999', p9999Ns: 'p9999' } as const;

// The result model's summary: figures the samples cannot support become null, each with a note.
export function toLatencySummary(fig: IrqLatencyFigure, layout: IrqHistogramLayout): LatencySummary {
  const notes: Record<string, string> = {};
  const summary: LatencySummary = {
    unit: 'ns',
    samples: fig.samples,
    min: fig.minNs,
    avg: fig.avgNs,
    max: fig.maxNs,
    p50: null,
    p99: null,
    p999: null,
    p9999: null,
    notes,
    overflows: fig.overflows,
    maxIsLowerBound: false,
  };
  if (fig.samples === 0) notes.samples = 'no frame was measured';
  if (fig.negatives > 0) {
    // A latency below zero means the clocks (or the offset) are wrong, which shifts every
    // value, not only the negative ones: no figure of this distribution can pass a threshold.
    const why = `${fig.negatives} of ${fig.samples} samples below zero: sender and receiver clocks are not one domain, or the offset is wrong`;
    Object.assign(summary, { min: null, avg: null, max: null });
    for (const key of ['min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999']) notes[key] = why;
    return summary;
  }
  for (const [key, ppm] of PERCENTILES) {
    const out = SUMMARY_KEY[key];
    if (fig.samples < MIN_SAMPLES[key]) {
      if (fig.samples > 0) notes[out] = `needs at least ${MIN_SAMPLES[key]} samples, had ${fig.samples}`;
      continue;
    }
    summary[out] = fig[key];
    const rank = Math.max(1, Math.ceil((fig.samples * ppm) / 1_000_000));
    if (rank > fig.samples - fig.overflows) {
      notes[out] = `its rank lies above the histogram top (${layout.topNs} ns): reported as the true max`;
    }
  }
  return summary;
}
