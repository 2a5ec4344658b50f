// Per-CPU runtime state: what the rt CPUs and their NUMA nodes look like right now,
// whatever the boot parameters promised.
import { defineCheck, failResult, passResult, type CheckDefinition } from './types.ts';
import { formatCpus, parseCpuMask } from './kernel-cpu-list.ts';
import { cmdlineValue } from './kernel-cmdline.ts';
import { readCmdline } from './cmdline-checks.ts';
import { HOST_AND_GUEST } from './kernel-checks.ts';
import {
  describeAbsence,
  difference,
  giveUp,
  intersect,
  matchingPaths,
  readCpuList,
  readInteger,
  readNumaNodes,
  readText,
  requireRtCpus,
} from './read.ts';

const hugepagesFree = defineCheck({
  id: 'runtime.hugepages-free',
  title: 'Free hugepages on the rt CPUs’ NUMA nodes',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'Guest RAM, OVS-DPDK and testpmd need hugepages local to the CPUs that touch them; remote or missing pages mean cross-node memory traffic or a failed start.',
  expected: 'each NUMA node holding rt CPUs has free hugepages left',
  howToFix: 'Reserve more at boot (`hugepages=<count>`), or per node at runtime via /sys/devices/system/node/nodeN/hugepages/hugepages-<size>kB/nr_hugepages.',
  reads: ['/sys/devices/system/node/nodeN/cpulist', '/sys/devices/system/node/nodeN/hugepages/hugepages-*/free_hugepages'],
  evaluate(snapshot, context) {
    const rt = requireRtCpus(context);
    const nodes = readNumaNodes(snapshot);
    const min = Math.max(1, context.hugepages.minFreePerNode);
    const size = context.hugepages.sizeKb;
    const wanted = [...nodes].filter(([, cpus]) => intersect(cpus, rt).length > 0).map(([n]) => n);
    const placed = [...nodes.values()].flat();
    const orphans = difference(rt, placed);
    if (orphans.length > 0) giveUp(`rt CPUs ${formatCpus(orphans)} are on no NUMA node this node lists`);
    const expected = `NUMA node${wanted.length > 1 ? 's' : ''} ${wanted.join(', ')} (rt CPUs ${formatCpus(rt)}) each have ≥ ${min} free ${size ? `${size}kB ` : ''}hugepage${min > 1 ? 's' : ''}`;
    const found: string[] = [];
    const short: number[] = [];
    for (const node of wanted) {
      const pattern = new RegExp(`^/sys/devices/system/node/node${node}/hugepages/hugepages-(\\d+)kB/free_hugepages$`);
      const paths = matchingPaths(snapshot, pattern).filter((p) => size === undefined || pattern.exec(p)?.[1] === String(size));
      if (paths.length === 0) giveUp(`no hugepage pool listed for NUMA node ${node} (${describeAbsence(snapshot, `/sys/devices/system/node/node${node}/hugepages/hugepages-*/free_hugepages`)})`);
      let free = 0;
      for (const path of paths) {
        const count = readInteger(snapshot, path);
        free += count;
        found.push(`node${node} ${pattern.exec(path)?.[1]}kB: ${count} free`);
      }
      if (free < min) short.push(node);
    }
    if (short.length === 0) return passResult(expected, found.join(', '));
    const pool = size ?? 1048576;
    return failResult(
      expected,
      found.join(', '),
      `add hugepages=<count> to the kernel command line, or write the page count to /sys/devices/system/node/node${short[0]}/hugepages/hugepages-${pool}kB/nr_hugepages`,
    );
  },
});

const governor = defineCheck({
  id: 'runtime.governor',
  title: 'performance governor on the rt CPUs',
  category: 'runtime',
  // A guest has no cpufreq; the host's governor sets its vCPUs' frequency.
  appliesTo: ['host'],
  why: 'A dynamic governor lowers the frequency when a CPU looks idle and raises it under load; each change stalls the core and a slow CPU stretches every latency.',
  expected: 'scaling_governor is performance on every rt CPU',
  howToFix: '`cpupower -c <rt cpus> frequency-set -g performance` (or the tuned realtime profiles).',
  reads: ['/sys/devices/system/cpu/cpuN/cpufreq/scaling_governor'],
  evaluate(snapshot, context) {
    const rt = requireRtCpus(context);
    const expected = `scaling_governor is performance on CPUs ${formatCpus(rt)}`;
    const any = matchingPaths(snapshot, /^\/sys\/devices\/system\/cpu\/cpu\d+\/cpufreq\/scaling_governor$/);
    if (any.length === 0) giveUp('no cpufreq governor on this node (no cpufreq driver, as in a VM): frequency is set by the host or BIOS', 'no cpufreq');
    const found: string[] = [];
    const wrong: number[] = [];
    const unreadable: string[] = [];
    for (const cpu of rt) {
      const path = `/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`;
      const value = snapshot.files.get(path)?.trim();
      if (value === undefined) unreadable.push(describeAbsence(snapshot, path));
      else if (!/^[\w-]+$/.test(value)) unreadable.push(`${path} holds ${JSON.stringify(value.slice(0, 40))}, not a governor name`);
      else if (value !== 'performance') wrong.push(cpu);
      found.push(`cpu${cpu}: ${value ?? 'not readable'}`);
    }
    const fix = `cpupower -c ${formatCpus(rt)} frequency-set -g performance`;
    if (wrong.length > 0) return failResult(expected, found.join(', '), fix);
    if (unreadable.length > 0) giveUp(unreadable.join('; '), found.join(', '));
    return passResult(expected, found.join(', '));
  },
});

const cpuidle = defineCheck({
  id: 'runtime.cpuidle',
  title: 'Idle states disabled on the rt CPUs',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'An rt CPU that enters any idle state other than polling pays the exit latency on its next wakeup; disabling the states keeps it polling.',
  expected: 'every cpuidle state except POLL has disable = 1 on every rt CPU (or idle=poll, which bypasses cpuidle)',
  howToFix: '`cpupower -c <rt cpus> idle-set -D 0` (disables every state with non-zero exit latency), or kernel parameter `idle=poll`.',
  reads: ['/sys/devices/system/cpu/cpuN/cpuidle/stateM/name', '/sys/devices/system/cpu/cpuN/cpuidle/stateM/disable', '/sys/devices/system/cpu/cpuidle/current_driver', '/proc/cmdline'],
  evaluate(snapshot, context) {
    const rt = requireRtCpus(context);
    const expected = `no idle state but POLL enabled on CPUs ${formatCpus(rt)}`;
    const fix = `cpupower -c ${formatCpus(rt)} idle-set -D 0`;
    const enabled: string[] = [];
    const withoutStates: number[] = [];
    for (const cpu of rt) {
      const paths = matchingPaths(snapshot, new RegExp(`^/sys/devices/system/cpu/cpu${cpu}/cpuidle/state\\d+/disable$`));
      if (paths.length === 0) withoutStates.push(cpu);
      for (const path of paths) {
        const dir = path.slice(0, -'/disable'.length);
        const name = snapshot.files.get(`${dir}/name`)?.trim();
        if (name === 'POLL') continue;
        const disabled = readInteger(snapshot, path);
        if (disabled !== 1) enabled.push(`cpu${cpu} ${dir.split('/').pop()} (${name ?? 'unnamed'})`);
      }
    }
    if (enabled.length > 0) return failResult(expected, `enabled: ${enabled.join(', ')}`, fix);
    if (withoutStates.length > 0) {
      const cmdline = snapshot.files.has('/proc/cmdline') ? readCmdline(snapshot) : undefined;
      const driver = snapshot.files.get('/sys/devices/system/cpu/cpuidle/current_driver')?.trim();
      if (cmdline && cmdlineValue(cmdline, 'idle') === 'poll') return passResult(expected, `idle=poll; no cpuidle states on CPUs ${formatCpus(withoutStates)}`);
      giveUp(`no cpuidle states listed for CPUs ${formatCpus(withoutStates)} and no idle=poll (cpuidle driver: ${driver ?? 'unknown'})`);
    }
    return passResult(expected, `all states but POLL disabled on CPUs ${formatCpus(rt)}`);
  },
});

/** Per-CPU or architectural interrupts that cannot be moved off a CPU. */
const UNMOVABLE_ACTIONS = new Set(['timer', 'cascade', 'arch_timer', 'arch_mem_timer']);

// /proc/interrupts lists only IRQs with a handler; idle IRQ numbers do not matter.
function readActiveIrqs(text: string): Map<number, string> {
  const irqs = new Map<number, string>();
  const lines = text.split('\n');
  const cpuCount = (lines[0] ?? '').trim().split(/\s+/).filter((w) => /^CPU\d+$/.test(w)).length;
  if (cpuCount === 0) giveUp(`/proc/interrupts has no CPU header line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):/.exec(line);
    if (!m) continue;
    const words = line.trim().split(/\s+/);
    irqs.set(Number(m[1]), words.slice(1 + cpuCount).join(' '));
  }
  return irqs;
}

function formatCpuMask(cpus: readonly number[]): string {
  const words: number[] = [];
  for (const cpu of cpus) words[cpu >> 5] = ((words[cpu >> 5] ?? 0) | (1 << (cpu & 31))) >>> 0;
  const hex = Array.from({ length: Math.max(1, words.length) }, (_, i) => (words[i] ?? 0).toString(16));
  return hex.reverse().map((w, i) => (i === 0 ? w : w.padStart(8, '0'))).join(',');
}

const irqAffinity = defineCheck({
  id: 'runtime.irq-affinity',
  title: 'Device IRQs kept off the rt CPUs',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'A device interrupt handled on an rt CPU preempts the vCPU or measurement thread (and in a guest causes exits); IRQs belong on housekeeping CPUs.',
  expected: 'no active IRQ (per-CPU timers excepted) has an rt CPU in smp_affinity_list, and default_smp_affinity excludes the rt CPUs',
  howToFix: 'Write the housekeeping CPU list to /proc/irq/N/smp_affinity_list for each listed IRQ and the housekeeping mask to /proc/irq/default_smp_affinity (tuned realtime profiles do this), with irqbalance stopped.',
  reads: ['/proc/interrupts', '/proc/irq/N/smp_affinity_list', '/proc/irq/default_smp_affinity'],
  evaluate(snapshot, context) {
    const rt = requireRtCpus(context);
    const hk = context.housekeepingCpus.length > 0 ? formatCpus(context.housekeepingCpus) : '<housekeeping cpus>';
    const expected = `active IRQs and default_smp_affinity avoid CPUs ${formatCpus(rt)}`;
    const irqs = readActiveIrqs(readText(snapshot, '/proc/interrupts'));
    const offenders: string[] = [];
    const offenderIrqs: number[] = [];
    const unreadable: string[] = [];
    for (const [irq, action] of irqs) {
      const lastWord = action.split(/\s+/).pop() ?? '';
      if (UNMOVABLE_ACTIONS.has(lastWord)) continue;
      const path = `/proc/irq/${irq}/smp_affinity_list`;
      if (!snapshot.files.has(path)) {
        unreadable.push(describeAbsence(snapshot, path));
        continue;
      }
      const cpus = readCpuList(snapshot, path);
      if (intersect(cpus, rt).length > 0) {
        offenders.push(`IRQ ${irq} (${lastWord}) on ${formatCpus(cpus)}`);
        offenderIrqs.push(irq);
      }
    }
    const mask = parseCpuMask(readText(snapshot, '/proc/irq/default_smp_affinity'));
    if (!mask.ok) giveUp(`/proc/irq/default_smp_affinity: ${mask.message}`);
    const defaultBad = intersect(mask.cpus, rt).length > 0;
    const found = [
      offenders.length === 0 ? `no active IRQ on CPUs ${formatCpus(rt)}` : `${offenders.length} IRQs on rt CPUs: ${offenders.slice(0, 12).join('; ')}${offenders.length > 12 ? '; …' : ''}`,
      `default_smp_affinity ${formatCpus(mask.cpus)}`,
    ].join('; ');
    if (offenders.length > 0 || defaultBad) {
      const steps = [];
      if (offenderIrqs.length > 0) steps.push(`write ${hk} to /proc/irq/N/smp_affinity_list for N in ${offenderIrqs.join(' ')}`);
      if (defaultBad && context.housekeepingCpus.length > 0) steps.push(`write ${formatCpuMask(context.housekeepingCpus)} to /proc/irq/default_smp_affinity`);
      else if (defaultBad) steps.push('write the housekeeping CPU mask to /proc/irq/default_smp_affinity');
      return failResult(expected, found, steps.join('; and '));
    }
    if (unreadable.length > 0) giveUp(unreadable.slice(0, 5).join('; '), found);
    return passResult(expected, found);
  },
});

const housekeeping = defineCheck({
  id: 'runtime.housekeeping',
  title: 'Housekeeping CPUs exist and are online',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'The kernel, IRQs, QEMU’s own threads and the harness need somewhere to run that is not an rt CPU; with none, isolation cannot hold.',
  expected: 'housekeeping_cpus is non-empty, online, and shares no CPU with rt_cpus or the isolated set',
  howToFix: 'Set housekeeping_cpus in pod.yaml to online CPUs outside rt_cpus and outside isolcpus=.',
  reads: ['/sys/devices/system/cpu/online', '/sys/devices/system/cpu/isolated'],
  evaluate(snapshot, context) {
    const hk = context.housekeepingCpus;
    const expected = 'housekeeping_cpus is non-empty, online, and shares no CPU with rt_cpus or the isolated set';
    const fix = 'set housekeeping_cpus in pod.yaml to online CPUs outside rt_cpus and outside isolcpus=';
    if (hk.length === 0) return failResult(expected, 'pod.yaml gives no housekeeping_cpus', fix);
    const online = readCpuList(snapshot, '/sys/devices/system/cpu/online');
    const isolated = snapshot.files.has('/sys/devices/system/cpu/isolated') ? readCpuList(snapshot, '/sys/devices/system/cpu/isolated') : undefined;
    const problems = [
      ...(difference(hk, online).length > 0 ? [`CPUs ${formatCpus(difference(hk, online))} not online`] : []),
      ...(intersect(hk, context.rtCpus).length > 0 ? [`CPUs ${formatCpus(intersect(hk, context.rtCpus))} also in rt_cpus`] : []),
      ...(isolated && intersect(hk, isolated).length > 0 ? [`CPUs ${formatCpus(intersect(hk, isolated))} isolated`] : []),
    ];
    const found = `housekeeping ${formatCpus(hk)}; online ${formatCpus(online)}; isolated ${isolated ? formatCpus(isolated) : 'not readable'}`;
    if (problems.length > 0) return failResult(expected, found, fix, problems.join('; '));
    if (isolated === undefined) giveUp(describeAbsence(snapshot, '/sys/devices/system/cpu/isolated'), found);
    return passResult(expected, found);
  },
});

export const runtimeCpuChecks: readonly CheckDefinition[] = [hugepagesFree, governor, cpuidle, irqAffinity, housekeeping];
