// The cyclictest command line. kvmfornfv CI ran `cyclictest -a 1 -b 1000 -i 1000 -p 99 -l N
// -t 1 -h 90 -m -n -q` and read thread 0 only; here every RT CPU gets a thread, all are parsed,
// and the histogram is sized so that overflows are rare and always counted.
import { formatCpuList } from '../../config/cpu-list.ts';
import { ConfigError, type ConfigIssue } from '../../errors.ts';

export interface CyclictestParams {
  /** Default `cyclictest`. */
  binary?: string;
  /** One measurement thread per CPU, pinned with -a; thread i runs on the i-th lowest CPU. */
  rtCpus: readonly number[];
  /** CPU for cyclictest's main thread (--mainaffinity): a housekeeping CPU, never an RT one. */
  mainCpu: number;
  /** -D seconds. Exactly one of durationS and loops. */
  durationS?: number;
  /** -l loops per thread. */
  loops?: number;
  /** -i, default 1000 µs. */
  intervalUs?: number;
  /** -p (SCHED_FIFO), default 99. */
  priority?: number;
  /** -h: buckets 0..N−1 µs; samples ≥ N are counted as overflows. Default 20000. */
  histogramUs?: number;
  /** -b: stop the run when a sample exceeds this (still exits 0; see `# Break value:`). */
  breakUs?: number;
  /** --json output file on the node. */
  jsonPath: string;
}

export interface CyclictestCommand {
  argv: string[];
  jsonPath: string;
  /** For combineCyclictest: the -h value. */
  histogramLimitUs: number;
  /** For combineCyclictest: the CPU of each thread, in thread order. */
  threadCpus: number[];
  /** How long the measurement runs when nothing breaks it, for timeouts. */
  expectedDurationMs: number;
}

export const CYCLICTEST_DEFAULTS = {
  binary: 'cyclictest',
  intervalUs: 1000,
  priority: 99,
  histogramUs: 20000,
} as const;

/** 2.4 prints one stdout row per bucket: past 1 s of range the output grows without telling more. */
const MAX_HISTOGRAM_US = 1_000_000;

function checkWhole(issues: ConfigIssue[], check: { path: string; value: unknown; least: number; most?: number }): void {
  const { path, value, least, most = Number.MAX_SAFE_INTEGER } = check;
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least || value > most) {
    const range = most === Number.MAX_SAFE_INTEGER ? `≥ ${least}` : `from ${least} to ${most}`;
    issues.push({ path, message: `expected a whole number ${range}, got ${JSON.stringify(value)}` });
  }
}

function checkPath(issues: ConfigIssue[], value: unknown): void {
  const path = 'jsonPath';
  // Why no whitespace: the JSON echoes the command line joined with spaces, and the parser
  // reads -h back from it; a path with spaces could be read as options.
  if (typeof value !== 'string' || value === '' || /\s/.test(value) || value.startsWith('-')) {
    issues.push({ path, message: `expected a non-empty path without whitespace, not starting with "-", got ${JSON.stringify(value)}` });
  }
}

function validateParams(p: CyclictestParams): void {
  const issues: ConfigIssue[] = [];
  if (!Array.isArray(p.rtCpus) || p.rtCpus.length === 0) {
    issues.push({ path: 'rtCpus', message: 'expected at least one RT CPU' });
  } else {
    p.rtCpus.forEach((cpu, i) => checkWhole(issues, { path: `rtCpus[${i}]`, value: cpu, least: 0 }));
    if (new Set(p.rtCpus).size !== p.rtCpus.length) issues.push({ path: 'rtCpus', message: `a CPU is listed twice: ${p.rtCpus.join(',')}` });
  }
  checkWhole(issues, { path: 'mainCpu', value: p.mainCpu, least: 0 });
  if (p.mainCpu === undefined) issues.push({ path: 'mainCpu', message: 'expected a housekeeping CPU for --mainaffinity' });
  if (Array.isArray(p.rtCpus) && p.rtCpus.includes(p.mainCpu)) {
    issues.push({ path: 'mainCpu', message: `CPU ${p.mainCpu} is also an RT CPU: the main thread would disturb the measurement` });
  }
  if ((p.durationS === undefined) === (p.loops === undefined)) {
    issues.push({ path: 'durationS', message: 'expected exactly one of durationS and loops' });
  }
  checkWhole(issues, { path: 'durationS', value: p.durationS, least: 1 });
  checkWhole(issues, { path: 'loops', value: p.loops, least: 1 });
  checkWhole(issues, { path: 'intervalUs', value: p.intervalUs, least: 1 });
  checkWhole(issues, { path: 'priority', value: p.priority, least: 1, most: 99 });
  checkWhole(issues, { path: 'histogramUs', value: p.histogramUs, least: 1, most: MAX_HISTOGRAM_US });
  checkWhole(issues, { path: 'breakUs', value: p.breakUs, least: 1 });
  checkPath(issues, p.jsonPath);
  if (p.binary !== undefined && (typeof p.binary !== 'string' || p.binary.trim() === '')) {
    issues.push({ path: 'binary', message: `expected a command name or path, got ${JSON.stringify(p.binary)}` });
  }
  if (issues.length > 0) throw new ConfigError('(cyclictest parameters)', issues);
}

// The argv of one measurement run, with what its parser must know about it.
// No -d: with -h, cyclictest 2.4 forces distance 0 and warns when -d is given, even -d 0.
// No -n (kvmfornfv CI used it): clock_nanosleep is the default in 2.x, and 2.4 answers -n with
// "invalid option".
export function buildCyclictestCommand(params: CyclictestParams): CyclictestCommand {
  validateParams(params);
  const interval = params.intervalUs ?? CYCLICTEST_DEFAULTS.intervalUs;
  const histogram = params.histogramUs ?? CYCLICTEST_DEFAULTS.histogramUs;
  const threadCpus = [...params.rtCpus].sort((a, b) => a - b);
  const argv = [
    params.binary ?? CYCLICTEST_DEFAULTS.binary,
    '-m',
    '-q',
    `-p${params.priority ?? CYCLICTEST_DEFAULTS.priority}`,
    `-i${interval}`,
    '-h',
    String(histogram),
    '-a',
    formatCpuList(threadCpus),
    '-t',
    String(threadCpus.length),
    `--mainaffinity=${params.mainCpu}`,
  ];
  if (params.durationS !== undefined) argv.push('-D', String(params.durationS));
  if (params.loops !== undefined) argv.push('-l', String(params.loops));
  if (params.breakUs !== undefined) argv.push('-b', String(params.breakUs));
  argv.push(`--json=${params.jsonPath}`);
  const expectedDurationMs = params.durationS !== undefined ? params.durationS * 1000 : Math.ceil(((params.loops ?? 0) * interval) / 1000);
  return { argv, jsonPath: params.jsonPath, histogramLimitUs: histogram, threadCpus, expectedDurationMs };
}
