// vhost-user NICs of a launched guest, plugged by the case whose vswitch serves them: QEMU 7.2
// waits at start for the first client of a vhost-user socket (lib/tools/qemu/command.ts
// QemuCommand.hotplug), so the NICs go in through QMP once the vswitch's dpdkvhostuserclient
// ports wait on the sockets, and come out again when the case ends. The guest sees an ACPI
// hot plug on the pc machine's bus 0, at the NIC's fixed slot, and names the NIC as its port.
// Each unplug is registered before its plug.
import type { Pod, PodNode } from '../config/pod-model.ts';
import { GuestLaunchError } from '../errors.ts';
import type { CleanupStack } from '../harness/cleanup.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord, GuestNicRecord } from '../results/model.ts';
import { buildVhostUserHotplug, type VhostUserHotplug } from '../tools/qemu/command.ts';
import { buildGuestNicScript, buildGuestPciWaitScript } from '../tools/qemu/guest-nics.ts';
import { parseQomList, replyValue, type QmpCommand } from '../tools/qemu/qmp.ts';
import { runScript } from '../topology/undo.ts';
import { createQmpClient, type QmpClient } from './qmp-session.ts';

export interface PluggedNic {
  port: string;
  guestPci: string;
  socket: string;
}

/** How long the guest may take to see a plugged NIC, or to let an unplugged one go (TCG is slow). */
const GUEST_HOTPLUG_S = 60;

// The launched guest's vhost-user NICs among `ports` (all of them when none are named), in launch order.
export function findVhostUserNics(record: GuestLaunchRecord, ports?: readonly string[]): GuestNicRecord[] {
  const all = (record.nics ?? []).filter((n) => n.kind === 'vhost-user');
  if (!ports) return all;
  return ports.map((p) => {
    const nic = all.find((n) => n.port === p);
    if (!nic) throw new GuestLaunchError(`the launched guest has no vhost-user NIC on port ${p} (it has ${all.map((n) => n.port).join(', ') || 'none'}): add {port: ${p}, vhost_user: true} to its launch.nics`);
    return nic;
  });
}

// The plug and unplug commands of one NIC, from what the launcher recorded.
export function buildNicHotplug(guest: PodNode, record: GuestLaunchRecord, nic: GuestNicRecord): VhostUserHotplug {
  const mac = guest.ports.find((p) => p.name === nic.port)?.mac;
  if (!mac || !nic.vhostSocket) throw new GuestLaunchError(`vhost-user NIC ${nic.port} of guest ${guest.name}: ${mac ? 'no socket recorded at launch' : 'its port has no mac in pod.yaml'}`);
  const { mac: _mac, ...deviceOptions } = record.nicOptions[nic.port] ?? {};
  const slot = Number.parseInt(nic.guestPci.split(':')[2]?.split('.')[0] ?? '', 16);
  return buildVhostUserHotplug({ kind: 'vhost-user', id: nic.port, mac: mac.toLowerCase(), socketPath: nic.vhostSocket, deviceOptions, slot });
}

// Plugs the NICs while the vswitch's client ports retry their connection, then waits in the guest.
export async function plugVhostUserNics(
  ctx: { cleanup: CleanupStack; dryRun: boolean; log: (line: string) => void; signal?: AbortSignal },
  a: { pod: Pod; guest: PodNode; record: GuestLaunchRecord; host: NodeSession; guestSession: NodeSession; nics: readonly GuestNicRecord[] },
): Promise<PluggedNic[]> {
  if (!a.record.qmpSocket) throw new GuestLaunchError(`guest ${a.guest.name}: no QMP socket recorded at launch`);
  const qmp = await createQmpClient(a.host, { pod: a.pod, socketPath: a.record.qmpSocket, dryRun: ctx.dryRun, guest: a.guest.name });
  const plugged: PluggedNic[] = [];
  for (const nic of a.nics) {
    const hotplug = buildNicHotplug(a.guest, a.record, nic);
    ctx.cleanup.push(`unplug vhost-user NIC ${nic.port} from guest ${a.guest.name}`, async () => unplug(qmp, hotplug, ctx.log, ctx.signal));
    // netdev_add returns once the vswitch has connected: OVS retries its client ports every second.
    const t = await qmp.run(hotplug.plug, { timeoutMs: 30_000 });
    if (!ctx.dryRun) hotplug.plug.forEach((c, i) => replyValue(t, i, `${c.execute} (${nic.port})`));
    plugged.push({ port: nic.port, guestPci: nic.guestPci, socket: nic.vhostSocket as string });
  }
  if (ctx.dryRun || plugged.length === 0) return plugged;
  const wait = await a.guestSession.exec({ script: buildGuestPciWaitScript(plugged.map((p) => p.guestPci), GUEST_HOTPLUG_S) }, { reject: false, timeoutMs: (GUEST_HOTPLUG_S + 30) * 1000, label: 'wait for the plugged NICs' });
  if (wait.exitCode !== 0) throw new GuestLaunchError(`guest ${a.guest.name} did not take the plugged vhost-user NICs within ${GUEST_HOTPLUG_S} s (${wait.stdout.trim().split('\n').slice(-2).join('; ') || wait.stderr.trim()})`);
  const setups = plugged.map((p) => {
    const port = a.guest.ports.find((x) => x.name === p.port);
    return { mac: port?.mac as string, ifname: port?.interface ?? p.port };
  });
  await runScript(a.guestSession, buildGuestNicScript(setups), `name the plugged NICs of guest ${a.guest.name}`);
  return plugged;
}

// device_del asks the guest to eject; the netdev and chardev go once the device is gone. On an
// abort nobody waits for the guest: the VM is stopped at the end of the run with all its devices.
async function unplug(qmp: QmpClient, hotplug: VhostUserHotplug, log: (line: string) => void, signal: AbortSignal | undefined): Promise<void> {
  const [deviceDel, ...rest] = hotplug.unplug as [QmpCommand, ...QmpCommand[]];
  await qmp.run([deviceDel], { timeoutMs: 10_000 });
  if (signal?.aborted) return;
  const deadline = Date.now() + GUEST_HOTPLUG_S * 1000;
  for (;;) {
    const t = await qmp.run([{ execute: 'qom-list', arguments: { path: '/machine/peripheral' } }]);
    if (!parseQomList(replyValue(t, 0, 'qom-list')).includes(hotplug.deviceId)) break;
    if (Date.now() > deadline) {
      // The netdev cannot go while the device holds it; the VM's stop at the end of the run removes both.
      log(`the guest did not release ${hotplug.deviceId} within ${GUEST_HOTPLUG_S} s; it stays until the VM stops`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  // netdev_del takes a vhost-user netdev's chardev with it (QEMU 7.2): chardev-remove then finds none, which is fine.
  for (const command of rest) {
    const t = await qmp.run([command]);
    const reply = t.replies[0];
    if (reply && !reply.ok && !/not found/.test(reply.desc)) log(`${command.execute}: ${reply.errorClass}: ${reply.desc}`);
  }
}
