// The launcher's steps on the host node: taps for the guest's NICs (pod changes, each
// registered with its undo before it is made), waiting for the boot, reading the console.
import type { GuestLaunchNic } from '../config/guest-launch.ts';
import { GuestLaunchError } from '../errors.ts';
import type { CleanupStack } from '../harness/cleanup.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildBootWaitScript, parseBootWait, type BootWaitOutcome, type BootWaitStage } from '../tools/qemu/boot-wait.ts';
import { registerUndo, runScript } from '../topology/undo.ts';
import type { RecordUndo } from '../undo/journal.ts';

export interface HostTap {
  port: string;
  tap: string;
  mac: string;
}

// A tap per NIC, joined to its bridge. The tap must not exist before: one that does belongs to
// someone else, and its removal afterwards would break them.
export async function addHostTaps(ctx: { cleanup: CleanupStack; dryRun: boolean; recordUndo?: RecordUndo }, host: NodeSession, nics: readonly GuestLaunchNic[], macs: Record<string, string>): Promise<HostTap[]> {
  const taps: HostTap[] = [];
  for (const nic of nics) {
    const tap = quoteArg(nic.tap);
    const exists = await host.exec({ script: `ip link show dev ${tap} >/dev/null 2>&1 && echo yes || echo no` }, { reject: false, label: `tap ${nic.tap}?`, privileged: false });
    if (!ctx.dryRun && exists.stdout.trim() !== 'no') throw new GuestLaunchError(`tap ${nic.tap} already exists on ${host.node.name}: pick another launch.nics[].tap, or remove it if it is a leftover`);
    await registerUndo(ctx, { label: `remove tap ${nic.tap}`, session: host, script: `if ip link show dev ${tap} >/dev/null 2>&1; then ip link del dev ${tap}; fi` });
    await runScript(host, [`ip tuntap add dev ${tap} mode tap`, `ip link set dev ${tap} master ${quoteArg(nic.bridge)}`, `ip link set dev ${tap} up`].join(' && '), `add tap ${nic.tap}`);
    taps.push({ port: nic.port, tap: nic.tap, mac: macs[nic.port] as string });
  }
  return taps;
}

export async function waitForBoot(host: NodeSession, input: { stage: BootWaitStage; consolePath: string; pid: number; forwardPort: number; timeoutS: number }): Promise<BootWaitOutcome> {
  const r = await host.exec({ script: buildBootWaitScript(input) }, { reject: false, timeoutMs: (input.timeoutS + 30) * 1000, label: `wait for guest ${input.stage}` });
  if (r.failed) throw new GuestLaunchError(`waiting for the guest on ${host.node.name} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  return parseBootWait(r.stdout);
}

/** The last 64 KiB of the serial console: enough for the kernel line and the last words. */
export async function readConsoleTail(host: NodeSession, consolePath: string): Promise<string> {
  const head = await host.exec({ script: `grep -m1 'Linux version' ${quoteArg(consolePath)} 2>/dev/null; echo; tail -c 65536 ${quoteArg(consolePath)} 2>/dev/null` }, { reject: false, label: 'guest console' });
  return head.stdout;
}
