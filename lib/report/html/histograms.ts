// Latency histograms as the report draws them: every source (cyclictest's JSON, the interrupt
// agents' `[lower_ns, upper_ns, count]` tuples, a traffic generator's `{lowerNs, upperNs,
// count}` buckets) becomes one list of buckets in microseconds. Pure: values in, buckets out.

/**
 * One bucket in microseconds, half-open: [lower, upper). The tools print inclusive integer
 * bounds in their own unit (cyclictest's bucket 13 holds 13 us; an agent's [1000, 1999] ns),
 * so upper is their bound plus one of that unit, and a bar spans the bucket's true width.
 */
export interface HistogramBucket {
  lower: number;
  upper: number;
  count: number;
}

/** A distribution found in a case's details, with the path that locates it. */
export interface FoundHistogram {
  /** Key path inside `details`, array elements named by their frame size, direction or index. */
  path: string[];
  buckets: HistogramBucket[];
  overflows: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isBound = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function toMicro(value: number, unit: string): number {
  return unit === 'ns' ? value / 1000 : value;
}

function readBucket(b: unknown, unit: string): HistogramBucket | undefined {
  if (Array.isArray(b) && b.length === 3 && isBound(b[0]) && isBound(b[1]) && isCount(b[2]) && b[1] >= b[0]) {
    return { lower: toMicro(b[0], unit), upper: toMicro(b[1] + 1, unit), count: b[2] };
  }
  if (isObject(b) && isBound(b.lowerNs) && isBound(b.upperNs) && isCount(b.count) && b.upperNs >= b.lowerNs) {
    return { lower: b.lowerNs / 1000, upper: (b.upperNs + 1) / 1000, count: b.count };
  }
  if (isObject(b) && isBound(b.lower) && isBound(b.upper) && isCount(b.count) && b.upper >= b.lower) {
    return { lower: toMicro(b.lower, unit), upper: toMicro(b.upper + 1, unit), count: b.count };
  }
  return undefined;
}

/**
 * Reads a bucket list in any of the recorded shapes; undefined when any element is not a
 * bucket, so that a half-understood list is never drawn as if it were whole. Tuples are in
 * `unit` (the agents and the forwarding cases keep ns); `{lowerNs, upperNs}` objects are ns by
 * their names; a `{ "<value>": count }` record (cyclictest's form) has one-unit buckets.
 */
export function readBuckets(value: unknown, unit: 'us' | 'ns'): HistogramBucket[] | undefined {
  if (isObject(value)) return readRecord(value, unit);
  if (!Array.isArray(value)) return undefined;
  const out: HistogramBucket[] = [];
  for (const b of value) {
    const bucket = readBucket(b, unit);
    if (!bucket) return undefined;
    if (bucket.count > 0) out.push(bucket);
  }
  return out.sort((a, b) => a.lower - b.lower);
}

function readRecord(value: Record<string, unknown>, unit: 'us' | 'ns'): HistogramBucket[] | undefined {
  const out: HistogramBucket[] = [];
  for (const [key, count] of Object.entries(value)) {
    const at = Number(key);
    if (key.trim() === '' || !Number.isFinite(at) || !isCount(count)) return undefined;
    if (count > 0) out.push({ lower: toMicro(at, unit), upper: toMicro(at + 1, unit), count });
  }
  return out.sort((a, b) => a.lower - b.lower);
}

// Threads of one node are one distribution for the node's chart: counts of equal buckets add.
export function mergeBuckets(lists: readonly (readonly HistogramBucket[])[]): HistogramBucket[] {
  const byKey = new Map<string, HistogramBucket>();
  for (const list of lists) {
    for (const b of list) {
      const key = `${b.lower}:${b.upper}`;
      const seen = byKey.get(key);
      if (seen) seen.count += b.count;
      else byKey.set(key, { ...b });
    }
  }
  return [...byKey.values()].sort((a, b) => a.lower - b.lower);
}

function niceWidth(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((x) => x * power >= raw) ?? 10;
  return step * power;
}

// Consecutive buckets with one key become one bin spanning exactly their buckets: a bin never
// claims a range where no bucket was, and bins of non-overlapping buckets never overlap.
function groupBuckets(buckets: readonly HistogramBucket[], keyOf: (b: HistogramBucket) => number): HistogramBucket[] {
  const bins = new Map<number, HistogramBucket>();
  for (const b of [...buckets].sort((x, y) => x.lower - y.lower)) {
    const key = keyOf(b);
    const bin = bins.get(key);
    if (bin) {
      bin.upper = Math.max(bin.upper, b.upper);
      bin.count += b.count;
    } else {
      bins.set(key, { ...b });
    }
  }
  return [...bins.values()];
}

/** How a histogram is drawn: linear latency axis, or logarithmic when the tail is long. */
export type LatencyScale = 'linear' | 'log';

/** Beyond this ratio of the highest to the lowest latency, a linear axis squeezes the bulk into one bar. */
export const LOG_SCALE_RATIO = 50;

// The lowest latency a log axis can place: a bucket starting at 0 counts from half its width.
export function lowestPositive(buckets: readonly HistogramBucket[]): number {
  return Math.min(...buckets.map((b) => (b.lower > 0 ? b.lower : b.upper / 2)));
}

// A timer on a poor host has its bulk near 20 us and a max of several ms: on a linear axis the
// bulk is one bar. Past LOG_SCALE_RATIO the latency axis becomes logarithmic too.
export function chooseLatencyScale(buckets: readonly HistogramBucket[]): LatencyScale {
  if (buckets.length === 0) return 'linear';
  const hi = Math.max(...buckets.map((b) => b.upper));
  return hi / lowestPositive(buckets) > LOG_SCALE_RATIO ? 'log' : 'linear';
}

/**
 * A chart of 20000 one-microsecond bars is unreadable and heavy: buckets are merged into at most
 * about `maxBins` bins, of one round width on a linear axis or `binsPerDecade` per decade on a log
 * axis. Counts are kept exactly; only the x resolution drops.
 */
export function rebinBuckets(
  buckets: readonly HistogramBucket[],
  options: { scale?: LatencyScale; maxBins?: number; binsPerDecade?: number; reference?: readonly HistogramBucket[] } = {},
): HistogramBucket[] {
  if (buckets.length === 0) return [];
  const maxBins = options.maxBins ?? 120;
  // Series drawn over each other share one binning, taken from all their buckets.
  const all = options.reference && options.reference.length > 0 ? options.reference : buckets;
  if (options.scale === 'log') {
    const perDecade = options.binsPerDecade ?? 25;
    const floor = lowestPositive(all);
    return groupBuckets(buckets, (b) => Math.floor(Math.log10(Math.max(b.lower, floor)) * perDecade));
  }
  const lo = Math.min(...all.map((b) => b.lower));
  const hi = Math.max(...all.map((b) => b.upper));
  const finest = Math.min(...all.map((b) => b.upper - b.lower));
  // Bars are as wide as their buckets, so a wide sparse range needs merging too.
  if (all.length <= maxBins && (hi - lo) / finest <= maxBins * 4) return buckets.map((b) => ({ ...b }));
  const width = niceWidth((hi - lo) / maxBins);
  return groupBuckets(buckets, (b) => Math.floor(b.lower / width));
}

/**
 * cyclictest 2.4 `--json` (formats.md): `thread.<n>.histogram` maps microseconds to counts,
 * non-zero buckets only; `avg` may be a bare `nan`, which is not JSON, so it is replaced first.
 * Returns one bucket list per thread, or a reason the text is not such a file.
 */
export function parseCyclictestHistograms(text: string): { threads: Record<string, HistogramBucket[]> } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/:\s*-?nan\b/g, ': null'));
  } catch {
    return { problem: 'not JSON' };
  }
  if (!isObject(value) || !isObject(value.thread)) return { problem: 'no "thread" object (expected cyclictest --json output)' };
  const threads: Record<string, HistogramBucket[]> = {};
  for (const [id, thread] of Object.entries(value.thread)) {
    if (!isObject(thread) || !isObject(thread.histogram)) return { problem: `thread ${id} has no "histogram" object` };
    const buckets: HistogramBucket[] = [];
    for (const [us, count] of Object.entries(thread.histogram)) {
      const at = Number(us);
      if (!Number.isInteger(at) || at < 0 || !isCount(count)) return { problem: `thread ${id}: histogram entry "${us}": ${JSON.stringify(count)} is not <us>: <count>` };
      if (count > 0) buckets.push({ lower: at, upper: at + 1, count });
    }
    threads[id] = buckets.sort((a, b) => a.lower - b.lower);
  }
  return { threads };
}

function elementName(v: unknown, index: number): string {
  if (isObject(v)) {
    if (typeof v.frameSize === 'number' || typeof v.frameSize === 'string') return `${v.frameSize}${typeof v.frameSize === 'number' ? ' B' : ''}`;
    if (typeof v.direction === 'string') return v.direction;
    if (typeof v.where === 'string') return v.where;
  }
  return `#${index}`;
}

// The unit of a histogram beside its summary: said outright, or the recorded convention: the
// interrupt agents' `buckets` and the forwarding cases' `histogram` rows are ns, while a
// `{ "<value>": count }` record follows cyclictest (us).
function unitOf(obj: Record<string, unknown>, key: 'buckets' | 'histogram'): 'us' | 'ns' {
  if (obj.unit === 'us' || obj.unit === 'ns') return obj.unit;
  return Array.isArray(obj[key]) ? 'ns' : 'us';
}

function overflowsOf(obj: Record<string, unknown>): number {
  if (isCount(obj.overflows)) return obj.overflows;
  if (isObject(obj.summary) && isCount(obj.summary.overflows)) return obj.summary.overflows;
  return 0;
}

// Any object in a case's details that carries a readable `buckets` or `histogram` is a
// distribution to draw, wherever the case put it: device interrupt figures, forwarding
// latencies, and the timer once it keeps its merged histogram in details.
export function findDetailHistograms(details: Record<string, unknown>, maxDepth = 8): FoundHistogram[] {
  const found: FoundHistogram[] = [];
  const visit = (value: unknown, path: string[], depth: number) => {
    if (depth > maxDepth) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, elementName(v, i)], depth + 1));
      return;
    }
    if (!isObject(value)) return;
    for (const key of ['buckets', 'histogram'] as const) {
      if (!(key in value)) continue;
      const buckets = readBuckets(value[key], unitOf(value, key));
      if (buckets && buckets.length > 0) {
        found.push({ path, buckets, overflows: overflowsOf(value) });
        return;
      }
    }
    for (const [key, v] of Object.entries(value)) visit(v, [...path, key], depth + 1);
  };
  visit(details, [], 0);
  return found;
}
