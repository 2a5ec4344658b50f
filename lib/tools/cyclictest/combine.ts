// One cyclictest run from its two outputs: the --json file (exact cycles, min/avg/max, CPUs)
// and the -q -h stdout (overflow counts, break). Each is checked against the other, because a
// figure that only one of them supports is a figure nobody should gate on.
import { MeasurementError, ToolOutputParseError } from '../../errors.ts';
import {
  buildBucketHistogram,
  buildNullSummary,
  mergeHistograms,
  summarizeHistogram,
  type BucketHistogram,
  type HistogramBucket,
} from '../../measure/histogram.ts';
import type { LatencySummary } from '../../results/model.ts';
import { parseCyclictestJson, type CyclictestJsonReport, type CyclictestJsonThread, type CyclictestSysinfo } from './parse-json.ts';
import { parseCyclictestHistogramText, type CyclictestHistogramText } from './parse-text.ts';
import { reconcileLastLoop, type ReconciledThread } from './last-loop.ts';

const TOOL = 'cyclictest';

export interface CyclictestThreadResult {
  thread: number;
  cpu: number;
  cycles: number;
  /** null when the thread completed 0 cycles. µs. */
  min: number | null;
  avg: number | null;
  max: number | null;
  buckets: HistogramBucket[];
  overflows: number;
  summary: LatencySummary;
}

export interface CyclictestResult {
  version: string;
  cmdline: string;
  histogramLimitUs: number | null;
  threads: CyclictestThreadResult[];
  overall: LatencySummary;
  /** Index of the thread whose latency exceeded -b, when the run was stopped by it. */
  breakThread?: number;
  /** The latency (µs) that triggered the break. */
  breakValue?: number;
  sysinfo?: CyclictestSysinfo;
}

export interface CombineCyclictestInput {
  json: CyclictestJsonReport;
  /** Parsed stdout; null only for a run without -h (then histogramLimitUs is null too). */
  text: CyclictestHistogramText | null;
  /** The -h argument the run was started with; null when it ran without -h. */
  histogramLimitUs: number | null;
  /** The CPU each thread was meant to run on, in thread order (from buildCyclictestCommand). */
  expectedCpus?: readonly number[];
}

function contradiction(message: string): never {
  throw new ToolOutputParseError(TOOL, message, { source: '--json file and stdout disagree' });
}

function checkLimit(input: CombineCyclictestInput): number | null {
  const { json, text, histogramLimitUs: limit } = input;
  if (limit !== null && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new MeasurementError(`cyclictest histogram limit must be a whole number of µs > 0, got ${limit}`);
  }
  if (json.histogramArg !== null && json.histogramArg !== limit) {
    contradiction(`the run's command line has -h ${json.histogramArg}, but the histogram limit given is ${limit}`);
  }
  if (limit === null && text !== null) contradiction('stdout holds a histogram, but no histogram limit was given');
  if (limit !== null && text === null) {
    // Why required: the overflow count is derived from the JSON, but only stdout confirms it.
    throw new MeasurementError('a cyclictest run with -h needs its stdout to confirm the overflow counts');
  }
  if (text !== null && limit !== null) {
    if (text.highestRow !== null && text.highestRow >= limit) contradiction(`stdout has bucket ${text.highestRow} with -h ${limit}`);
    if (text.format === '2.4' && text.rowCount !== limit) {
      contradiction(`stdout has ${text.rowCount} histogram rows; cyclictest 2.4 prints exactly ${limit} for -h ${limit}`);
    }
  }
  return limit;
}

function sameBuckets(a: readonly HistogramBucket[], b: readonly HistogramBucket[]): boolean {
  return a.length === b.length && a.every((x, i) => x.value === b[i]?.value && x.count === b[i]?.count);
}

function checkThreadAgainstText(t: CyclictestJsonThread, seen: { hist: BucketHistogram; text: CyclictestHistogramText }): void {
  const { hist, text } = seen;
  const i = t.thread;
  const at = `thread ${i}`;
  if (!sameBuckets(hist.buckets, text.buckets[i] ?? [])) contradiction(`${at}: the histogram buckets differ`);
  if (text.overflows[i] !== hist.overflows) {
    contradiction(`${at}: stdout reports ${text.overflows[i]} overflows, the JSON implies ${hist.overflows} (cycles − samples in buckets)`);
  }
  if (t.cycles === 0) return;
  if (text.min[i] !== t.min || text.max[i] !== t.max) {
    contradiction(`${at}: min/max are ${t.min}/${t.max} in the JSON but ${text.min[i]}/${text.max[i]} on stdout`);
  }
  // stdout truncates the average, the JSON rounds it to 2 decimals.
  const printed = text.avg[i] as number;
  if (t.avg !== null && !(t.avg >= printed - 0.005 && t.avg < printed + 1.005)) {
    contradiction(`${at}: avg is ${t.avg} in the JSON but ${printed} on stdout`);
  }
}

// The buckets hold the exact truncated samples, as min and max do: the extremes must coincide.
function checkThreadStats(t: CyclictestJsonThread, seen: { hist: BucketHistogram; limit: number | null }): void {
  const { hist, limit } = seen;
  const at = `thread ${t.thread}`;
  if (t.avg === null) contradiction(`${at}: avg is nan with ${t.cycles} cycles`);
  if (t.min > t.max || t.avg < t.min - 0.005 || t.avg > t.max + 0.005) contradiction(`${at}: min ${t.min}, avg ${t.avg}, max ${t.max} are out of order`);
  if (limit === null) return;
  const low = hist.buckets[0];
  const high = hist.buckets[hist.buckets.length - 1];
  if (low !== undefined && low.value !== t.min) contradiction(`${at}: min is ${t.min} but the lowest bucket is ${low.value}`);
  if (low === undefined && t.min < limit) contradiction(`${at}: min ${t.min} is inside the histogram, yet no bucket has a sample`);
  if (hist.overflows === 0 && high !== undefined && high.value !== t.max) {
    contradiction(`${at}: max is ${t.max} but the highest bucket is ${high.value} and nothing overflowed`);
  }
  // Why throw rather than mark max as a bound: cyclictest measures max independently of the
  // histogram, so this can only be a mixed-up or wrong limit, and then no figure is trustworthy.
  if (hist.overflows > 0 && t.max < limit) {
    contradiction(`${at}: ${hist.overflows} samples overflowed -h ${limit}, yet max is ${t.max} µs`);
  }
}

function buildThreadHistogram(t: CyclictestJsonThread, limit: number | null): BucketHistogram {
  const at = `thread ${t.thread}`;
  if (limit === null) {
    if (t.histogram !== null && t.histogram.size > 0) contradiction(`${at}: the JSON has histogram buckets, but no histogram limit was given`);
    return buildBucketHistogram({ unit: 'us', counts: [], overflows: 0, limit: null });
  }
  if (t.histogram === null) contradiction(`${at}: the JSON has no "histogram" key, yet the run used -h ${limit}`);
  let binned = 0;
  for (const [value, c] of t.histogram) {
    if (value >= limit) contradiction(`${at}: JSON bucket ${value} is outside -h ${limit}`);
    binned += c;
  }
  if (binned > t.cycles) contradiction(`${at}: ${binned} samples in buckets but only ${t.cycles} cycles`);
  return buildBucketHistogram({ unit: 'us', counts: t.histogram, overflows: t.cycles - binned, limit });
}

// Without -h there are exact min/avg/max over `cycles` samples, and no distribution at all.
function summarize(hist: BucketHistogram, stats: { cycles: number; min: number; avg: number; max: number }): LatencySummary {
  if (hist.limit !== null) return summarizeHistogram(hist, stats);
  const summary = buildNullSummary({ unit: 'us', samples: stats.cycles, overflows: 0, why: 'no histogram: cyclictest ran without -h' });
  for (const key of ['min', 'avg', 'max'] as const) {
    summary[key] = stats[key];
    delete summary.notes[key];
  }
  return summary;
}

function buildThread(t: CyclictestJsonThread, seen: { hist: BucketHistogram; text: CyclictestHistogramText | null; limit: number | null; note: string | null }): CyclictestThreadResult {
  const { hist, text, limit, note } = seen;
  if (text !== null) checkThreadAgainstText(t, { hist, text });
  const base = { thread: t.thread, cpu: t.cpu, cycles: t.cycles, buckets: [...hist.buckets], overflows: hist.overflows };
  if (t.cycles === 0) {
    if (hist.buckets.length > 0) contradiction(`thread ${t.thread}: 0 cycles but samples in buckets`);
    const why = `thread ${t.thread} (CPU ${t.cpu}) completed 0 cycles`;
    return { ...base, min: null, avg: null, max: null, summary: buildNullSummary({ unit: 'us', samples: 0, overflows: 0, why }) };
  }
  checkThreadStats(t, { hist, limit });
  const summary = summarize(hist, { cycles: t.cycles, min: t.min, avg: t.avg as number, max: t.max });
  if (note !== null) summary.notes['lastLoop'] = note;
  return { ...base, min: t.min, avg: t.avg, max: t.max, summary };
}

// Overall = every thread's samples together. A thread with no samples leaves a CPU unmeasured,
// so the overall figures are withheld rather than computed from the CPUs that did run.
function buildOverall(threads: CyclictestThreadResult[], hists: BucketHistogram[]): LatencySummary {
  const samples = threads.reduce((s, t) => s + t.cycles, 0);
  const overflows = threads.reduce((s, t) => s + t.overflows, 0);
  const idle = threads.filter((t) => t.cycles === 0);
  if (idle.length > 0) {
    const why = `thread ${idle.map((t) => `${t.thread} (CPU ${t.cpu})`).join(', ')} completed 0 cycles: not every CPU was measured`;
    return buildNullSummary({ unit: 'us', samples, overflows, why });
  }
  const min = Math.min(...threads.map((t) => t.min as number));
  const max = Math.max(...threads.map((t) => t.max as number));
  // Cycle-weighted mean of the per-thread means (each already rounded to 0.01 by cyclictest).
  const avg = Math.round((threads.reduce((s, t) => s + (t.avg as number) * t.cycles, 0) / samples) * 100) / 100;
  return summarize(mergeHistograms(hists), { cycles: samples, min, avg, max });
}

// Suites gate on one checked result per run: a contradiction between the outputs is an error, never a figure.
export function combineCyclictest(input: CombineCyclictestInput): CyclictestResult {
  const { json, text, expectedCpus } = input;
  if (json.nsResolution) throw new MeasurementError('cyclictest ran with -N (ns figures); this suite builds and reads µs runs only');
  if (json.returnCode !== 0) throw new MeasurementError(`cyclictest reported return_code ${json.returnCode} in its --json file`);
  if (json.threads.length === 0) contradiction('the JSON lists no threads');
  const limit = checkLimit(input);
  if (text !== null && text.threads !== json.threads.length) {
    contradiction(`the JSON has ${json.threads.length} threads, stdout has ${text.threads}`);
  }
  if (expectedCpus !== undefined) {
    const cpus = json.threads.map((t) => t.cpu);
    if (cpus.length !== expectedCpus.length || cpus.some((c, i) => c !== expectedCpus[i])) {
      throw new MeasurementError(`cyclictest threads ran on CPUs ${cpus.join(',')}, expected ${expectedCpus.join(',')}`);
    }
  }
  // stdout may hold one last loop the JSON missed (last-loop.ts): the later state is the one reported.
  const reconciled = json.threads.map((t): ReconciledThread => (text !== null && limit !== null ? reconcileLastLoop(t, { hist: buildThreadHistogram(t, limit), text, limit }) : { thread: t, note: null }));
  const hists = reconciled.map((r) => buildThreadHistogram(r.thread, limit));
  const threads = reconciled.map((r, i) => buildThread(r.thread, { hist: hists[i] as BucketHistogram, text, limit, note: r.note }));
  const result: CyclictestResult = {
    version: json.version,
    cmdline: json.cmdline,
    histogramLimitUs: limit,
    threads,
    overall: buildOverall(threads, hists),
  };
  if (json.sysinfo !== null) result.sysinfo = json.sysinfo;
  if (text !== null && text.breakThreadId !== null) {
    if (text.breakThread === null || text.breakValue === null) contradiction(`"# Break thread: ${text.breakThreadId}" without "# Thread Ids:" or "# Break value:"`);
    const broke = threads[text.breakThread];
    if (broke?.max === null || broke === undefined || text.breakValue > broke.max) {
      contradiction(`break value ${text.breakValue} µs exceeds thread ${text.breakThread}'s max`);
    }
    result.breakThread = text.breakThread;
    result.breakValue = text.breakValue;
  }
  return result;
}

// The usual call: both raw outputs of a run started by buildCyclictestCommand.
export function parseCyclictestRun(input: {
  jsonText: string;
  stdout: string | null;
  histogramLimitUs: number | null;
  expectedCpus?: readonly number[];
}): CyclictestResult {
  const json = parseCyclictestJson(input.jsonText);
  const text = input.stdout === null ? null : parseCyclictestHistogramText(input.stdout);
  const combined: CombineCyclictestInput = { json, text, histogramLimitUs: input.histogramLimitUs };
  if (input.expectedCpus !== undefined) combined.expectedCpus = input.expectedCpus;
  return combineCyclictest(combined);
}
