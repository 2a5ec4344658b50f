// Where a host puts the pieces of a forwarding path through a VM it launches: OVS's PMD threads
// on CPUs no vCPU or QEMU thread uses, the vCPUs that run the VNF pinned each to a host CPU of
// its own, and the RAM of a guest with vhost-user NICs on hugepages shared with the vswitch
// (VSPERF's and the RT-KVM guides' setup). Judged from the QEMU and ovs-vswitchd threads the
// snapshot read, and from the placement pod.yaml gives when OVS does not run yet.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { readGuestViews, readPmdThreads, type GuestView, type Placement } from './guest-sources.ts';
import { formatCpus } from './kernel-cpu-list.ts';
import { giveUp } from './read.ts';
import { defineCheck, failResult, passResult, unknownResult, type CheckDefinition, type LaunchedGuestContext, type NodeContext } from './types.ts';

const HOST = ['host'] as const;

function show(cpus: Placement): string {
  return Array.isArray(cpus) ? formatCpus(cpus) : cpus;
}

function viewOf(snapshot: NodeSnapshot, guest: LaunchedGuestContext): GuestView | undefined {
  return readGuestViews(snapshot).find((v) => v.source === 'qemu' && v.label.endsWith(`(${guest.name})`));
}

// The PMD CPUs in force (the running threads), else the ones pod.yaml plans, else the OVS-DPDK case's default (rt_cpus).
function pmdCpus(snapshot: NodeSnapshot, context: NodeContext): { cpus: number[]; from: string } {
  const threads = readPmdThreads(snapshot);
  if (threads.some((t) => !Array.isArray(t.cpus))) giveUp('a PMD thread affinity could not be read', threads.map((t) => `${t.name}→${show(t.cpus)}`).join(', '));
  if (threads.length > 0) return { cpus: [...new Set(threads.flatMap((t) => t.cpus as number[]))].sort((a, b) => a - b), from: `running PMD threads ${threads.map((t) => t.name).join(', ')}` };
  if (context.ovsPmdCpus) return { cpus: [...context.ovsPmdCpus], from: 'extra.ovs_pmd_cpus (OVS is started by the case)' };
  return { cpus: [...context.rtCpus], from: 'rt_cpus, the OVS-DPDK case\'s default (OVS is started by the case)' };
}

// Every QEMU thread that may run on one of `cpus`, named for the message.
function threadsOn(views: readonly GuestView[], cpus: readonly number[]): string[] {
  const out: string[] = [];
  for (const v of views) {
    for (const t of v.vcpus) if (t.cpus === 'unpinned' || (Array.isArray(t.cpus) && t.cpus.some((c) => cpus.includes(c)))) out.push(`${v.label} vCPU ${t.index} (${show(t.cpus)})`);
    for (const t of v.others) if (t.cpus === 'unpinned' || (Array.isArray(t.cpus) && t.cpus.some((c) => cpus.includes(c)))) out.push(`${v.label} ${t.name} (${show(t.cpus)})`);
  }
  return out;
}

const ovsPmdCpus = defineCheck({
  id: 'guest-placement.ovs-pmd-cpus',
  title: 'OVS PMD threads on CPUs of their own',
  category: 'guest-placement',
  appliesTo: HOST,
  condition: { text: 'a guest the harness launches here has vhost-user NICs, or pod.yaml places OVS\'s PMD threads (extra.ovs_pmd_cpus)', holds: (c) => c.ovsPmdCpus !== undefined || (c.launchedGuests ?? []).some((g) => g.vhostUser) },
  why: 'A PMD thread busy-polls its CPU; a vCPU or QEMU thread sharing that CPU either starves the PMD (a SCHED_FIFO vCPU leaves it the 5 % RT throttling allows) or waits behind it, and packets wait with them.',
  expected: 'no vCPU or other QEMU thread allowed on a PMD CPU',
  howToFix: 'Give OVS PMD CPUs no guest uses: `ovs-vsctl set Open_vSwitch . other_config:pmd-cpu-mask=<mask>` (pod.yaml: extra.ovs_pmd_cpus on the host, or ovs_options.pmd_cpus in the case), and keep them out of every guest\'s vcpu_pins and emulator_cpus.',
  reads: ['/proc/<ovs-vswitchd pid>/task/*/comm', '/proc/<ovs-vswitchd pid>/task/*/status (Cpus_allowed_list)', '/proc/<qemu pid>/task/*/status', 'pod.yaml extra.ovs_pmd_cpus'],
  evaluate(snapshot, context) {
    if (context.ovsPmdCpus === undefined && !(context.launchedGuests ?? []).some((g) => g.vhostUser)) giveUp('no launched guest here has vhost-user NICs, and pod.yaml places no OVS PMD threads (extra.ovs_pmd_cpus)', 'nothing to place');
    const pmd = pmdCpus(snapshot, context);
    const expected = `no QEMU thread on the PMD CPUs ${formatCpus(pmd.cpus)} (${pmd.from})`;
    // The QEMU processes' threads are what runs; a libvirt domain's XML describes the same threads.
    const views = readGuestViews(snapshot).filter((v) => v.source === 'qemu' && !v.invalid);
    if (views.length === 0) return unknownResult(expected, 'no guest running', 'no QEMU process to compare with: the check needs the launched guest running');
    const sharing = threadsOn(views, pmd.cpus);
    if (sharing.length === 0) return passResult(expected, `PMD CPUs ${formatCpus(pmd.cpus)}; no QEMU thread may run there`);
    const free = context.housekeepingCpus.concat(context.rtCpus).filter((c) => !views.some((v) => threadsOn([v], [c]).length > 0));
    return failResult(expected, `PMD CPUs ${formatCpus(pmd.cpus)} shared with ${sharing.join(', ')}`, free.length > 0 ? `put the PMD threads on CPUs no guest uses, e.g. extra.ovs_pmd_cpus: "${formatCpus(free)}" (pmd-cpu-mask)` : 'this host has no CPU left that no guest thread uses: give the PMD threads CPUs of their own (more CPUs, or fewer vCPUs and emulator CPUs)');
  },
});

const vnfVcpus = defineCheck({
  id: 'guest-placement.vnf-vcpu-pinning',
  title: 'The VNF\'s vCPUs pinned to host CPUs of their own',
  category: 'guest-placement',
  appliesTo: HOST,
  condition: { text: 'the harness launches a guest on this host', holds: (c) => (c.launchedGuests ?? []).length > 0 },
  why: 'The VNF busy-polls on the guest\'s real-time vCPUs; a vCPU thread that can move, or shares its host CPU with another vCPU, a QEMU thread or a PMD, loses the CPU and the packets wait.',
  expected: 'each real-time vCPU thread allowed on exactly its vcpu_pins CPU, and nothing else of QEMU or OVS there',
  howToFix: 'Launch the guest with pin_threads: true and vcpu_pins on CPUs no other vCPU, emulator thread or PMD uses; by hand: `taskset -pc <cpu> <vCPU thread id>`.',
  reads: ['/proc/<qemu pid>/task/*/comm', '/proc/<qemu pid>/task/*/status (Cpus_allowed_list)', '/proc/<ovs-vswitchd pid>/task/*/status', 'pod.yaml launch.rt_vcpus, launch.vcpu_pins'],
  evaluate(snapshot, context) {
    const guests = context.launchedGuests ?? [];
    if (guests.length === 0) giveUp('the harness launches no guest on this host (pod.yaml launch:)', 'no launched guest');
    const pmd = readPmdThreads(snapshot);
    const views = readGuestViews(snapshot).filter((v) => v.source === 'qemu' && !v.invalid);
    const found: string[] = [];
    const wrong: string[] = [];
    const unknown: string[] = [];
    for (const g of guests) {
      const view = viewOf(snapshot, g);
      if (!view) {
        unknown.push(`guest ${g.name}: its QEMU is not running`);
        continue;
      }
      g.rtVcpus.forEach((index, i) => {
        const pin = g.vcpuPins[i] as number;
        const t = view.vcpus.find((v) => v.index === index);
        const at = `${g.name} vCPU ${index}`;
        if (!t) return void unknown.push(`${at}: no thread named "CPU ${index}/..."`);
        found.push(`${at}→${show(t.cpus)}`);
        if (!Array.isArray(t.cpus) || t.cpus.length !== 1 || t.cpus[0] !== pin) wrong.push(`${at} may run on ${show(t.cpus)}, not only ${pin}`);
        const others = threadsOn(views, [pin]).filter((n) => n !== `${view.label} vCPU ${index} (${show(t.cpus)})`);
        const pmds = pmd.filter((p) => p.cpus === 'unpinned' || (Array.isArray(p.cpus) && p.cpus.includes(pin))).map((p) => `OVS ${p.name}`);
        const planned = pmd.length === 0 && context.ovsPmdCpus?.includes(pin) ? ['OVS PMD (extra.ovs_pmd_cpus)'] : [];
        if (others.length + pmds.length + planned.length > 0) wrong.push(`${at}'s CPU ${pin} is shared with ${[...others, ...pmds, ...planned].join(', ')}`);
      });
    }
    const expected = `each real-time vCPU alone on its pin (${guests.map((g) => `${g.name}: ${g.rtVcpus.map((v, i) => `vCPU ${v}→${g.vcpuPins[i]}`).join(', ')}`).join('; ')})`;
    if (wrong.length > 0) return failResult(expected, found.join(', ') || 'no vCPU read', `${wrong.join('; ')}: pin each real-time vCPU alone (launch.vcpu_pins, pin_threads: true) and keep emulator_cpus and the PMD CPUs off those CPUs`);
    if (unknown.length > 0) return unknownResult(expected, found.join(', ') || 'not readable', unknown.join('; '));
    return passResult(expected, found.join(', '));
  },
});

const vhostUserMemory = defineCheck({
  id: 'guest-placement.vhost-user-memory',
  title: 'vhost-user guest RAM shared on hugepages',
  category: 'guest-placement',
  appliesTo: HOST,
  condition: { text: 'a guest the harness launches here has vhost-user NICs', holds: (c) => (c.launchedGuests ?? []).some((g) => g.vhostUser) },
  why: 'A vhost-user backend (OVS-DPDK) reads and writes the guest\'s rings and buffers in place: it needs the guest RAM shared with it (share=on) and on hugepages, or the NIC cannot start, or every packet crosses TLB misses.',
  expected: 'guest RAM from a memory backend on hugetlbfs with share=on',
  howToFix: 'QEMU: `-object memory-backend-file,id=ram0,size=<ram>,mem-path=<hugetlbfs>,share=on,prealloc=on -machine memory-backend=ram0` (pod.yaml: launch.hugepages); libvirt: `<memoryBacking><hugepages/><access mode=\'shared\'/></memoryBacking>`.',
  reads: ['/proc/<qemu pid>/cmdline', '/proc/mounts'],
  evaluate(snapshot, context) {
    const guests = (context.launchedGuests ?? []).filter((g) => g.vhostUser);
    if (guests.length === 0) giveUp('no guest launched here has vhost-user NICs', 'no vhost-user guest');
    const expected = 'guest RAM on hugetlbfs, share=on, for every guest with vhost-user NICs';
    const found: string[] = [];
    const wrong: string[] = [];
    for (const g of guests) {
      const view = viewOf(snapshot, g);
      if (!view) return unknownResult(expected, found.join('; ') || 'not readable', `guest ${g.name}: its QEMU is not running`);
      if (view.hugepages === undefined) return unknownResult(expected, view.memoryEvidence, 'cannot tell whether the memory path is on hugetlbfs (/proc/mounts not readable)');
      found.push(`${g.name}: ${view.memoryEvidence}`);
      if (!view.hugepages || !view.shared) wrong.push(`${g.name}: ${!view.hugepages ? 'RAM not on hugetlbfs' : ''}${!view.hugepages && !view.shared ? ', ' : ''}${!view.shared ? 'RAM not shared (share=on)' : ''}`);
    }
    if (wrong.length > 0) return failResult(expected, found.join('; '), `${wrong.join('; ')}: give the guest launch.hugepages (a memory-backend-file on hugetlbfs with share=on)`);
    return passResult(expected, found.join('; '));
  },
});

export const vmForwardingChecks: readonly CheckDefinition[] = [ovsPmdCpus, vnfVcpus, vhostUserMemory];
