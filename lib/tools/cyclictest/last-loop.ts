// cyclictest writes its --json file before it joins its measuring threads, and prints the
// stdout histogram after (rt-tests src/cyclictest/cyclictest.c, the same in v2.4 to v2.10:
// main() at `outall:` sets shutdown, sleeps 50 ms, calls rt_write_json(), then pthread_kill()
// and pthread_join() for each thread, then print_hist(); v2.4 lines 2204-2232, v2.10 lines
// 2280-2308). A thread checks shutdown only at the top of its loop (`while (!shutdown)`), so a
// thread that was still waiting for its next period when the JSON was written (an interval
// longer than those 50 ms, or a late wake) finishes that one iteration: it records one more
// sample (min, max, avg, then the histogram bucket or overflow, then cycles++; v2.4 lines
// 745-791) that stdout holds and the JSON does not. It cannot record a second: shutdown is
// already set. So per thread stdout is the JSON, or the JSON plus exactly one sample.
import { ToolOutputParseError } from '../../errors.ts';
import type { BucketHistogram } from '../../measure/histogram.ts';
import type { CyclictestJsonThread } from './parse-json.ts';
import type { CyclictestHistogramText } from './parse-text.ts';

/** The thread as stdout shows it, and a note when that is one sample more than the JSON. */
export interface ReconciledThread {
  thread: CyclictestJsonThread;
  note: string | null;
}

function contradiction(message: string): never {
  throw new ToolOutputParseError('cyclictest', message, { source: '--json file and stdout disagree' });
}

/** The one sample stdout has beyond the JSON: in a bucket (its value exact) or overflowed (≥ limit). */
type ExtraSample = { bucket: number } | { overflow: true } | null;

function findExtraSample(hist: BucketHistogram, text: { buckets: readonly { value: number; count: number }[]; overflows: number }, at: string): ExtraSample {
  const json = new Map(hist.buckets.map((b) => [b.value, b.count]));
  const grown: number[] = [];
  for (const b of text.buckets) {
    const before = json.get(b.value) ?? 0;
    json.delete(b.value);
    if (b.count === before) continue;
    if (b.count === before + 1) grown.push(b.value);
    else contradiction(`${at}: the histogram buckets differ (bucket ${b.value}: ${before} in the JSON, ${b.count} on stdout)`);
  }
  if (json.size > 0) contradiction(`${at}: the histogram buckets differ (bucket ${[...json.keys()][0]} is in the JSON only)`);
  const moreOverflows = text.overflows - hist.overflows;
  if (moreOverflows < 0 || moreOverflows > 1) {
    contradiction(`${at}: stdout reports ${text.overflows} overflows, the JSON implies ${hist.overflows} (cycles − samples in buckets)`);
  }
  if (grown.length + moreOverflows > 1) {
    contradiction(`${at}: stdout holds ${grown.length + moreOverflows} samples the JSON does not: cyclictest can finish at most one loop after writing its JSON`);
  }
  if (grown.length === 1) return { bucket: grown[0]! };
  return moreOverflows === 1 ? { overflow: true } : null;
}

// Per thread: the figures of the later, complete state (stdout), checked to be the JSON's plus at
// most the one sample upstream can add; anything else is a contradiction. Never drops a sample.
export function reconcileLastLoop(t: CyclictestJsonThread, seen: { hist: BucketHistogram; text: CyclictestHistogramText; limit: number }): ReconciledThread {
  const { hist, text, limit } = seen;
  const i = t.thread;
  const at = `thread ${i}`;
  const extra = findExtraSample(hist, { buckets: text.buckets[i] ?? [], overflows: text.overflows[i] ?? 0 }, at);
  if (extra === null) return { thread: t, note: null };
  const [sMin, sMax, sAvg] = [text.min[i] as number, text.max[i] as number, text.avg[i] as number];
  // The sample's value: exact in a bucket; for an overflow, at least the limit and at most stdout's max.
  const [lo, hi] = 'bucket' in extra ? [extra.bucket, extra.bucket] : [limit, sMax];
  const within = (v: number) => v >= lo && v <= hi;
  const had = t.cycles > 0;
  // One more sample v: stdout's min is min(JSON min, v) and its max is max(JSON max, v).
  const minOk = had ? (sMin === t.min && hi >= t.min) || (sMin < t.min && within(sMin)) : within(sMin) && sMin === sMax;
  const maxOk = had ? (sMax === t.max && lo <= t.max) || (sMax > t.max && within(sMax)) : within(sMax);
  if (!minOk || !maxOk) {
    contradiction(`${at}: min/max are ${had ? `${t.min}/${t.max}` : 'unset'} in the JSON but ${sMin}/${sMax} on stdout, which one more sample in [${lo}, ${hi}] µs cannot explain`);
  }
  // Where the value is not pinned down, count it at its highest possible value: never a lower average than measured.
  const value = 'bucket' in extra ? extra.bucket : !had || sMax > t.max ? sMax : sMin < t.min ? sMin : hi;
  const sum = (t.avg ?? 0) * t.cycles;
  const cycles = t.cycles + 1;
  // cyclictest truncates the stdout average; the JSON average was rounded to 0.01.
  const [avgLo, avgHi] = [(Math.max(0, sum - 0.005 * t.cycles) + lo) / cycles, (sum + 0.005 * t.cycles + hi) / cycles];
  if (sAvg > avgHi + 1e-9 || sAvg + 1 <= avgLo - 1e-9) {
    contradiction(`${at}: avg is ${t.avg} over ${t.cycles} cycles in the JSON but ${sAvg} on stdout, which one more sample in [${lo}, ${hi}] µs cannot explain`);
  }
  const histogram = new Map(t.histogram ?? []);
  if ('bucket' in extra) histogram.set(extra.bucket, (histogram.get(extra.bucket) ?? 0) + 1);
  const thread: CyclictestJsonThread = { ...t, cycles, min: sMin, max: sMax, avg: Math.round(((sum + value) / cycles) * 100) / 100, histogram };
  const what = 'bucket' in extra ? `a sample of ${extra.bucket} µs` : `a sample over the ${limit} µs histogram limit`;
  return {
    thread,
    note: `stdout holds one sample more than the --json file (${what}): cyclictest writes the JSON before its threads finish their last loop; the figures include it`,
  };
}
