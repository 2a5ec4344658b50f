// Launches one guest on its host node over SSH and tunes it as the RT-KVM guidance says:
// hugepage-backed locked memory, vCPU threads pinned 1:1 at their policy, QEMU's other threads
// on housekeeping CPUs, all read back from /proc. Every host change is registered with its
// undo step before it is made, so success, failure, Ctrl-C and an abort leave the host as it was.
import { buildGuestKernelCmdline, type GuestLaunch } from '../config/guest-launch.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import { GuestLaunchError, describeError } from '../errors.ts';
import type { CleanupStack } from '../harness/cleanup.ts';
import type { RecordUndo } from '../undo/journal.ts';
import type { DetachedProcess, NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord } from '../results/model.ts';
import { describeBootStage, readBootLog } from '../tools/qemu/boot-log.ts';
import { buildQemuCommand, buildQemuStartScript, type Accelerator, type QemuLaunchSpec } from '../tools/qemu/command.ts';
import { formatQemuVersion, parseCpusFast, parseQueryKvm, replyValue } from '../tools/qemu/qmp.ts';
import { MANAGEMENT_MAC } from '../lab/image/recipe.ts';
import { reserveHugepages } from '../topology/hugepages.ts';
import { readConsoleTail, waitForBoot } from './host-steps.ts';
import { prepareHostNics, type HostNic } from './host-nics.ts';
import { pinGuestThreads } from './pinning.ts';
import { createQmpClient } from './qmp-session.ts';

export interface LaunchInput {
  pod: Pod;
  guest: PodNode & { launch: GuestLaunch };
  host: NodeSession;
  /** recordUndo: each host change also goes to the host's undo log, for a run that is killed. */
  ctx: { cleanup: CleanupStack; dryRun: boolean; recordUndo?: RecordUndo };
  log: (line: string) => void;
}

interface Attempt {
  accelerator: Accelerator;
  process: DetachedProcess;
  pid: number;
  spec: QemuLaunchSpec;
  command: string[];
  nicOptions: Record<string, Record<string, string>>;
}

// The accelerators to try, in order, and why: `auto` may fall back to TCG on the lab only.
export function planAccelerators(launch: GuestLaunch, input: { lab: boolean; kvmDevice: boolean }): Array<{ accelerator: Accelerator; reason: string }> {
  if (launch.accelerator === 'kvm') return [{ accelerator: 'kvm', reason: 'pod.yaml asks for kvm' }];
  if (launch.accelerator === 'tcg') return [{ accelerator: 'tcg', reason: 'pod.yaml asks for tcg (software emulation)' }];
  if (!input.lab) return [{ accelerator: 'kvm', reason: 'auto on a real pod means KVM: a guest that does not boot under KVM is an error, never emulated' }];
  if (!input.kvmDevice) return [{ accelerator: 'tcg', reason: 'auto on the lab pod: the host has no /dev/kvm' }];
  return [
    { accelerator: 'kvm', reason: 'auto on the lab pod: /dev/kvm is there and the guest booted under KVM' },
    { accelerator: 'tcg', reason: 'auto on the lab pod: KVM was tried first' },
  ];
}

export async function launchGuest(input: LaunchInput): Promise<GuestLaunchRecord> {
  const { guest, host, ctx, log } = input;
  const launch = guest.launch;
  const dir = `${host.runDir}/guest-${guest.name}`;
  await host.exec(['mkdir', '-p', dir], { label: 'guest folder' });
  const hugepagePath = launch.hugepages ? (await reserveHugepages(ctx, host, { sizeKb: launch.hugepages.sizeKb, pages: 0, freeWanted: Math.ceil((launch.memoryMb * 1024) / launch.hugepages.sizeKb), mountPoint: launch.hugepages.mount })).mountPoint : undefined;
  const macs = Object.fromEntries(guest.ports.filter((p) => p.mac).map((p) => [p.name, p.mac as string]));
  const nics = await prepareHostNics(ctx, host, { launch, macs, dir });
  const kvmDevice = (await host.exec({ script: '[ -c /dev/kvm ] && echo yes || echo no' }, { reject: false, label: 'kvm device', privileged: false })).stdout.trim() === 'yes';
  const plan = planAccelerators(launch, { lab: input.pod.lab, kvmDevice });
  const started = Date.now();
  const problems: string[] = [];
  for (const [i, step] of plan.entries()) {
    const attempt = await startQemu({ ...input, dir, hugepagePath, nics, accelerator: step.accelerator, attempt: i });
    if (ctx.dryRun) return dryRunRecord(input, attempt, step.reason, nics);
    const windowS = step.accelerator === 'kvm' ? launch.kvmProbeS : Math.min(launch.bootTimeoutS, 120);
    const kernel = await waitForBoot(host, { stage: 'kernel', consolePath: attempt.spec.consolePath, pid: attempt.pid, forwardPort: launch.sshForwardPort, timeoutS: windowS });
    if (kernel === 'reached') {
      const reason = problems.length ? `${step.reason} (${problems.join('; ')})` : step.reason;
      return await finishLaunch({ ...input, attempt, reason, started, nics });
    }
    const why = await describeFailedStart(host, attempt, kernel, windowS);
    await stopQemu(input, attempt);
    problems.push(`${step.accelerator.toUpperCase()}: ${why}`);
    log(`guest ${guest.name}: ${step.accelerator.toUpperCase()} did not start the guest kernel: ${why}`);
  }
  throw new GuestLaunchError(`guest ${guest.name} on ${host.node.name} did not boot: ${problems.join('; ')}${plan.length === 1 && launch.accelerator === 'auto' ? ` (${plan[0]?.reason})` : ''}`);
}

async function startQemu(input: LaunchInput & { dir: string; hugepagePath: string | undefined; nics: HostNic[]; accelerator: Accelerator; attempt: number }): Promise<Attempt> {
  const { guest, host, ctx, dir } = input;
  const launch = guest.launch;
  const spec: QemuLaunchSpec = {
    binary: launch.qemu,
    guestName: guest.name,
    processName: `kfn-vm-${guest.name}`.slice(0, 15),
    accelerator: input.accelerator,
    vcpus: launch.vcpus,
    memoryMb: launch.memoryMb,
    ...(input.hugepagePath === undefined ? {} : { hugepagePath: input.hugepagePath }),
    memLock: launch.memLock,
    kernel: launch.kernel,
    ...(launch.initrd === undefined ? {} : { initrd: launch.initrd }),
    append: buildGuestKernelCmdline(launch),
    image: launch.image,
    imageFormat: launch.imageFormat,
    snapshot: true,
    management: { forwardPort: launch.sshForwardPort, mac: MANAGEMENT_MAC },
    nics: input.nics.map((n) => n.spec),
    consolePath: `${dir}/console-${input.attempt}.log`,
    qmpPath: `${dir}/qmp.sock`,
  };
  const built = buildQemuCommand(spec);
  const name = `qemu-${guest.name}-${input.attempt}`;
  let attempt: Attempt | undefined;
  // Registered before the start: a QEMU that comes up while the harness is interrupted is still stopped.
  ctx.cleanup.push(`stop the QEMU of guest ${guest.name} on ${host.node.name}`, async () => {
    if (attempt) await stopQemu(input, attempt);
  });
  // With macvtap NICs the start command opens their devices first and hands QEMU the descriptors.
  const command = built.fds.length > 0 ? { script: buildQemuStartScript(built) } : built.argv;
  const proc = await host.startDetached({ name, command, label: `qemu ${guest.name}` });
  attempt = { accelerator: input.accelerator, process: proc, pid: proc.pid, spec, command: built.argv, nicOptions: built.nicOptions };
  return attempt;
}

async function describeFailedStart(host: NodeSession, attempt: Attempt, outcome: string, windowS: number): Promise<string> {
  const consoleText = await readConsoleTail(host, attempt.spec.consolePath);
  const stage = describeBootStage(readBootLog(consoleText));
  if (outcome === 'exited') {
    const err = await host.exec(['tail', '-c', '2000', attempt.process.stderrPath], { reject: false, label: 'qemu stderr' });
    return `QEMU exited: ${err.stdout.trim().split('\n').slice(-2).join(' | ') || 'no message'} (${stage})`;
  }
  if (outcome === 'timeout') return `no kernel output within ${windowS} s (${stage})`;
  return stage;
}

// QMP quit first, so QEMU closes its files itself; a signal only when it does not answer.
async function stopQemu(input: LaunchInput, attempt: Attempt): Promise<void> {
  const { host } = input;
  const alive = await host.exec({ script: `kill -0 ${attempt.pid} 2>/dev/null && echo alive || echo gone` }, { reject: false, label: 'qemu alive?' });
  if (alive.stdout.trim() !== 'alive') return;
  try {
    const qmp = await createQmpClient(host, { pod: input.pod, socketPath: attempt.spec.qmpPath, dryRun: input.ctx.dryRun, guest: input.guest.name });
    await qmp.run([{ execute: 'quit' }], { timeoutMs: 5_000, allowClose: true });
  } catch (error) {
    input.log(`guest ${input.guest.name}: QMP quit failed (${describeError(error)}); stopping QEMU by signal`);
  }
  await host.stopDetached(attempt.process, { signal: 'TERM', graceMs: 10_000 });
}

async function finishLaunch(input: LaunchInput & { attempt: Attempt; reason: string; started: number; nics: HostNic[] }): Promise<GuestLaunchRecord> {
  const { guest, host, attempt, log } = input;
  const launch = guest.launch;
  const qmp = await createQmpClient(host, { pod: input.pod, socketPath: attempt.spec.qmpPath, dryRun: false, guest: guest.name });
  const t = await qmp.run([{ execute: 'query-version' }, { execute: 'query-kvm' }, { execute: 'query-cpus-fast' }]);
  const kvm = parseQueryKvm(replyValue(t, 1, 'query-kvm'));
  if (kvm.enabled !== (attempt.accelerator === 'kvm')) throw new GuestLaunchError(`guest ${guest.name}: asked for ${attempt.accelerator}, but QMP query-kvm says KVM is ${kvm.enabled ? 'on' : 'off'}`);
  const vcpus = parseCpusFast(replyValue(t, 2, 'query-cpus-fast'));
  const placement = await pinGuestThreads(host, { pid: attempt.pid, launch, vcpus, guest: guest.name });
  const ready = await waitForBoot(host, { stage: 'ready', consolePath: attempt.spec.consolePath, pid: attempt.pid, forwardPort: launch.sshForwardPort, timeoutS: Math.max(10, launch.bootTimeoutS - (Date.now() - input.started) / 1000) });
  const consoleText = await readConsoleTail(host, attempt.spec.consolePath);
  const boot = readBootLog(consoleText);
  if (ready !== 'reached') throw new GuestLaunchError(`guest ${guest.name} on ${host.node.name} did not come up within ${launch.bootTimeoutS} s under ${attempt.accelerator.toUpperCase()}: ${ready === 'exited' ? 'QEMU exited; ' : ''}${describeBootStage(boot)}`);
  const bootSeconds = Math.round((Date.now() - input.started) / 100) / 10;
  log(`guest ${guest.name}: up in ${bootSeconds} s under ${attempt.accelerator.toUpperCase()} (${input.reason}), kernel ${boot.kernelRelease ?? 'unknown'}`);
  return {
    hostNode: host.node.name,
    accelerator: attempt.accelerator,
    acceleratorReason: input.reason,
    emulated: attempt.accelerator === 'tcg',
    qemuBinary: launch.qemu,
    qemuVersion: formatQemuVersion(t.version),
    kernelRelease: boot.kernelRelease ?? null,
    kernelCmdline: attempt.spec.append,
    bootSeconds,
    command: attempt.command,
    nicOptions: attempt.nicOptions,
    nics: input.nics.map((n) => n.record),
    qmpSocket: attempt.spec.qmpPath,
    ...placement,
  };
}

function dryRunRecord(input: LaunchInput, attempt: Attempt, reason: string, nics: HostNic[]): GuestLaunchRecord {
  return {
    hostNode: input.host.node.name,
    accelerator: attempt.accelerator,
    acceleratorReason: `${reason} (dry run: not started)`,
    emulated: attempt.accelerator === 'tcg',
    qemuBinary: input.guest.launch.qemu,
    qemuVersion: 'unknown (dry run)',
    kernelRelease: null,
    kernelCmdline: attempt.spec.append,
    bootSeconds: 0,
    command: attempt.command,
    nicOptions: attempt.nicOptions,
    nics: nics.map((n) => n.record),
    qmpSocket: attempt.spec.qmpPath,
    vcpus: [],
    threads: [],
  };
}
