// CPU sets as the kernel writes and accepts them: cpu lists (isolcpus=, nohz_full=,
// /sys/.../cpulist) including the `all`, `N` and `a-b:used/group` forms of
// bitmap_parselist, and hex masks (/proc/irq/default_smp_affinity).
import { formatCpuList } from '../config/cpu-list.ts';

export type KernelCpuList = { ok: true; cpus: number[] } | { ok: false; message: string };

const MAX_CPU = 8191;

function range(low: number, high: number, used: number, group: number): number[] {
  const out: number[] = [];
  for (let start = low; start <= high; start += group) {
    for (let cpu = start; cpu < start + used && cpu <= high; cpu++) out.push(cpu);
  }
  return out;
}

// The kernel's own syntax, so a command line is judged the way the kernel read it.
export function parseKernelCpuList(text: string, lastCpu?: number): KernelCpuList {
  const bad = (why: string): KernelCpuList => ({ ok: false, message: `expected a kernel CPU list such as "2-5,8", got ${JSON.stringify(text.slice(0, 80))}: ${why}` });
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, cpus: [] };
  const cpus = new Set<number>();
  for (const token of trimmed.split(',')) {
    if (token === 'all') {
      if (lastCpu === undefined) return bad('"all" needs the number of CPUs, which is unknown');
      for (let cpu = 0; cpu <= lastCpu; cpu++) cpus.add(cpu);
      continue;
    }
    const m = /^(\d+|N)(?:-(\d+|N)(?::(\d+)\/(\d+))?)?$/.exec(token);
    if (!m) return bad(`${JSON.stringify(token)} is not N, N-M or N-M:used/group`);
    const value = (s: string): number | undefined => (s === 'N' ? lastCpu : Number(s));
    const low = value(m[1] as string);
    const high = m[2] === undefined ? low : value(m[2]);
    if (low === undefined || high === undefined) return bad('"N" needs the number of CPUs, which is unknown');
    const used = m[3] === undefined ? 1 : Number(m[3]);
    const group = m[4] === undefined ? 1 : Number(m[4]);
    if (high < low) return bad(`range ${low}-${high} runs backwards`);
    if (high > MAX_CPU) return bad(`CPU ${high} is above ${MAX_CPU}`);
    if (group === 0 || used === 0 || used > group) return bad(`group ${used}/${group} is invalid`);
    for (const cpu of range(low, high, used, group)) cpus.add(cpu);
  }
  return { ok: true, cpus: [...cpus].sort((a, b) => a - b) };
}

// /proc/irq/default_smp_affinity is a hex mask in 32-bit words separated by commas.
export function parseCpuMask(text: string): KernelCpuList {
  const trimmed = text.trim();
  if (!/^[0-9a-fA-F]{1,8}(,[0-9a-fA-F]{1,8})*$/.test(trimmed)) {
    return { ok: false, message: `expected a hex CPU mask such as "f" or "00000000,0000000f", got ${JSON.stringify(trimmed.slice(0, 80))}` };
  }
  const cpus: number[] = [];
  const words = trimmed.split(',').reverse();
  words.forEach((word, index) => {
    const value = Number.parseInt(word, 16);
    for (let bit = 0; bit < 32; bit++) if ((value >>> bit) & 1) cpus.push(index * 32 + bit);
  });
  return { ok: true, cpus: cpus.sort((a, b) => a - b) };
}

// Messages and fixes show CPU sets the way the kernel parameters take them.
export function formatCpus(cpus: readonly number[]): string {
  return cpus.length === 0 ? '(none)' : formatCpuList(cpus);
}
