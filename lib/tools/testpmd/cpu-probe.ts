// Whether DPDK runs on this CPU at all: DPDK checks, at EAL start, that the CPU has every
// instruction-set flag it was built for (lib/eal/common/eal_common_cpuflags.c
// rte_cpu_is_supported, DPDK 22.11: "ERROR: This system does not support "<flag>"."), and a
// binary built for a newer CPU may die of SIGILL before that. A guest under TCG with a CPU
// model lacking SSE4.2 is such a machine. The probe starts EAL with no hugepages, no devices
// and no shared files, and asks testpmd for its usage, which it prints and exits 0 on.
// Pure: argv in, verdict out.
import { ToolOutputParseError } from '../../errors.ts';
import { TESTPMD_TOOL } from './command.ts';

export type DpdkCpuVerdict = { supported: true } | { supported: false; reason: string };

// testpmd wants a main and a forwarding lcore before it reads --help, so the VNF's are given.
// EAL makes its runtime folder even with --no-shconf: it is named by the prefix, and removed by the caller.
export function buildDpdkCpuProbeArgv(input: { binary?: string; lcores: readonly number[]; filePrefix: string }): string[] {
  if (input.lcores.length < 2 || input.lcores.some((c) => !Number.isInteger(c) || c < 0)) throw new TypeError(`the CPU probe needs two lcores or more, got ${JSON.stringify(input.lcores)}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(input.filePrefix)) throw new TypeError(`file prefix: expected letters, digits, _ and -, got ${JSON.stringify(input.filePrefix)}`);
  return [input.binary ?? TESTPMD_TOOL, '--no-huge', '-m', '64', '--no-pci', '--no-shconf', '--no-telemetry', `--file-prefix=${input.filePrefix}`, '-l', input.lcores.join(','), '--', '--help'];
}

// Unsupported only for the two reasons DPDK cannot run on the CPU; any other failure is an error.
export function parseDpdkCpuProbe(r: { exitCode: number | null; stdout: string; stderr: string }): DpdkCpuVerdict {
  const flag = /This system does not support "([^"]+)"/.exec(r.stderr)?.[1];
  if (flag !== undefined) return { supported: false, reason: `DPDK needs the CPU flag ${flag}, which this CPU does not have (EAL: "This system does not support \\"${flag}\\"")` };
  // 128 + SIGILL (4): the binary uses an instruction the CPU lacks.
  if (r.exitCode === 132 || /Illegal instruction/.test(r.stderr)) return { supported: false, reason: `${TESTPMD_TOOL} died of SIGILL: it was built for instructions this CPU does not have` };
  if (r.exitCode === 0 && /Usage:/.test(`${r.stdout}\n${r.stderr}`)) return { supported: true };
  const last = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-2).join(' | ');
  throw new ToolOutputParseError(TESTPMD_TOOL, `the CPU probe (EAL start, then --help) ended with exit code ${r.exitCode ?? 'none'} and no usage text: ${last || 'no output'}`);
}
