// The run's launched guests: each started on its host before the first case (so that the
// preflight audit sees it) and stopped after the last, on every exit path. A guest that
// cannot be started makes every case that needs it an error with the reason; the other
// cases still run.
import type { Pod, PodNode } from '../config/pod-model.ts';
import { GuestLaunchError, describeError } from '../errors.ts';
import { CleanupStack } from '../harness/cleanup.ts';
import type { NodeSessions } from '../harness/node-sessions.ts';
import type { GuestLaunchRecord } from '../results/model.ts';
import { buildGuestNicScript } from '../tools/qemu/guest-nics.ts';
import { runScript } from '../topology/undo.ts';
import type { RecordUndo } from '../undo/journal.ts';
import { launchGuest } from './launch.ts';

export interface PodGuests {
  /** Launch records by guest name, for results.json. */
  readonly launched: Record<string, GuestLaunchRecord>;
  /** Stops every guest and undoes its host changes; never throws, returns the steps that failed. */
  stop(): Promise<string[]>;
}

export function launchedGuests(pod: Pod): Array<PodNode & { launch: NonNullable<PodNode['launch']> }> {
  return pod.nodes.filter((n): n is PodNode & { launch: NonNullable<PodNode['launch']> } => n.launch !== undefined);
}

// One after another: guests of one host share its CPUs, and a boot is the heaviest thing a host does.
export async function startPodGuests(input: { pod: Pod; sessions: NodeSessions; dryRun: boolean; log: (line: string) => void; note: (line: string) => void; recordUndo?: RecordUndo }): Promise<PodGuests> {
  const { pod, sessions, log } = input;
  const cleanup = new CleanupStack({ log, stepTimeoutMs: 60_000 });
  const launched: Record<string, GuestLaunchRecord> = {};
  for (const guest of launchedGuests(pod)) {
    const hostNode = pod.nodes.find((n) => n.name === guest.hostNode) as PodNode;
    try {
      input.note(`guest ${guest.name}: launching on ${hostNode.name} (${guest.launch.vcpus} vCPUs, ${guest.launch.memoryMb} MB, accelerator ${guest.launch.accelerator})`);
      const host = await sessions.session(hostNode);
      const ctx = { cleanup, dryRun: input.dryRun, ...(input.recordUndo ? { recordUndo: input.recordUndo } : {}) };
      const record = await launchGuest({ pod, guest, host, ctx, log: (l) => { log(l); input.note(l); } });
      launched[guest.name] = record;
      if (input.dryRun) continue;
      const session = await sessions.session(guest);
      // vhost-user NICs are not there yet: the case that runs their vswitch plugs and names them.
      const nics = guest.launch.nics.filter((nic) => nic.kind !== 'vhost-user').map((nic) => {
        const port = guest.ports.find((p) => p.name === nic.port);
        const address = (guest.extra.port_addresses as Record<string, string> | undefined)?.[nic.port];
        return { mac: port?.mac as string, ifname: port?.interface ?? nic.port, ...(address ? { address } : {}) };
      });
      if (nics.length > 0) await runScript(session, buildGuestNicScript(nics), `configure the data NICs of guest ${guest.name}`);
      const info = sessions.systemInfo[guest.name];
      if (info) sessions.recordSystemInfo({ ...info, launch: record });
    } catch (error) {
      const reason = error instanceof GuestLaunchError ? error.message : `guest ${guest.name} could not be launched: ${describeError(error)}`;
      log(reason);
      input.note(reason);
      sessions.markUnavailable(guest, new GuestLaunchError(reason, { cause: error }));
    }
  }
  return {
    launched,
    async stop() {
      // The guests' own sessions first: their processes and folders go while the VMs still answer.
      const problems: string[] = [];
      for (const guest of launchedGuests(pod)) {
        const error = await sessions.retire(guest);
        if (error) problems.push(`clean up in guest ${guest.name}: ${error}`);
      }
      const reports = await cleanup.unwind();
      return [...problems, ...reports.filter((r) => !r.ok).map((r) => `${r.label}: ${r.error}`)];
    },
  };
}

/** Cases that measure the host alone: a run of nothing else needs no launched guest. */
export const HOST_ONLY_CASES: readonly string[] = Object.freeze(['baremetal_forwarding']);

// The guests are launched for every selection but one of host-only cases (a bare-metal run
// needs no VM and is spared its boot).
export function selectionNeedsGuests(cases: ReadonlyArray<{ caseName: string }>): boolean {
  return cases.some((c) => !HOST_ONLY_CASES.includes(c.caseName));
}

// One note per launched guest: how it runs, and a warning when its figures come from emulation.
export function guestNotes(guests: PodGuests): string[] {
  return Object.entries(guests.launched).map(([name, r]) =>
    r.emulated
      ? `guest ${name} runs under TCG, QEMU's software emulation (${r.acceleratorReason}): its latency and forwarding figures test function, not real-time quality or speed`
      : `guest ${name} runs under KVM (${r.acceleratorReason})`,
  );
}
