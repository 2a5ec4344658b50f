// System-wide runtime settings: daemons, watchdogs, scheduler throttling and memory
// features that steal time from rt CPUs at unpredictable moments.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { defineCheck, failResult, passResult, type CheckDefinition } from './types.ts';
import { formatCpus } from './kernel-cpu-list.ts';
import { HOST_AND_GUEST } from './kernel-checks.ts';
import { describeAbsence, giveUp, parseKernelVersion, readCommand, readInteger, readKernelRelease, readText, requireRtCpus } from './read.ts';

// Process names from the snapshot's `processes` listing (`/proc/<pid>\t<comm>` lines).
export function readProcessNames(snapshot: NodeSnapshot): string[] {
  const listing = readCommand(snapshot, 'processes');
  if (!listing) giveUp('the process listing is not in the snapshot');
  if (listing.exitCode !== 0) giveUp(`the process listing failed with exit status ${listing.exitCode}`);
  const lines = listing.stdout.split('\n').filter((l) => l !== '');
  const bad = lines.find((l) => !/^(\/proc\/)?\d+\t[^\t]*$/.test(l));
  if (bad !== undefined || lines.length === 0) giveUp(`the process listing is not "<pid>\\t<name>" lines: ${JSON.stringify((bad ?? '(empty)').slice(0, 80))}`);
  return lines.map((l) => l.slice(l.indexOf('\t') + 1));
}

const irqbalance = defineCheck({
  id: 'runtime.irqbalance',
  title: 'irqbalance stopped',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'irqbalance periodically moves IRQs to spread load, which can land a device interrupt on an rt CPU after the audit has passed.',
  expected: 'no irqbalance process, and systemctl does not report it active',
  howToFix: '`systemctl disable --now irqbalance`',
  reads: ['/proc/<pid>/comm for every process', 'systemctl is-active irqbalance'],
  evaluate(snapshot) {
    const expected = 'no irqbalance process, and systemctl does not report it active';
    const fix = 'systemctl disable --now irqbalance';
    const running = readProcessNames(snapshot).includes('irqbalance');
    const systemctl = readCommand(snapshot, 'irqbalance-systemctl');
    const state = systemctl ? systemctl.stdout.trim().split('\n')[0] : undefined;
    const found = `${running ? 'an irqbalance process runs' : 'no irqbalance process'}; systemctl is-active: ${state ?? 'no systemctl'}`;
    if (running || state === 'active') return failResult(expected, found, fix);
    return passResult(expected, found);
  },
});

/** A file that must hold one integer value. */
function integerCheck(spec: Omit<CheckDefinition, 'evaluate' | 'reads'> & { path: string; want: number; fix: string }): CheckDefinition {
  const { path, want, fix, ...rest } = spec;
  return defineCheck({
    ...rest,
    reads: [path],
    evaluate(snapshot) {
      const value = readInteger(snapshot, path);
      const found = `${path} = ${value}`;
      return value === want ? passResult(spec.expected, found) : failResult(spec.expected, found, fix);
    },
  });
}

const watchdog = integerCheck({
  id: 'runtime.watchdog',
  title: 'Soft lockup watchdog off',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'The lockup detector runs a per-CPU hrtimer and watchdog thread on every CPU, rt CPUs included.',
  expected: 'kernel.watchdog = 0',
  howToFix: '`kernel.watchdog = 0` in /etc/sysctl.d/ (or kernel parameter `nowatchdog`).',
  path: '/proc/sys/kernel/watchdog',
  want: 0,
  fix: 'set kernel.watchdog = 0 in /etc/sysctl.d/90-kvmfornfv-rt.conf and run sysctl --system (or add nowatchdog to the kernel command line)',
});

const nmiWatchdog = integerCheck({
  id: 'runtime.nmi-watchdog',
  title: 'NMI watchdog off',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'The hard-lockup detector fires a perf NMI on every CPU periodically; each NMI (and in a guest, each exit) adds jitter.',
  expected: 'kernel.nmi_watchdog = 0',
  howToFix: 'Kernel parameter `nmi_watchdog=0` (or `kernel.nmi_watchdog = 0` in /etc/sysctl.d/).',
  path: '/proc/sys/kernel/nmi_watchdog',
  want: 0,
  fix: 'add nmi_watchdog=0 to the kernel command line (or set kernel.nmi_watchdog = 0 in /etc/sysctl.d/90-kvmfornfv-rt.conf)',
});

const rtThrottling = integerCheck({
  id: 'runtime.rt-throttling',
  title: 'RT throttling off',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'With throttling on, SCHED_FIFO tasks (vCPUs, cyclictest, PMD threads) are stopped for 50 ms of every second once they use 95 % of the CPU.',
  expected: 'kernel.sched_rt_runtime_us = -1',
  howToFix: '`kernel.sched_rt_runtime_us = -1` in /etc/sysctl.d/.',
  path: '/proc/sys/kernel/sched_rt_runtime_us',
  want: -1,
  fix: 'set kernel.sched_rt_runtime_us = -1 in /etc/sysctl.d/90-kvmfornfv-rt.conf and run sysctl --system',
});

const timerMigration = integerCheck({
  id: 'runtime.timer-migration',
  title: 'Timer migration off',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'With timer migration on, timers armed on a housekeeping CPU can be moved to, and expire on, a busy rt CPU.',
  expected: 'kernel.timer_migration = 0',
  howToFix: '`kernel.timer_migration = 0` in /etc/sysctl.d/.',
  path: '/proc/sys/kernel/timer_migration',
  want: 0,
  fix: 'set kernel.timer_migration = 0 in /etc/sysctl.d/90-kvmfornfv-rt.conf and run sysctl --system',
});

const ksm = integerCheck({
  id: 'runtime.ksm',
  title: 'KSM off',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'Kernel same-page merging scans and merges guest memory in the background; merged pages take copy-on-write faults when written.',
  expected: '/sys/kernel/mm/ksm/run = 0',
  howToFix: '`systemctl disable --now ksm ksmtuned` where installed, and write 0 to /sys/kernel/mm/ksm/run.',
  path: '/sys/kernel/mm/ksm/run',
  want: 0,
  fix: 'systemctl disable --now ksm ksmtuned (where installed), and write 0 to /sys/kernel/mm/ksm/run',
});

const FAIR_SERVER_GLOB = '/sys/kernel/debug/sched/fair_server/cpu*/runtime';

const fairServer = defineCheck({
  id: 'runtime.fair-server',
  title: 'Fair server reserves no time on rt CPUs (kernel ≥ 6.12)',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why:
    'From 6.12 a deadline "fair server" on every CPU (by default 50 ms of each second) lets normal tasks preempt SCHED_FIFO threads such as vCPUs, ' +
    'and starting it restarts the tick on nohz_full CPUs; it is set per CPU in debugfs, apart from sched_rt_runtime_us.',
  expected: 'on kernels ≥ 6.12, /sys/kernel/debug/sched/fair_server/cpuN/runtime = 0 on every rt CPU',
  howToFix: 'Write 0 to /sys/kernel/debug/sched/fair_server/cpuN/runtime for each rt CPU (debugfs at /sys/kernel/debug).',
  reads: ['uname -r', '/sys/kernel/debug/sched/fair_server/cpuN/runtime'],
  evaluate(snapshot, context) {
    const release = readKernelRelease(snapshot, context);
    const version = parseKernelVersion(release);
    if (!version) giveUp(`cannot read a kernel version from ${JSON.stringify(release.slice(0, 60))}`, release.slice(0, 60));
    const rt = requireRtCpus(context);
    const expected = `fair_server runtime 0 on CPUs ${formatCpus(rt)}`;
    if (version.major < 6 || (version.major === 6 && version.minor < 12)) {
      return passResult(expected, `kernel ${release}: no fair server before 6.12 (RT throttling is checked separately)`);
    }
    const values: string[] = [];
    const reserving: number[] = [];
    for (const cpu of rt) {
      const path = `/sys/kernel/debug/sched/fair_server/cpu${cpu}/runtime`;
      if (!snapshot.files.has(path)) giveUp(`kernel ${release} has a fair server but ${describeAbsence(snapshot, path, FAIR_SERVER_GLOB)} (debugfs not mounted or not readable)`, values.join(', ') || 'not readable');
      const value = readInteger(snapshot, path);
      values.push(`cpu${cpu}: ${value}`);
      if (value !== 0) reserving.push(cpu);
    }
    const found = `kernel ${release}; runtime ${values.join(', ')}`;
    if (reserving.length === 0) return passResult(expected, found);
    return failResult(expected, found, `write 0 to /sys/kernel/debug/sched/fair_server/cpuN/runtime for N in ${reserving.join(' ')}`);
  },
});

const thp = defineCheck({
  id: 'runtime.thp',
  title: 'Transparent hugepages never',
  category: 'runtime',
  appliesTo: HOST_AND_GUEST,
  why: 'khugepaged compaction and THP faults stall at random; explicit hugepages give the same TLB benefit without the background work.',
  expected: '/sys/kernel/mm/transparent_hugepage/enabled shows [never]',
  howToFix: 'Kernel parameter `transparent_hugepage=never`.',
  reads: ['/sys/kernel/mm/transparent_hugepage/enabled'],
  evaluate(snapshot) {
    const path = '/sys/kernel/mm/transparent_hugepage/enabled';
    const text = readText(snapshot, path).trim();
    const selected = /\[(\w+)\]/.exec(text)?.[1];
    if (selected === undefined) giveUp(`expected one [selected] mode in ${path}, found ${JSON.stringify(text.slice(0, 80))}`, text.slice(0, 80));
    const expected = '/sys/kernel/mm/transparent_hugepage/enabled shows [never]';
    if (selected === 'never') return passResult(expected, text);
    return failResult(expected, text, 'add transparent_hugepage=never to the kernel command line');
  },
});

export const runtimeSystemChecks: readonly CheckDefinition[] = [irqbalance, watchdog, nmiWatchdog, rtThrottling, fairServer, timerMigration, thp, ksm];
