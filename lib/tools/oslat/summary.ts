// oslat's rows as the result model's latency summaries. Percentiles come from the histogram by
// the same nearest-rank rule as cyclictest's (lib/measure/histogram.ts): a rank that falls in
// the last row, which holds every gap too large for the others, has no value, only a bound.
// That row is counted as overflows, never folded into a figure. min and max are oslat's own
// exact figures; its average is its own too, from the row labels, with the caveat below.
import type { LatencySummary } from '../../results/model.ts';
import { ToolOutputParseError } from '../../errors.ts';
import { buildBucketHistogram, buildNullSummary, mergeHistograms, summarizeHistogram, type BucketHistogram } from '../../measure/histogram.ts';
import type { OslatOutput, OslatThreadOutput } from './parse.ts';

export interface OslatThreadResult {
  thread: number;
  cpu: number;
  durationS: number;
  summary: LatencySummary;
  histogram: BucketHistogram;
}

export interface OslatResult {
  version: string;
  release: string;
  /** How this release rounds a gap to whole µs, said in words for the report. */
  rounding: string;
  threads: OslatThreadResult[];
  overall: LatencySummary;
}

const ROUNDING_TEXT: Record<OslatOutput['rounding'], string> = {
  'floor-plus-one': 'each gap reported as whole µs + 1 (rt-tests ≤ 2.4: a 0.3 µs gap counts as 1 µs)',
  ceil: 'each gap rounded up to whole µs (rt-tests 2.5, 2.6)',
  floor: 'each gap truncated to whole µs (rt-tests ≥ 2.7, as cyclictest)',
};

// A row labelled L holds the gaps reported as L (≤ 2.4) or L−1 (later releases): the bucket
// value is the largest figure a gap counted in it can carry, so no percentile understates.
function threadHistogram(out: OslatOutput, t: OslatThreadOutput): BucketHistogram {
  const shift = out.rounding === 'floor-plus-one' ? 0 : 1;
  const rows = t.rows.slice(0, -1);
  const last = t.rows.at(-1) as { labelUs: number; count: number };
  // The last row starts one µs above the row before it: reported figures ≥ label − 1 + (1 − shift).
  const limit = last.labelUs - shift;
  return buildBucketHistogram({ unit: 'us', counts: rows.map((r) => [r.labelUs - shift, r.count] as const), overflows: last.count, limit });
}

function fail(message: string): never {
  throw new ToolOutputParseError('oslat', message, { source: 'stdout' });
}

/**
 * Summaries of every thread and of all threads together. `expectedCpus` is what the command
 * asked for: oslat silently skips a CPU it cannot move to, which must not pass as measured.
 */
export function summarizeOslat(out: OslatOutput, expect: { cpus: readonly number[]; bucketSize: number }): OslatResult {
  const cpus = out.threads.map((t) => t.cpu);
  if (cpus.join(',') !== [...expect.cpus].sort((a, b) => a - b).join(',')) {
    fail(`oslat ran on CPU ${cpus.join(',')}, the command asked for ${expect.cpus.join(',')}: a CPU it could not move to was skipped`);
  }
  if (out.lastLabelUs !== expect.bucketSize) fail(`the last histogram row is labelled ${out.lastLabelUs} us, expected ${expect.bucketSize} (--bucket-size ${expect.bucketSize} of 1 us)`);
  // calculate() adds thread 0's overflow_sum into every thread's average (t->overflow_sum, not
  // t[i].overflow_sum): with anything in thread 0's last row, the other averages are off.
  const firstOverflow = out.threads[0]?.rows.at(-1)?.count ?? 0;
  const threads = out.threads.map((t): OslatThreadResult => {
    const histogram = threadHistogram(out, t);
    const avgSuspect = t.thread > 0 && firstOverflow > 0;
    const summary = summarizeHistogram(histogram, { min: t.minUs, avg: avgSuspect ? null : t.avgUs, max: t.maxUs });
    if (avgSuspect) summary.notes.avg = `oslat adds thread 0's overflow total into every thread's average (calculate() in oslat.c), and thread 0 overflowed ${firstOverflow} times`;
    else summary.notes.avg = 'oslat\'s average: each gap counted at its row label, the upper bound of its row';
    return { thread: t.thread, cpu: t.cpu, durationS: t.durationS, summary, histogram };
  });
  return { version: out.versionText, release: out.release, rounding: ROUNDING_TEXT[out.rounding], threads, overall: buildOverall(threads) };
}

function buildOverall(threads: OslatThreadResult[]): LatencySummary {
  const samples = threads.reduce((s, t) => s + t.summary.samples, 0);
  const overflows = threads.reduce((s, t) => s + t.summary.overflows, 0);
  const idle = threads.filter((t) => t.summary.samples === 0);
  if (idle.length > 0) return buildNullSummary({ unit: 'us', samples, overflows, why: `thread ${idle.map((t) => t.thread).join(', ')} counted no gap: not every CPU was measured` });
  const min = Math.min(...threads.map((t) => t.summary.min as number));
  const max = Math.max(...threads.map((t) => t.summary.max as number));
  const avgs = threads.map((t) => t.summary.avg);
  const avg = avgs.some((a) => a === null) ? null : Math.round((threads.reduce((s, t) => s + (t.summary.avg as number) * t.summary.samples, 0) / samples) * 1000) / 1000;
  const summary = summarizeHistogram(mergeHistograms(threads.map((t) => t.histogram)), { min, avg, max });
  if (avg === null) summary.notes.avg = 'a thread\'s average is not trustworthy (see that thread)';
  return summary;
}
