// The host side of a launched guest's data NICs, made before QEMU starts, each change
// registered with its undo step before it is made: a tap joined to a bridge, a macvtap in
// passthru mode on a host link (the VM owns that link), a VF created on a PF, set up and bound
// to vfio-pci (passed through whole), or, for vhost-user, only the socket path QEMU will serve
// once the case that runs the vswitch plugs the NIC (lib/guest/vhost-user.ts).
import { guestPciOf, type GuestLaunch, type GuestLaunchNic } from '../config/guest-launch.ts';
import { GuestLaunchError } from '../errors.ts';
import type { CleanupStack } from '../harness/cleanup.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestNicRecord } from '../results/model.ts';
import { FORWARDING_VIRTIO_OPTIONS, type GuestNicSpec } from '../tools/qemu/command.ts';
import { buildMacvtapAddScript, buildMacvtapName, buildMacvtapRemoveScript, parseMacvtapDev } from '../tools/qemu/macvtap.ts';
import { bindPciDevices } from '../topology/hugepages.ts';
import { prepareVfs } from '../topology/sriov-vfs.ts';
import { registerUndo, runScript, saveLinkStates } from '../topology/undo.ts';
import type { RecordUndo } from '../undo/journal.ts';

export interface HostNic {
  /** What QEMU is given. */
  spec: GuestNicSpec;
  /** What results.json keeps. */
  record: GuestNicRecord;
}

// recordUndo: each change also goes to the host's undo log, for a run that is killed.
type Ctx = { cleanup: CleanupStack; dryRun: boolean; recordUndo?: RecordUndo };

// Every data NIC of the launch, in launch.nics order; each gets the guest PCI slot of its place.
export async function prepareHostNics(ctx: Ctx, host: NodeSession, input: { launch: GuestLaunch; macs: Record<string, string>; dir: string }): Promise<HostNic[]> {
  const out: HostNic[] = [];
  const vfs = await prepareVfNics(ctx, host, input.launch.nics, input.macs);
  for (const [index, nic] of input.launch.nics.entries()) {
    const mac = input.macs[nic.port] as string;
    const slot = 0x10 + index;
    const record: GuestNicRecord = { port: nic.port, kind: nic.kind, guestPci: guestPciOf(index) };
    if (nic.kind === 'tap') {
      await addTap(ctx, host, nic);
      out.push({ spec: { kind: 'tap', id: nic.port, mac, tap: nic.tap, slot }, record: { ...record, hostInterface: nic.tap } });
    } else if (nic.kind === 'macvtap') {
      const name = buildMacvtapName(nic.port);
      const devicePath = `${input.dir}/${name}.tap`;
      await addMacvtap(ctx, host, { link: nic.link, name, devicePath });
      out.push({ spec: { kind: 'macvtap', id: nic.port, mac, devicePath, deviceOptions: { ...FORWARDING_VIRTIO_OPTIONS }, slot }, record: { ...record, hostInterface: nic.link } });
    } else if (nic.kind === 'vhost-user') {
      const socketPath = `${input.dir}/${nic.port}.sock`;
      out.push({ spec: { kind: 'vhost-user', id: nic.port, mac, socketPath, deviceOptions: { ...FORWARDING_VIRTIO_OPTIONS }, slot }, record: { ...record, vhostSocket: socketPath } });
    } else {
      const hostPci = vfs.get(nic.port) ?? '0000:00:00.0';
      out.push({ spec: { kind: 'vfio-pci', id: nic.port, hostPci, slot }, record: { ...record, hostPci } });
    }
  }
  return out;
}

// A tap per NIC, joined to its bridge. The tap must not exist before: one that does belongs to
// someone else, and its removal afterwards would break them.
async function addTap(ctx: Ctx, host: NodeSession, nic: Extract<GuestLaunchNic, { kind: 'tap' }>): Promise<void> {
  const tap = quoteArg(nic.tap);
  await refuseExisting(ctx, host, { kind: 'tap', name: nic.tap, field: 'launch.nics[].tap' });
  await registerUndo(ctx, { label: `remove tap ${nic.tap}`, session: host, script: `if ip link show dev ${tap} >/dev/null 2>&1; then ip link del dev ${tap}; fi` });
  await runScript(host, [`ip tuntap add dev ${tap} mode tap`, `ip link set dev ${tap} master ${quoteArg(nic.bridge)}`, `ip link set dev ${tap} up`].join(' && '), `add tap ${nic.tap}`);
}

// The VM owns the link: nothing else may use it, and its flags (passthru sets promisc) come back after.
async function addMacvtap(ctx: Ctx, host: NodeSession, a: { link: string; name: string; devicePath: string }): Promise<void> {
  await refuseExisting(ctx, host, { kind: 'macvtap', name: a.name, field: 'port name (the macvtap is kfnmv-<port>)' });
  const upper = await host.exec({ script: `ls /sys/class/net/${quoteArg(a.link)}/ 2>/dev/null | grep -c '^upper_' || true` }, { reject: false, label: `users of ${a.link}?`, privileged: false });
  if (!ctx.dryRun && Number(upper.stdout.trim()) > 0) throw new GuestLaunchError(`host link ${a.link} on ${host.node.name} already has an upper device (a bridge, macvlan or macvtap): a VM that owns it through a macvtap would take it from them`);
  await saveLinkStates(ctx, host, [a.link]);
  await registerUndo(ctx, { label: `remove macvtap ${a.name}`, session: host, script: buildMacvtapRemoveScript({ name: a.name, nodePath: a.devicePath }) });
  const out = await runScript(host, buildMacvtapAddScript({ link: a.link, name: a.name, nodePath: a.devicePath }), `add macvtap ${a.name} on ${a.link}`);
  if (!ctx.dryRun) parseMacvtapDev(out);
}

// An interface the launcher would create must not exist: one that does belongs to someone else.
async function refuseExisting(ctx: Ctx, host: NodeSession, a: { kind: string; name: string; field: string }): Promise<void> {
  const exists = await host.exec({ script: `ip link show dev ${quoteArg(a.name)} >/dev/null 2>&1 && echo yes || echo no` }, { reject: false, label: `${a.kind} ${a.name}?`, privileged: false });
  if (!ctx.dryRun && exists.stdout.trim() !== 'no') throw new GuestLaunchError(`${a.kind} ${a.name} already exists on ${host.node.name}: pick another ${a.field}, or remove it if it is a leftover`);
}

// The VFs behind vf NICs, with the MAC of their guest port, bound to vfio-pci; host PCI by port.
async function prepareVfNics(ctx: Ctx, host: NodeSession, nics: readonly GuestLaunchNic[], macs: Record<string, string>): Promise<Map<string, string>> {
  const wanted = nics.filter((n): n is Extract<GuestLaunchNic, { kind: 'vf' }> => n.kind === 'vf');
  const out = new Map<string, string>();
  if (wanted.length === 0) return out;
  const ifaceOf = (pf: string) => host.node.ports.find((p) => p.name === pf)?.interface ?? pf;
  const ready = await prepareVfs(ctx, host, { create: true, vfs: wanted.map((n) => ({ pf: ifaceOf(n.pf), vf: n.vf, mac: macs[n.port] as string, vlan: n.vlan, qos: 0, spoofchk: n.spoofchk, trust: n.trust })) });
  const pcis = ready.flatMap((v) => (v.pci ? [v.pci] : []));
  if (pcis.length > 0) await bindPciDevices(ctx, host, pcis, 'vfio-pci');
  wanted.forEach((n, i) => {
    const pci = ready[i]?.pci;
    if (pci) out.set(n.port, pci);
  });
  return out;
}
