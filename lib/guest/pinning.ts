// Puts a launched guest's threads where pod.yaml says, and proves it from /proc: the i-th
// lowest RT vCPU on the i-th lowest vcpu_pins CPU at the asked policy, every other QEMU
// thread (emulator, I/O, workers, the non-RT vCPUs) on emulator_cpus.
import type { GuestLaunch } from '../config/guest-launch.ts';
import { formatCpuList } from '../config/cpu-list.ts';
import { GuestLaunchError } from '../errors.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord } from '../results/model.ts';
import { buildPinScript, buildPlacementProbeScript, parsePlacementProbe, type ThreadPin } from '../tools/qemu/placement.ts';
import type { VcpuThread } from '../tools/qemu/qmp.ts';
import { runScript } from '../topology/undo.ts';

// Which host CPUs and policy each vCPU thread gets.
export function planVcpuPins(launch: GuestLaunch, vcpus: readonly VcpuThread[]): Array<ThreadPin & { index: number; rt: boolean }> {
  const rt = [...launch.rtVcpus].sort((a, b) => a - b);
  const pins = [...launch.vcpuPins].sort((a, b) => a - b);
  const { policy, priority } = launch.vcpuSched;
  return vcpus.map((v) => {
    const rank = rt.indexOf(v.cpuIndex);
    if (rank < 0) return { index: v.cpuIndex, rt: false, tid: v.threadId, cpus: launch.emulatorCpus };
    return { index: v.cpuIndex, rt: true, tid: v.threadId, cpus: [pins[rank] as number], ...(policy === 'SCHED_OTHER' ? {} : { policy: { policy, priority } }) };
  });
}

export async function pinGuestThreads(host: NodeSession, input: { pid: number; launch: GuestLaunch; vcpus: readonly VcpuThread[]; guest: string }): Promise<Pick<GuestLaunchRecord, 'vcpus' | 'threads'>> {
  const { launch } = input;
  if (input.vcpus.length !== launch.vcpus) throw new GuestLaunchError(`guest ${input.guest}: QMP lists ${input.vcpus.length} vCPU threads, pod.yaml asks for ${launch.vcpus}`);
  const plan = planVcpuPins(launch, input.vcpus);
  if (launch.pinThreads) await runScript(host, buildPinScript(input.pid, launch.emulatorCpus, plan), `pin the threads of guest ${input.guest}`);
  const r = await host.exec({ script: buildPlacementProbeScript(input.pid) }, { label: `read back the threads of guest ${input.guest}` });
  const threads = parsePlacementProbe(r.stdout);
  const record = (t: (typeof threads)[number]) => ({ tid: t.tid, name: t.name, cpus: t.cpus, policy: t.policy, priority: t.priority });
  if (!launch.pinThreads) {
    // Unpinned on purpose: record where the kernel put the threads, and check nothing.
    const vcpus = plan.map((p) => {
      const t = threads.find((x) => x.tid === p.tid);
      return { index: p.index, tid: p.tid, rt: p.rt, hostCpus: t?.cpus ?? [], policy: t?.policy ?? 'unknown', priority: t?.priority ?? 0 };
    });
    return { vcpus, threads: threads.map(record) };
  }
  const wrong: string[] = [];
  const vcpus = plan.map((p) => {
    const t = threads.find((x) => x.tid === p.tid);
    if (!t) {
      wrong.push(`vCPU ${p.index} (thread ${p.tid}) is gone`);
      return { index: p.index, tid: p.tid, rt: p.rt, hostCpus: [], policy: 'unknown', priority: 0 };
    }
    if (formatCpuList(t.cpus) !== formatCpuList(p.cpus)) wrong.push(`vCPU ${p.index} runs on ${formatCpuList(t.cpus)}, not ${formatCpuList(p.cpus)}`);
    if (p.policy && (t.policy !== p.policy.policy || t.priority !== p.policy.priority)) wrong.push(`vCPU ${p.index} is ${t.policy} ${t.priority}, not ${p.policy.policy} ${p.policy.priority}`);
    return { index: p.index, tid: p.tid, rt: p.rt, hostCpus: t.cpus, policy: t.policy, priority: t.priority };
  });
  for (const t of threads.filter((x) => !plan.some((p) => p.tid === x.tid))) {
    if (t.cpus.some((c) => !launch.emulatorCpus.includes(c))) wrong.push(`thread ${t.tid} (${t.name}) may run on ${formatCpuList(t.cpus)}, beyond emulator_cpus ${formatCpuList(launch.emulatorCpus)}`);
  }
  if (wrong.length > 0) throw new GuestLaunchError(`guest ${input.guest}: the pinning did not take: ${wrong.join('; ')}`);
  return { vcpus, threads: threads.map(record) };
}
