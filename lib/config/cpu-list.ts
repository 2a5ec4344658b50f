// Linux cpu-list strings ("2-5,8", as in isolcpus= and /sys/devices/system/cpu/isolated)
// and lists of CPU numbers. The measurement pins threads to these CPUs, so a list
// that is not exactly what the user meant must be rejected, never guessed at.
import { ConfigError } from '../errors.ts';
import { describeValue } from './zod-issues.ts';

/** Linux's largest NR_CPUS is 8192. */
export const MAX_CPU = 8191;

export type CpuListResult = { ok: true; cpus: number[] } | { ok: false; message: string };

const EXPECTED = 'expected a CPU list such as "2-5,8" or a list of CPU numbers';

function fail(input: unknown, reason: string): CpuListResult {
  return { ok: false, message: `${EXPECTED}, got ${describeValue(input)}: ${reason}` };
}

function addCpu(seen: Set<number>, cpu: number): string | undefined {
  if (cpu > MAX_CPU) return `CPU ${cpu} is above ${MAX_CPU}`;
  if (seen.has(cpu)) return `CPU ${cpu} is listed twice`;
  seen.add(cpu);
  return undefined;
}

function parseText(input: string): CpuListResult {
  if (input.trim() === '') return fail(input, 'the list is empty');
  const seen = new Set<number>();
  for (const raw of input.split(',')) {
    const token = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(token);
    if (!m) {
      const why = /^-\s*\d/.test(token) ? 'CPU numbers cannot be negative' : `${JSON.stringify(token)} is not a CPU number or a low-high range`;
      return fail(input, why);
    }
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (high < low) return fail(input, `range ${low}-${high} runs backwards`);
    if (high > MAX_CPU) return fail(input, `CPU ${high} is above ${MAX_CPU}`);
    for (let cpu = low; cpu <= high; cpu++) {
      const why = addCpu(seen, cpu);
      if (why) return fail(input, why);
    }
  }
  return { ok: true, cpus: [...seen].sort((a, b) => a - b) };
}

function parseArray(input: readonly unknown[]): CpuListResult {
  const seen = new Set<number>();
  for (const item of input) {
    if (typeof item !== 'number' || !Number.isInteger(item)) return fail(input, `${describeValue(item)} is not a whole CPU number`);
    if (item < 0) return fail(input, 'CPU numbers cannot be negative');
    const why = addCpu(seen, item);
    if (why) return fail(input, why);
  }
  return { ok: true, cpus: [...seen].sort((a, b) => a - b) };
}

// Config loaders need every problem as a message, not a throw, to list all issues at once.
export function tryParseCpuList(input: unknown): CpuListResult {
  if (typeof input === 'string') return parseText(input);
  if (Array.isArray(input)) return parseArray(input);
  // YAML reads `rt_cpus: 3` as a number: one CPU is what the user meant.
  if (typeof input === 'number') return parseArray([input]);
  return fail(input, 'not text or a list');
}

// For callers outside a config file (CLI options, node probes) that want a typed throw.
export function parseCpuList(input: string | readonly number[], where: { file?: string; path?: string } = {}): number[] {
  const result = tryParseCpuList(input);
  if (!result.ok) throw new ConfigError(where.file ?? '(cpu list)', [{ path: where.path ?? '', message: result.message }]);
  return result.cpus;
}

// The inverse of parseCpuList, for command lines (taskset -c, cyclictest -a) and reports.
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
