// TRex's per-pg-id latency stats, converted from microseconds to the TrialLatency shape in
// nanoseconds. VSPERF once wrote these microseconds into `_ns` fields unconverted; every
// figure here passes through usToNs, and the tests pin the factor of 1000.
//
// How TRex fills its histogram (trex-core src/time_histogram.cpp, CTimeHistogram::Add and
// dump_json): a sample of d us goes to the bucket whose key is d's leading decimal digit
// followed by zeros, at least two digits: 10 holds [10, 20) us, 90 [90, 100), 100 [100, 200),
// 1000 [1000, 2000). Samples under 10 us are only counted, under key "0" = [0, 10) us. Keys
// stop at 900000: a sample of 1 s or more lands in no bucket (counted here as an overflow).
// The STL client (trex_stl_client.py example stl_flow_latency_stats.py) reads the ranges the
// same way: key k spans [k, k + 10^(digits(k) - 1)). Each bucket [lo, hi) us becomes the
// inclusive ns bucket [lo * 1000, hi * 1000 - 1].
//
// The scalar figures (trex-core v3.0.7 src/time_histogram.cpp CTimeHistogram::dump_json, lines
// 274-282, and src/stx/stl/trex_stl_fs.cpp line 1420 for jitter) all pass through get_usec(),
// a cast to uint32_t: whole microseconds, truncated. total_min is the true minimum of the
// samples (CTimeHistogram::Add keeps it per 0.5 s period, update() folds it in at lines 145-177)
// since TRex v2.66 (commit 81492cd4 "precise_min_latency"); before, the client reported the
// lowest histogram key (2 for key 0) instead.
import { ToolOutputParseError } from '../../errors.ts';
import { percentilesFromBuckets } from '../../measure/hdr.ts';
import type { LatencyBucket, TrialLatency } from '../../traffic/generator.ts';

/** TRex's figures (total_max, histogram) are whole microseconds. */
export const TREX_RESOLUTION_NS = 1000;
const ONE_SECOND_NS = 1_000_000_000;

/** The inner `latency` dict of get_stats()['latency'][pg_id], numbers in whole microseconds. */
export interface TrexLatencyFigures {
  average: number | null;
  jitter: number | null;
  total_max: number | null;
  total_min: number | null;
  histogram: Record<string, number>;
}

// The one place TRex microseconds become nanoseconds.
export function usToNs(us: number): number {
  return Math.round(us * 1000);
}

// One TRex histogram key as an inclusive ns bucket; a key TRex cannot print is refused.
export function trexBucketBounds(key: string, source?: string): { lowerNs: number; upperNs: number } {
  if (key === '0') return { lowerNs: 0, upperNs: 10 * 1000 - 1 };
  const m = /^([1-9])(0+)$/.exec(key);
  if (!m) {
    throw new ToolOutputParseError('kfn-trex-trial', `latency histogram key ${JSON.stringify(key)} is not a TRex bucket (0, or one digit 1-9 followed by zeros, in us)`, source === undefined ? undefined : { source });
  }
  const widthUs = 10 ** m[2]!.length;
  const lowerUs = Number(m[1]) * widthUs;
  return { lowerNs: lowerUs * 1000, upperNs: (lowerUs + widthUs) * 1000 - 1 };
}

// Buckets in ascending order; zero counts are dropped (TRex's client deletes them itself).
export function convertTrexHistogram(histogram: Record<string, number>, source?: string): LatencyBucket[] {
  return Object.entries(histogram)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => ({ ...trexBucketBounds(key, source), count }))
    .sort((a, b) => a.lowerNs - b.lowerNs);
}

// The direction's latency from TRex's figures and the latency frames received on the rx port.
export function convertTrexLatency(figures: TrexLatencyFigures, rxLatencyFrames: number, source?: string): TrialLatency {
  const buckets = convertTrexHistogram(figures.histogram, source);
  const bucketed = buckets.reduce((s, b) => s + b.count, 0);
  const overflows = Math.max(0, rxLatencyFrames - bucketed);
  const samples = bucketed + overflows;
  const notes: Record<string, string> = {};
  const empty: TrialLatency = {
    source: 'latency-stream',
    samples,
    minNs: null,
    avgNs: null,
    maxNs: null,
    jitterNs: null,
    p50Ns: null,
    p99Ns: null,
    p999Ns: null,
    p9999Ns: null,
    resolutionNs: TREX_RESOLUTION_NS,
    buckets,
    overflows,
    maxIsLowerBound: false,
    notes,
  };
  if (samples === 0) {
    notes.all = 'no latency frame arrived: every latency figure is null';
    return empty;
  }
  checkMinAgainstHistogram(figures.total_min, buckets, source);
  let maxNs = figures.total_max === null ? null : usToNs(figures.total_max);
  let maxIsLowerBound = false;
  const highest = buckets.at(-1);
  // TRex leaves the first samples of a stream out of total_max; its histogram keeps them.
  if (highest && (maxNs === null || highest.lowerNs > maxNs)) {
    notes.max = `TRex's total_max (${figures.total_max ?? 'absent'} us) misses a sample its histogram holds in [${highest.lowerNs}, ${highest.upperNs}] ns; max is that bucket's lower bound`;
    maxNs = highest.lowerNs;
    maxIsLowerBound = true;
  }
  if (overflows > 0 && (maxNs === null || maxNs < ONE_SECOND_NS)) {
    notes.max = `${overflows} latency frames arrived but fit no TRex bucket (1 s or more); max is at least 1 s`;
    maxNs = ONE_SECOND_NS;
    maxIsLowerBound = true;
  }
  const pct = percentilesFromBuckets({
    buckets,
    overflows,
    maxNs,
    resolutionNote: "upper bound of TRex's histogram bucket (10 us wide below 100 us, 100 us below 1 ms, and so on)",
  });
  notes.avg = "TRex's average is a low-pass filter over 0.5 s windows (average = previous/2 + window mean/2), not the mean of all samples";
  notes.min = "TRex (v2.66 and later) reports the true minimum truncated to whole microseconds (up to 1 us low), over the 0.5 s periods it had closed when the stats were read";
  if (figures.jitter !== null) notes.jitter = 'RFC 3550 interarrival jitter of the latency stream, as TRex computes it';
  return {
    ...empty,
    minNs: figures.total_min === null ? (buckets[0]?.lowerNs ?? null) : usToNs(figures.total_min),
    avgNs: figures.average === null ? null : usToNs(figures.average),
    maxNs,
    jitterNs: figures.jitter === null ? null : usToNs(figures.jitter),
    p50Ns: pct.p50Ns,
    p99Ns: pct.p99Ns,
    p999Ns: pct.p999Ns,
    p9999Ns: pct.p9999Ns,
    maxIsLowerBound,
    notes: { ...notes, ...pct.notes },
  };
}

// The minimum is taken over samples the histogram also counts, so it cannot lie outside it.
function checkMinAgainstHistogram(totalMinUs: number | null, buckets: readonly LatencyBucket[], source?: string): void {
  const lowest = buckets[0];
  const highest = buckets.at(-1);
  if (totalMinUs === null || !lowest || !highest) return;
  const minNs = usToNs(totalMinUs);
  if (minNs < lowest.lowerNs || minNs > highest.upperNs) {
    throw new ToolOutputParseError(
      'kfn-trex-trial',
      `total_min ${totalMinUs} us lies outside the latency histogram [${lowest.lowerNs / 1000}, ${(highest.upperNs + 1) / 1000}) us, which counts every sample TRex's minimum is taken from`,
      source === undefined ? undefined : { source },
    );
  }
}
