// Percentiles from a generator's latency buckets (TRex's decade histogram, kfn-softgen's
// log-linear one). A bucket only says a sample lies somewhere inside it, so a percentile is
// reported as the bucket's upper bound, capped at the true maximum: coarse, but it never
// makes a device look faster than it is.

/** A bucket: every value v with lowerNs <= v <= upperNs (both inclusive). */
export interface Bucket {
  lowerNs: number;
  upperNs: number;
  count: number;
}

export type PercentileName = 'p50' | 'p99' | 'p999' | 'p9999';

export const PERCENTILES: ReadonlyArray<{ name: PercentileName; quantile: number }> = [
  { name: 'p50', quantile: 0.5 },
  { name: 'p99', quantile: 0.99 },
  { name: 'p999', quantile: 0.999 },
  { name: 'p9999', quantile: 0.9999 },
];

// Why a bucket list cannot be used (unsorted, overlapping, bad counts), or undefined when it can.
export function describeBadBuckets(buckets: readonly Bucket[]): string | undefined {
  let previousUpper = -1;
  for (const [i, b] of buckets.entries()) {
    if (![b.lowerNs, b.upperNs, b.count].every(Number.isSafeInteger)) return `bucket ${i}: bounds and count must be integers`;
    if (b.lowerNs < 0 || b.upperNs < b.lowerNs) return `bucket ${i}: expected 0 <= lower <= upper, found [${b.lowerNs}, ${b.upperNs}]`;
    if (b.count <= 0) return `bucket ${i}: expected a count > 0, found ${b.count}`;
    if (b.lowerNs <= previousUpper) return `bucket ${i}: [${b.lowerNs}, ${b.upperNs}] overlaps or precedes the bucket before it`;
    previousUpper = b.upperNs;
  }
  return undefined;
}

// The value below which `quantile` of the samples lie, as an upper bound; samples past the
// histogram (overflows) rank above every bucket and give the maximum.
export function percentileFromBuckets(a: { buckets: readonly Bucket[]; overflows: number; maxNs: number | null; quantile: number }): number | null {
  if (!(a.quantile > 0 && a.quantile <= 1)) throw new RangeError(`percentileFromBuckets: quantile must be in (0, 1], got ${a.quantile}`);
  const total = a.buckets.reduce((s, b) => s + b.count, 0) + a.overflows;
  if (total === 0) return null;
  // Same rank rule as kfn-softgen: the ceil(q * n)-th smallest sample.
  const rank = Math.max(1, Math.ceil(total * a.quantile - 1e-9));
  let seen = 0;
  for (const b of a.buckets) {
    seen += b.count;
    if (seen >= rank) return a.maxNs === null ? b.upperNs : Math.min(b.upperNs, a.maxNs);
  }
  return a.maxNs;
}

/** The four percentiles with a note for each one that is null or coarse. */
export interface BucketPercentiles {
  p50Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
  p9999Ns: number | null;
  notes: Record<string, string>;
}

// All four percentiles; one the sample count cannot support (fewer than 1/(1-q) samples) is null.
export function percentilesFromBuckets(a: { buckets: readonly Bucket[]; overflows: number; maxNs: number | null; resolutionNote: string }): BucketPercentiles {
  const samples = a.buckets.reduce((s, b) => s + b.count, 0) + a.overflows;
  const out: BucketPercentiles = { p50Ns: null, p99Ns: null, p999Ns: null, p9999Ns: null, notes: {} };
  for (const { name, quantile } of PERCENTILES) {
    // 1 / (1 - q) in floating point is 10000.0000000009 for p99.99: round it.
    const needed = Math.round(1 / (1 - quantile));
    if (quantile < 1 && samples < needed) {
      out.notes[name] = `null: ${samples} samples cannot support ${name} (at least ${needed} needed)`;
      continue;
    }
    out[`${name}Ns`] = percentileFromBuckets({ ...a, quantile });
    out.notes[name] = a.resolutionNote;
  }
  return out;
}
