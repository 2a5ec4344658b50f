// The oslat command line (rt-tests src/oslat/oslat.c). oslat busy-polls the TSC on each CPU of
// its list, the way a DPDK PMD thread polls, and counts how long each gap between two reads
// was: any gap is time the OS took the CPU away. Red Hat's RT-KVM qualification and OpenShift's
// cnf-tests run it as `oslat --cpu-list <isolated> --cpu-main-thread <housekeeping> --rtprio 1`.
import { formatCpuList } from '../../config/cpu-list.ts';
import { ConfigError, type ConfigIssue } from '../../errors.ts';

export interface OslatParams {
  /** Default `oslat`. */
  binary?: string;
  /** One polling thread per CPU (--cpu-list); thread i runs on the i-th lowest CPU. */
  rtCpus: readonly number[];
  /** --cpu-main-thread: a housekeeping CPU (oslat's default, CPU 0, may be an RT CPU). */
  mainCpu: number;
  /** --duration, whole seconds (rt-tests' parse_time_string takes an integer). */
  durationS: number;
  /** --rtprio: SCHED_FIFO priority of the polling threads (1-99). */
  priority: number;
  /**
   * --bucket-size: 1 µs buckets 1..N; every gap of N−1 µs or more lands in the last one, which
   * oslat prints "(including overflows)". rt-tests accepts 5 to 1024.
   */
  bucketSize: number;
}

export interface OslatCommand {
  argv: string[];
  /** For the parser: the CPU of each thread, in thread order. */
  threadCpus: number[];
  bucketSize: number;
  /** Pre-heat (1 s, always) plus the measurement. */
  expectedDurationMs: number;
}

export const OSLAT_DEFAULTS = { binary: 'oslat', bucketSize: 1024, priority: 1 } as const;

function checkWhole(issues: ConfigIssue[], path: string, value: unknown, least: number, most = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least || value > most) {
    const range = most === Number.MAX_SAFE_INTEGER ? `≥ ${least}` : `from ${least} to ${most}`;
    issues.push({ path, message: `expected a whole number ${range}, got ${JSON.stringify(value)}` });
  }
}

function validateParams(p: OslatParams): void {
  const issues: ConfigIssue[] = [];
  if (!Array.isArray(p.rtCpus) || p.rtCpus.length === 0) issues.push({ path: 'rtCpus', message: 'expected at least one RT CPU' });
  else p.rtCpus.forEach((cpu, i) => checkWhole(issues, `rtCpus[${i}]`, cpu, 0));
  if (new Set(p.rtCpus).size !== p.rtCpus.length) issues.push({ path: 'rtCpus', message: `a CPU is listed twice: ${p.rtCpus.join(',')}` });
  checkWhole(issues, 'mainCpu', p.mainCpu, 0);
  if (p.rtCpus.includes(p.mainCpu)) issues.push({ path: 'mainCpu', message: `CPU ${p.mainCpu} is also an RT CPU: the main thread would disturb the measurement` });
  checkWhole(issues, 'durationS', p.durationS, 1);
  checkWhole(issues, 'priority', p.priority, 1, 99);
  // oslat.c: "if (g.bucket_size > 1024 || g.bucket_size <= 4)" is refused.
  checkWhole(issues, 'bucketSize', p.bucketSize, 5, 1024);
  if (p.binary !== undefined && (typeof p.binary !== 'string' || p.binary.trim() === '')) {
    issues.push({ path: 'binary', message: `expected a command name or path, got ${JSON.stringify(p.binary)}` });
  }
  if (issues.length > 0) throw new ConfigError('(oslat parameters)', issues);
}

// The argv of one run. Long options only: they are the same from rt-tests 1.10 to 2.10.
// --zero-omit keeps a 1024-bucket histogram to the rows that counted something (the last row,
// the overflows, is always printed). No --json: stdout has everything, in both versions.
// No --trace-threshold: it stops the global ftrace buffer (rt-utils tracing_stop), which other
// users of the node share; a trace at a breach is taken in the suite's own instance instead.
export function buildOslatCommand(params: OslatParams): OslatCommand {
  validateParams(params);
  const threadCpus = [...params.rtCpus].sort((a, b) => a - b);
  const argv = [
    params.binary ?? OSLAT_DEFAULTS.binary,
    '--cpu-list',
    formatCpuList(threadCpus),
    '--cpu-main-thread',
    String(params.mainCpu),
    '--duration',
    String(params.durationS),
    '--rtprio',
    String(params.priority),
    '--bucket-size',
    String(params.bucketSize),
    '--zero-omit',
  ];
  return { argv, threadCpus, bucketSize: params.bucketSize, expectedDurationMs: (params.durationS + 1) * 1000 };
}
