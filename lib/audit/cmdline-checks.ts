// Kernel parameters that must be set at boot: CPU isolation, idle and frequency states,
// the clocksource and hugepages. Read from /proc/cmdline, i.e. what this boot really got.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { defineCheck, failResult, passResult, type CheckDefinition, type NodeContext } from './types.ts';
import { cmdlineValue, cmdlineValues, parseIsolcpus, parseKernelCmdline, type KernelCmdline } from './kernel-cmdline.ts';
import { formatCpus, parseKernelCpuList } from './kernel-cpu-list.ts';
import { difference, giveUp, matchingPaths, parseCpusOrGiveUp, readText, requireRtCpus } from './read.ts';
import { HOST_AND_GUEST } from './kernel-checks.ts';

// Shared by every cmdline check and by runtime checks that need to know about idle=poll.
export function readCmdline(snapshot: NodeSnapshot): KernelCmdline {
  const text = readText(snapshot, '/proc/cmdline');
  if (text.trim() === '') giveUp('/proc/cmdline is empty', '(empty)');
  return parseKernelCmdline(text);
}

// `all` and `N` in CPU lists mean the highest possible CPU, which only the node knows.
export function readLastCpu(snapshot: NodeSnapshot): number | undefined {
  const possible = snapshot.files.get('/sys/devices/system/cpu/possible');
  if (possible === undefined) return undefined;
  const parsed = parseKernelCpuList(possible.trim());
  return parsed.ok && parsed.cpus.length > 0 ? parsed.cpus[parsed.cpus.length - 1] : undefined;
}

// The kernel does not simply take the last isolcpus=/nohz_full=/rcu_nocbs= (a second,
// different list is warned about and ignored), so conflicting repeats are not guessed at.
function singleValue(cmdline: KernelCmdline, key: string): string | undefined {
  const values = [...new Set(cmdlineValues(cmdline, key))];
  if (values.length > 1) giveUp(`${key}= is given ${values.length} different ways (${values.join(' vs ')}); which one the kernel used cannot be told`, values.map((v) => `${key}=${v}`).join(' '));
  return values[0];
}

function shown(key: string, value: string | undefined): string {
  return value === undefined ? `no ${key}=` : `${key}=${value}`;
}

/** A CPU-list parameter that must cover every rt CPU. */
function coverage(options: { key: string; fixValue: (rt: string) => string; context: NodeContext; value: string | undefined; cpus: number[] | undefined }) {
  const rt = requireRtCpus(options.context);
  const expected = `${options.key} covers the rt CPUs ${formatCpus(rt)}`;
  const found = shown(options.key, options.value);
  const fix = `add ${options.fixValue(formatCpus(rt))} to the kernel command line`;
  if (options.cpus === undefined) return failResult(expected, found, fix);
  const uncovered = difference(rt, options.cpus);
  if (uncovered.length > 0) return failResult(expected, found, fix, `rt CPUs ${formatCpus(uncovered)} are not covered`);
  return passResult(expected, found);
}

const isolcpus = defineCheck({
  id: 'cmdline.isolcpus',
  title: 'isolcpus isolates the rt CPUs',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'Keeps the scheduler from balancing other tasks onto the rt CPUs (domain isolation), so a vCPU or measurement thread never waits behind unrelated work.',
  expected: 'isolcpus= lists every rt CPU, with domain isolation (no flags, or the domain flag)',
  howToFix: 'Kernel parameter `isolcpus=managed_irq,domain,<rt cpus>`.',
  reads: ['/proc/cmdline', '/sys/devices/system/cpu/possible'],
  evaluate(snapshot, context) {
    const value = singleValue(readCmdline(snapshot), 'isolcpus');
    const fixValue = (rt: string) => `isolcpus=managed_irq,domain,${rt}`;
    if (value === undefined) return coverage({ key: 'isolcpus', fixValue, context, value, cpus: undefined });
    const parsed = parseIsolcpus(value, readLastCpu(snapshot));
    if (!parsed.ok) giveUp(`isolcpus=${value}: ${parsed.message}`, `isolcpus=${value}`);
    const result = coverage({ key: 'isolcpus', fixValue, context, value, cpus: parsed.cpus });
    if (result.outcome === 'pass' && !parsed.flags.includes('domain')) {
      return failResult(result.expected, result.found, `add ${fixValue(formatCpus(context.rtCpus))} to the kernel command line`, 'flags without domain: the scheduler still balances onto these CPUs');
    }
    return result;
  },
});

const nohzFull = defineCheck({
  id: 'cmdline.nohz-full',
  title: 'nohz_full covers the rt CPUs',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'Stops the periodic scheduler tick on a CPU running one task, removing a timer interrupt (and, in a guest, a VM exit) every 1-4 ms.',
  expected: 'nohz_full= (or isolcpus= with the nohz flag) lists every rt CPU',
  howToFix: 'Kernel parameter `nohz_full=<rt cpus>`.',
  reads: ['/proc/cmdline'],
  evaluate(snapshot, context) {
    const cmdline = readCmdline(snapshot);
    const value = singleValue(cmdline, 'nohz_full');
    const lastCpu = readLastCpu(snapshot);
    const cpus = new Set(value === undefined ? [] : parseCpusOrGiveUp(value, `nohz_full=${value}`, lastCpu));
    const iso = singleValue(cmdline, 'isolcpus');
    const parsedIso = iso === undefined ? undefined : parseIsolcpus(iso, lastCpu);
    if (parsedIso?.ok && parsedIso.flags.includes('nohz')) for (const cpu of parsedIso.cpus) cpus.add(cpu);
    const result = coverage({ key: 'nohz_full', fixValue: (rt) => `nohz_full=${rt}`, context, value, cpus: [...cpus] });
    return parsedIso?.ok && parsedIso.flags.includes('nohz') ? { ...result, found: `${result.found}; isolcpus=${iso} (nohz flag)` } : result;
  },
});

const rcuNocbs = defineCheck({
  id: 'cmdline.rcu-nocbs',
  title: 'rcu_nocbs covers the rt CPUs',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'Moves RCU callback processing off the rt CPUs into kthreads on housekeeping CPUs, so callbacks do not run in softirq on an rt CPU.',
  expected: 'rcu_nocbs= lists every rt CPU',
  howToFix: 'Kernel parameter `rcu_nocbs=<rt cpus>` (and `rcu_nocb_poll` to keep wakeups off them too).',
  reads: ['/proc/cmdline'],
  evaluate(snapshot, context) {
    const value = singleValue(readCmdline(snapshot), 'rcu_nocbs');
    const fixValue = (rt: string) => `rcu_nocbs=${rt}`;
    if (value === '') {
      const rt = formatCpus(requireRtCpus(context));
      return failResult(`rcu_nocbs covers the rt CPUs ${rt}`, 'rcu_nocbs with no CPU list', `add ${fixValue(rt)} to the kernel command line`, 'without a list no CPU is offloaded at boot');
    }
    const cpus = value === undefined ? undefined : parseCpusOrGiveUp(value, `rcu_nocbs=${value}`, readLastCpu(snapshot));
    return coverage({ key: 'rcu_nocbs', fixValue, context, value, cpus });
  },
});

const cstates = defineCheck({
  id: 'cmdline.cstates',
  title: 'Deep C-states disabled',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'Waking a core from a deep C-state takes tens to hundreds of microseconds; idle=poll or C1 as the deepest state removes that exit latency.',
  expected: 'idle=poll, or processor.max_cstate=1 (or 0) with intel_idle.max_cstate=0',
  howToFix: 'Kernel parameter `idle=poll`, or `processor.max_cstate=1 intel_idle.max_cstate=0`.',
  reads: ['/proc/cmdline'],
  evaluate(snapshot) {
    const cmdline = readCmdline(snapshot);
    const expected = 'idle=poll, or processor.max_cstate=1 (or 0) with intel_idle.max_cstate=0';
    const idle = cmdlineValue(cmdline, 'idle');
    const acpi = cmdlineValue(cmdline, 'processor.max_cstate');
    const intel = cmdlineValue(cmdline, 'intel_idle.max_cstate');
    const found = [shown('idle', idle), shown('processor.max_cstate', acpi), shown('intel_idle.max_cstate', intel)].join(', ');
    if (idle === 'poll') return passResult(expected, found);
    if (acpi !== undefined && /^[01]$/.test(acpi) && intel === '0') return passResult(expected, found);
    return failResult(expected, found, 'add idle=poll (or processor.max_cstate=1 intel_idle.max_cstate=0) to the kernel command line');
  },
});

const pstate = defineCheck({
  id: 'cmdline.pstate',
  title: 'P-state driver disabled or performance governor',
  category: 'cmdline',
  // A guest has no P-state driver or cpufreq: its vCPUs run at whatever the host's CPUs run at.
  appliesTo: ['host'],
  why: 'Frequency changes stall the core and make loop times vary; with the P-state driver disabled (or pinned to performance) the rt CPUs run at a fixed frequency.',
  expected: 'intel_pstate=disable (or amd_pstate=disable), or the performance governor on every rt CPU',
  howToFix: 'Kernel parameter `intel_pstate=disable` (AMD: `amd_pstate=disable`), or `cpupower -c <rt cpus> frequency-set -g performance`.',
  reads: ['/proc/cmdline', '/sys/devices/system/cpu/cpuN/cpufreq/scaling_governor'],
  evaluate(snapshot, context) {
    const cmdline = readCmdline(snapshot);
    const expected = 'intel_pstate=disable (or amd_pstate=disable), or the performance governor on every rt CPU';
    const intel = cmdlineValue(cmdline, 'intel_pstate');
    const amd = cmdlineValue(cmdline, 'amd_pstate');
    const params = `${shown('intel_pstate', intel)}, ${shown('amd_pstate', amd)}`;
    if (intel === 'disable' || amd === 'disable') return passResult(expected, params);
    const rt = requireRtCpus(context);
    const governors = matchingPaths(snapshot, /^\/sys\/devices\/system\/cpu\/cpu\d+\/cpufreq\/scaling_governor$/);
    if (governors.length === 0) giveUp('no P-state parameter and no cpufreq governor on this node (a VM has none): frequency is set by the host or BIOS', params);
    const found = rt.map((cpu) => `cpu${cpu}: ${snapshot.files.get(`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`)?.trim() ?? 'not readable'}`);
    const fix = `add intel_pstate=disable to the kernel command line, or run: cpupower -c ${formatCpus(rt)} frequency-set -g performance`;
    if (found.every((f) => f.endsWith(': performance'))) return passResult(expected, `${params}; governors ${found.join(', ')}`);
    return failResult(expected, `${params}; governors ${found.join(', ')}`, fix);
  },
});

const tscReliable = defineCheck({
  id: 'cmdline.tsc-reliable',
  title: 'TSC marked reliable',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'tsc=reliable stops the clocksource watchdog from re-checking the TSC against slower clocks with interrupts off, and keeps the kernel on the cheap TSC clocksource.',
  expected: 'tsc=reliable, and no tsc=unstable',
  howToFix: 'Kernel parameter `tsc=reliable` (only where the TSC is invariant: the invtsc CPU flag).',
  reads: ['/proc/cmdline'],
  evaluate(snapshot) {
    const values = cmdlineValues(readCmdline(snapshot), 'tsc');
    const expected = 'tsc=reliable, and no tsc=unstable';
    const found = values.length === 0 ? 'no tsc=' : values.map((v) => `tsc=${v}`).join(' ');
    const fix = 'add tsc=reliable to the kernel command line';
    if (values.includes('reliable') && !values.includes('unstable')) return passResult(expected, found);
    return failResult(expected, found, fix);
  },
});

function hugepageCount(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  // Per-node form: hugepages=0:512,1:512.
  if (/^\d+:\d+(,\d+:\d+)*$/.test(value)) return value.split(',').reduce((sum, pair) => sum + Number(pair.split(':')[1]), 0);
  return undefined;
}

const hugepagesParam = defineCheck({
  id: 'cmdline.hugepages',
  title: 'Hugepages reserved at boot',
  category: 'cmdline',
  appliesTo: HOST_AND_GUEST,
  why: 'Guest memory and DPDK buffers on hugepages need far fewer TLB entries and EPT walks; reserving them at boot gets contiguous pages before memory fragments.',
  expected: 'hugepages=N with N ≥ 1 (with hugepagesz= / default_hugepagesz=)',
  howToFix: 'Kernel parameters `default_hugepagesz=1G hugepagesz=1G hugepages=<count>` (or 2M pages where 1G is not supported).',
  reads: ['/proc/cmdline'],
  evaluate(snapshot) {
    const cmdline = readCmdline(snapshot);
    const expected = 'hugepages=N with N ≥ 1 (with hugepagesz= / default_hugepagesz=)';
    const parts = ['default_hugepagesz', 'hugepagesz', 'hugepages'].flatMap((k) => cmdlineValues(cmdline, k).map((v) => `${k}=${v}`));
    const found = parts.length === 0 ? 'no hugepage parameters' : parts.join(' ');
    const fix = 'add default_hugepagesz=1G hugepagesz=1G hugepages=<count> to the kernel command line';
    const counts = cmdlineValues(cmdline, 'hugepages').map(hugepageCount);
    if (counts.some((c) => c === undefined)) giveUp(`cannot read a page count in ${found}`, found);
    if (counts.some((c) => (c as number) > 0)) return passResult(expected, found);
    return failResult(expected, found, fix);
  },
});

const iommu = defineCheck({
  id: 'cmdline.iommu',
  title: 'IOMMU on, in pass-through mode',
  category: 'cmdline',
  appliesTo: ['host'],
  condition: { text: 'SR-IOV is used', holds: (c) => c.usesSriov },
  why: 'VFs assigned to a guest need the IOMMU (VT-d/AMD-Vi); pass-through mode (iommu=pt) keeps host-owned devices off the translation path.',
  expected: 'intel_iommu=on (or amd_iommu, not off) and iommu=pt',
  howToFix: 'Kernel parameters `intel_iommu=on iommu=pt` (AMD: `amd_iommu=on iommu=pt`), with VT-d/AMD-Vi enabled in the BIOS.',
  reads: ['/proc/cmdline'],
  evaluate(snapshot) {
    const cmdline = readCmdline(snapshot);
    const expected = 'intel_iommu=on (or amd_iommu, not off) and iommu=pt';
    const intel = cmdlineValue(cmdline, 'intel_iommu');
    const amd = cmdlineValue(cmdline, 'amd_iommu');
    const mode = cmdlineValue(cmdline, 'iommu');
    const found = [shown('intel_iommu', intel), shown('amd_iommu', amd), shown('iommu', mode)].join(', ');
    const enabled = (intel !== undefined && /(^|,)on(,|$)/.test(intel)) || (amd !== undefined && !/(^|,)off(,|$)/.test(amd));
    if (enabled && mode === 'pt') return passResult(expected, found);
    return failResult(expected, found, 'add intel_iommu=on iommu=pt (AMD: amd_iommu=on iommu=pt) to the kernel command line');
  },
});

export const cmdlineChecks: readonly CheckDefinition[] = [isolcpus, nohzFull, rcuNocbs, cstates, pstate, tscReliable, hugepagesParam, iommu];
