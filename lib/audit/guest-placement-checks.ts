// Where a host puts its guests: vCPUs pinned 1:1 to isolated CPUs, QEMU's own threads
// on housekeeping CPUs, guest RAM locked and on preallocated hugepages, and a CPU model
// that lets the guest use the TSC without exits. Every guest on the host must pass.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { defineCheck, failResult, passResult, unknownResult, type CheckDefinition, type CheckResult, type NodeContext } from './types.ts';
import { formatCpus } from './kernel-cpu-list.ts';
import { readGuestViews, type GuestView, type Placement } from './guest-sources.ts';
import { difference, giveUp, requireRtCpus } from './read.ts';

type Verdict = { ok: true; found: string } | { ok: false; found: string; fix: string } | { unknown: string; found: string };

// One verdict per guest, folded: any fail fails, else any unknown is unknown, else pass.
function judgeGuests(snapshot: NodeSnapshot, expected: string, judge: (view: GuestView) => Verdict): CheckResult {
  const views = readGuestViews(snapshot);
  if (views.length === 0) giveUp('no guest found on this host: no virsh dumpxml output and no QEMU process', 'no guest');
  const verdicts = views.map((view): [GuestView, Verdict] => [view, view.invalid ? { unknown: view.invalid, found: 'not readable' } : judge(view)]);
  const found = verdicts.map(([view, v]) => `${view.label}: ${v.found}`).join('; ');
  const failed = verdicts.filter(([, v]) => 'ok' in v && !v.ok);
  if (failed.length > 0) return failResult(expected, found, failed.map(([view, v]) => `${view.label}: ${(v as { fix: string }).fix}`).join('; '));
  const unknown = verdicts.filter(([, v]) => 'unknown' in v);
  if (unknown.length > 0) return unknownResult(expected, found, unknown.map(([view, v]) => `${view.label}: ${(v as { unknown: string }).unknown}`).join('; '));
  return passResult(expected, found);
}

function show(cpus: Placement): string {
  return Array.isArray(cpus) ? formatCpus(cpus) : cpus;
}

const GUEST_HOST = ['host'] as const;

function judgeVcpus(view: GuestView, rt: readonly number[]): Verdict {
  const found = view.vcpus.length === 0 ? 'no vCPUs listed' : view.vcpus.map((v) => `vCPU${v.index}→${show(v.cpus)}`).join(', ');
  if (view.vcpus.length === 0) return { unknown: view.source === 'qemu' ? 'no vCPU thread (named "CPU n/KVM") could be read' : 'no <vcpu> count in the domain XML', found };
  if (view.vcpus.some((v) => v.cpus === 'unreadable')) return { unknown: 'a vCPU affinity could not be read', found };
  const used = view.vcpus.flatMap((v) => (Array.isArray(v.cpus) ? v.cpus : []));
  const bad = view.vcpus.filter((v) => !Array.isArray(v.cpus) || v.cpus.length !== 1 || difference(v.cpus, rt).length > 0 || used.filter((c) => c === (v.cpus as number[])[0]).length > 1);
  if (bad.length === 0 && view.vcpuCount !== undefined && view.vcpus.length < view.vcpuCount) {
    return { unknown: `${view.vcpuCount} vCPUs configured but only ${view.vcpus.length} vCPU threads seen`, found };
  }
  if (bad.length === 0) return { ok: true, found };
  const plan = view.vcpus.map((v, i) => [v.index, rt[i]] as const);
  const fix =
    view.source === 'libvirt'
      ? `in <cputune>: ${plan.map(([v, c]) => `<vcpupin vcpu='${v}' cpuset='${c ?? '?'}'/>`).join(' ')}${view.vcpus.length > rt.length ? ` (only ${rt.length} rt CPUs for ${view.vcpus.length} vCPUs)` : ''}`
      : `pin each vCPU thread to its own rt CPU (taskset -pc <cpu> <tid>), e.g. ${plan.map(([v, c]) => `CPU ${v}/KVM→${c ?? '?'}`).join(', ')}; with libvirt use <vcpupin>`;
  return { ok: false, found, fix };
}

const vcpuPinning = defineCheck({
  id: 'guest-placement.vcpu-pinning',
  title: 'vCPUs pinned 1:1 to isolated CPUs',
  category: 'guest-placement',
  appliesTo: GUEST_HOST,
  why: 'The design asks for CPUs statically and exclusively assigned: a vCPU that can migrate, or shares a CPU with another vCPU, waits for the scheduler.',
  expected: 'every vCPU pinned to exactly one rt CPU, no two vCPUs sharing one',
  howToFix: "libvirt: `<cputune><vcpupin vcpu='0' cpuset='<rt cpu>'/>…</cputune>`; plain QEMU: `taskset -pc <rt cpu> <vCPU thread id>` for each `CPU n/KVM` thread.",
  reads: ['virsh dumpxml <domain>', '/proc/<qemu pid>/task/*/comm', '/proc/<qemu pid>/task/*/status (Cpus_allowed_list)'],
  evaluate(snapshot, context) {
    const rt = requireRtCpus(context);
    return judgeGuests(snapshot, `every vCPU pinned to exactly one of CPUs ${formatCpus(rt)}, none shared`, (view) => judgeVcpus(view, rt));
  },
});

function requireHousekeeping(context: NodeContext): readonly number[] {
  if (context.housekeepingCpus.length === 0) giveUp(`pod.yaml gives no housekeeping_cpus for node ${context.node}`, 'no housekeeping_cpus');
  return context.housekeepingCpus;
}

const emulatorPinning = defineCheck({
  id: 'guest-placement.emulator-pinning',
  title: 'QEMU emulator and I/O threads on housekeeping CPUs',
  category: 'guest-placement',
  appliesTo: GUEST_HOST,
  why: 'QEMU’s main loop, I/O and worker threads wake up at unpredictable times; on an rt CPU they preempt the vCPU placed there.',
  expected: 'emulator threads (and every non-vCPU QEMU thread) allowed only on housekeeping CPUs',
  howToFix: "libvirt: `<cputune><emulatorpin cpuset='<housekeeping cpus>'/></cputune>`; plain QEMU: `taskset -pc <housekeeping cpus> <tid>` for every thread not named `CPU n/KVM`.",
  reads: ['virsh dumpxml <domain>', '/proc/<qemu pid>/task/*/comm', '/proc/<qemu pid>/task/*/status (Cpus_allowed_list)'],
  evaluate(snapshot, context) {
    const hk = requireHousekeeping(context);
    return judgeGuests(snapshot, `non-vCPU QEMU threads only on CPUs ${formatCpus(hk)}`, (view) => {
      const found = view.others.length === 0 ? 'no emulator thread listed' : view.others.map((o) => `${o.name}→${show(o.cpus)}`).join(', ');
      if (view.others.length === 0) return { unknown: 'no non-vCPU QEMU thread could be read', found };
      const bad = view.others.filter((o) => o.cpus !== 'unreadable' && (!Array.isArray(o.cpus) || difference(o.cpus, hk).length > 0));
      if (bad.length === 0 && view.others.some((o) => o.cpus === 'unreadable')) return { unknown: 'a thread affinity could not be read', found };
      if (bad.length === 0) return { ok: true, found };
      const fix = view.source === 'libvirt' ? `<emulatorpin cpuset='${formatCpus(hk)}'/> in <cputune>` : `taskset -pc ${formatCpus(hk)} <tid> for: ${bad.map((o) => o.name).join(', ')}`;
      return { ok: false, found, fix };
    });
  },
});

const memoryLocked = defineCheck({
  id: 'guest-placement.memory-locked',
  title: 'Guest memory locked',
  category: 'guest-placement',
  appliesTo: GUEST_HOST,
  why: 'Unlocked guest memory can be swapped, migrated or compacted by the host; a vCPU touching such a page takes an EPT violation exit and a host page fault.',
  expected: "libvirt <memoryBacking><locked/>, or QEMU -overcommit mem-lock=on (older: -realtime mlock=on)",
  howToFix: 'libvirt: `<memoryBacking><locked/></memoryBacking>`; QEMU: `-overcommit mem-lock=on`.',
  reads: ['virsh dumpxml <domain>', '/proc/<qemu pid>/cmdline'],
  evaluate(snapshot) {
    return judgeGuests(snapshot, 'guest memory locked (mlock)', (view) => {
      const found = view.source === 'libvirt' ? view.memoryEvidence : view.memLocked ? 'mem-lock=on' : 'no -overcommit mem-lock=on or -realtime mlock=on';
      if (view.memLocked) return { ok: true, found };
      return { ok: false, found, fix: view.source === 'libvirt' ? 'add <locked/> to <memoryBacking>' : 'add -overcommit mem-lock=on to the QEMU command line' };
    });
  },
});

const hugepageBacking = defineCheck({
  id: 'guest-placement.hugepage-backing',
  title: 'Guest RAM on preallocated hugepages',
  category: 'guest-placement',
  appliesTo: GUEST_HOST,
  why: 'The design asks for hugepages and guest-to-host mappings preallocated: hugepage-backed RAM needs few EPT entries, and preallocation avoids faults on first touch.',
  expected: 'guest RAM from hugetlbfs (or memfd hugetlb=on), preallocated',
  howToFix:
    'libvirt: `<memoryBacking><hugepages/></memoryBacking>`; QEMU: `-object memory-backend-file,id=mem,size=<ram>,mem-path=/dev/hugepages,prealloc=on -numa node,memdev=mem` (or `-mem-path /dev/hugepages -mem-prealloc`).',
  reads: ['virsh dumpxml <domain>', '/proc/<qemu pid>/cmdline', '/proc/mounts'],
  evaluate(snapshot) {
    return judgeGuests(snapshot, 'guest RAM on preallocated hugepages', (view) => {
      const found = view.memoryEvidence;
      if (view.hugepages === undefined) return { unknown: 'cannot tell whether the memory path is on hugetlbfs (/proc/mounts not readable)', found };
      if (view.hugepages && view.prealloc) return { ok: true, found };
      const where = view.hugetlbfsPaths?.length ? `hugetlbfs is at ${view.hugetlbfsPaths.join(', ')}` : 'no hugetlbfs in /proc/mounts';
      const fix =
        view.source === 'libvirt'
          ? 'add <hugepages/> to <memoryBacking>'
          : found.includes('not on hugetlbfs')
            ? `give mem-path a directory on hugetlbfs (${where}), with prealloc=on`
            : `use -object memory-backend-file,id=mem,size=<ram>,mem-path=<hugetlbfs dir>,prealloc=on -numa node,memdev=mem (${where})`;
      return { ok: false, found, fix };
    });
  },
});

const cpuModel = defineCheck({
  id: 'guest-placement.cpu-model',
  title: 'KVM with host CPU model and invariant TSC',
  category: 'guest-placement',
  appliesTo: GUEST_HOST,
  why: 'Hardware virtualization (KVM) with the host CPU model gives the guest the features that avoid VM exits (TSC deadline timer, posted interrupts); invtsc lets the guest trust its TSC.',
  expected: "KVM acceleration, host-passthrough CPU (-cpu host) with the invtsc feature",
  howToFix: "libvirt: `<domain type='kvm'>` and `<cpu mode='host-passthrough'><feature policy='require' name='invtsc'/></cpu>`; QEMU: `-accel kvm -cpu host,+invtsc`.",
  reads: ['virsh dumpxml <domain>', '/proc/<qemu pid>/cmdline', '/proc/<qemu pid>/task/*/comm'],
  evaluate(snapshot) {
    return judgeGuests(snapshot, 'KVM, host-passthrough CPU with invtsc', (view) => {
      const found = view.cpuEvidence;
      if (view.kvm === undefined) return { unknown: 'cannot tell whether the guest runs under KVM', found };
      if (view.kvm && view.passthrough && view.invtsc) return { ok: true, found };
      const fix =
        view.source === 'libvirt'
          ? "use <domain type='kvm'> and <cpu mode='host-passthrough'><feature policy='require' name='invtsc'/></cpu>"
          : 'run QEMU with -accel kvm -cpu host,+invtsc';
      return { ok: false, found, fix };
    });
  },
});

export const guestPlacementChecks: readonly CheckDefinition[] = [vcpuPinning, emulatorPinning, memoryLocked, hugepageBacking, cpuModel];
