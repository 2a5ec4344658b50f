// hwlatdetect's stdout (rt-tests src/hwlatdetect/hwlatdetect.py, read at v2.4 and v2.10). It
// drives the kernel's hwlat tracer: a kernel thread spins with interrupts off for `width` µs in
// every `window` µs and records each gap it saw in the TSC above `threshold` µs, the time the
// CPU was taken by firmware (SMIs) or hardware. Only such samples are printed, so a run with none
// says "Max Latency: Below threshold": the maximum is then known only to be below the threshold.
import { lineRejecter, splitTextLines, type TextLine as Line } from '../text-lines.ts';

const TOOL = 'hwlatdetect';

export interface HwlatSample {
  /** The trace timestamp, seconds as printed. */
  timestamp: string;
  innerUs: number;
  outerUs: number;
  /** rt-tests ≥ 2.8 prints the CPU and, on kernels that give it, how many gaps the sample merged. */
  cpu?: number;
  count?: number;
}

export interface HwlatdetectOutput {
  durationS: number;
  thresholdUs: number;
  windowUs: number;
  widthUs: number;
  cpuList: string | null;
  /** null: no sample reached the threshold ("Below threshold"). */
  maxUs: number | null;
  samplesRecorded: number;
  /** Sum of the samples' counts where printed, else the number of samples (as hwlatdetect.py counts). */
  samplesExceeding: number;
  /** "SMIs during run: N", printed when /usr/sbin/rdmsr exists. */
  smis: number | null;
  samples: HwlatSample[];
}


// Typed here: TypeScript narrows after a never-returning call only through an annotated const.
const reject: (message: string, line?: Line) => never = lineRejecter(TOOL, 'stdout');

function field(lines: Line[], pattern: RegExp, what: string): { value: string; line: Line } {
  for (const line of lines) {
    const m = pattern.exec(line.text);
    if (m) return { value: m[1] as string, line };
  }
  return reject(`no "${what}" line (was the run started with --quiet, or did it fail before the end?)`);
}

function whole(text: string, what: string, line: Line): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) reject(`${what} is not a whole number ≥ 0`, line);
  return n;
}

// "ts: 1700000000.123456789, inner:12, outer:13[, cpu:2[, count:1]]" (Tracer.Sample.__str__).
function parseSample(line: Line): HwlatSample {
  const m = /^ts: (\d+\.\d+), inner:(\d+), outer:(\d+)(?:, cpu:(\d+))?(?:, count:(\d+))?$/.exec(line.text.trim());
  if (!m) reject('a sample line is not "ts: <t>, inner:<us>, outer:<us>[, cpu:<n>][, count:<n>]"', line);
  const sample: HwlatSample = { timestamp: m[1] as string, innerUs: Number(m[2]), outerUs: Number(m[3]) };
  if (m[4] !== undefined) sample.cpu = Number(m[4]);
  if (m[5] !== undefined) sample.count = Number(m[5]);
  return sample;
}

/** Parses a run's stdout (not --quiet); refuses output whose figures contradict each other. */
export function parseHwlatdetectOutput(stdout: string): HwlatdetectOutput {
  const lines = splitTextLines(stdout);
  if (lines.some((l) => /^Traceback \(most recent call last\)/.test(l.text))) reject('hwlatdetect died with a Python traceback');
  const duration = field(lines, /^hwlatdetect:\s+test duration (\d+) seconds$/, 'hwlatdetect:  test duration');
  const detector = field(lines, /^\s+detector: (\S+)$/, 'detector');
  if (detector.value !== 'tracer') reject(`detector "${detector.value}" is not the hwlat tracer`, detector.line);
  const threshold = field(lines, /^\s+Latency threshold: (\d+)us$/, 'Latency threshold');
  const window = field(lines, /^\s+Sample window:\s+(\d+)us$/, 'Sample window');
  const width = field(lines, /^\s+Sample width:\s+(\d+)us$/, 'Sample width');
  const cpus = field(lines, /^\s+CPU list:\s+(.*)$/, 'CPU list');
  const finished = lines.findIndex((l) => l.text === 'test finished');
  if (finished < 0) reject('no "test finished" line: the run did not end normally');
  const after = lines.slice(finished + 1);
  const max = field(after, /^Max Latency: (Below threshold|\d+us)$/, 'Max Latency');
  const recorded = field(after, /^Samples recorded: (\d+)$/, 'Samples recorded');
  const exceeding = field(after, /^Samples exceeding threshold: (\d+)$/, 'Samples exceeding threshold');
  const smiLine = after.find((l) => /^SMIs during run: \d+$/.test(l.text));
  // --watch prints each sample as it arrives, before the summary; without it they follow it.
  const samples = lines.filter((l) => l.text.startsWith('ts: ')).map(parseSample);

  const out: HwlatdetectOutput = {
    durationS: whole(duration.value, 'test duration', duration.line),
    thresholdUs: whole(threshold.value, 'Latency threshold', threshold.line),
    windowUs: whole(window.value, 'Sample window', window.line),
    widthUs: whole(width.value, 'Sample width', width.line),
    cpuList: cpus.value === 'None' ? null : cpus.value,
    maxUs: max.value === 'Below threshold' ? null : whole(max.value.slice(0, -2), 'Max Latency', max.line),
    samplesRecorded: whole(recorded.value, 'Samples recorded', recorded.line),
    samplesExceeding: whole(exceeding.value, 'Samples exceeding threshold', exceeding.line),
    smis: smiLine ? Number(/(\d+)$/.exec(smiLine.text)?.[1]) : null,
    samples,
  };
  if (samples.length !== out.samplesRecorded) reject(`"Samples recorded: ${out.samplesRecorded}" but ${samples.length} sample lines`, recorded.line);
  const largest = samples.reduce((m, s) => Math.max(m, s.innerUs, s.outerUs), 0);
  if ((out.maxUs ?? 0) !== largest) reject(`"Max Latency" says ${max.value}, the samples' largest inner/outer is ${largest} us`, max.line);
  return out;
}
