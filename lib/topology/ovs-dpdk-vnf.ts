// The VNF of the PVP path, in one of three places: a guest the harness launched (its vhost-user
// NICs plugged once OVS waits on their sockets, the VNF inside the VM: lib/topology/guest-vnf.ts),
// an existing guest whose QEMU already serves the sockets (vnf.pci, vnf.vhost_sockets), or a
// namespace on the host (the namespace lab: testpmd on virtio_user, which serves the sockets
// itself). Also the path's counting points, OVS port by port, so the case can say where frames
// were lost: on the wire, in OVS or in the VNF.
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { findVhostUserNics, plugVhostUserNics } from '../guest/vhost-user.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord, GuestNicRecord } from '../results/model.ts';
import type { PvpPlan } from '../tools/ovs/pvp-plan.ts';
import { buildFilePrefix, buildTestpmdCommand, TESTPMD_TOOL_SPEC, type TestpmdPort } from '../tools/testpmd/command.ts';
import type { TrialPorts } from '../traffic/generator.ts';
import { startGuestVnf } from './guest-vnf.ts';
import { bindPciDevices, reserveHugepages } from './hugepages.ts';
import type { OvsDpdkArgs } from './ovs-dpdk.ts';
import type { ForwarderCounts, PathStage } from './types.ts';
import { countsFromStats, startVnf, stopVnfWithStats, type VnfPortCounts } from './vnf-testpmd.ts';

export type PvpVnfPlace =
  | { kind: 'launched'; record: GuestLaunchRecord; nics: [GuestNicRecord, GuestNicRecord]; vhostSockets: [string, string] }
  | { kind: 'guest'; vhostSockets: [string, string] }
  | { kind: 'namespace' };

export interface PvpVnf {
  forwarder: 'testpmd' | 'kernel';
  /** For the path description, e.g. `testpmd (io) in the VM, virtio-net on uio_pci_generic`. */
  label: string;
  /** The VNF's ports, facing OVS's vhost port 0 then 1. */
  ports: [string, string];
  stop(ctx: CaseContext): Promise<VnfPortCounts | undefined>;
}

// Where the VNF runs and which sockets OVS connects to; refuses what cannot work on this pod.
export function placePvpVnf(ctx: Pick<CaseContext, 'pod' | 'launch'>, vnfNode: PodNode, v: OvsDpdkArgs['vnf']): PvpVnfPlace {
  const record = ctx.launch(vnfNode);
  if (record) {
    const nics = [...findVhostUserNics(record, v.ports)].sort((a, b) => a.guestPci.localeCompare(b.guestPci));
    if (nics.length < 2) throw new TopologyError(`OVS-DPDK PVP needs two vhost-user NICs in the launched guest ${vnfNode.name}; its launch.nics has ${nics.length}: add {port: <name>, vhost_user: true} for two of its ports`);
    const pair = [nics[0], nics[1]] as [GuestNicRecord, GuestNicRecord];
    return { kind: 'launched', record, nics: pair, vhostSockets: pair.map((n) => n.vhostSocket as string) as [string, string] };
  }
  if (v.pci && v.vhost_sockets) return { kind: 'guest', vhostSockets: v.vhost_sockets as [string, string] };
  if (!ctx.pod.lab || v.pci) throw new TopologyError('on a real pod the VNF runs in a guest: launch it (pod.yaml launch: with two vhost_user NICs), or name the virtio-net devices of an existing one (vnf.pci) and the vhost-user sockets its QEMU serves (vnf.vhost_sockets) in run.args');
  return { kind: 'namespace' };
}

// Starts the VNF once OVS's client ports wait on the sockets (and, in a launched guest, plugs its NICs first).
export async function startPvpVnf(ctx: CaseContext, a: { place: PvpVnfPlace; vnfNode: PodNode; plan: PvpPlan; args: OvsDpdkArgs; host: NodeSession; tgen: PodNode; tgenPorts: TrialPorts }): Promise<PvpVnf> {
  const v = a.args.vnf;
  const session = await ctx.session(a.vnfNode);
  if (a.place.kind === 'launched') {
    const place = a.place;
    await plugVhostUserNics(ctx, { pod: ctx.pod, guest: a.vnfNode, record: place.record, host: a.host, guestSession: session, nics: place.nics });
    const ports = place.nics.map((n) => dataPort(a.vnfNode, n.port)) as [DataPort, DataPort];
    ctx.recordDetails('vnf', { node: a.vnfNode.name, where: 'launched guest', nics: place.nics, virtioOptions: Object.fromEntries(place.nics.map((n) => [n.port, place.record.nicOptions[n.port] ?? {}])) });
    const vnf = await startGuestVnf(ctx, session, {
      node: a.vnfNode,
      record: place.record,
      ports,
      forwardMode: a.args.forward_mode,
      ...(v.main_cpu === undefined ? {} : { mainLcore: v.main_cpu }),
      ...(v.forwarding_cpus === undefined ? {} : { forwardingLcores: v.forwarding_cpus }),
      hugepages: v.hugepages,
      socketMemMb: v.socket_mem_mb,
      mbufs: v.mbufs,
      statsPeriodS: v.stats_period_s,
      ...(v.driver === undefined ? {} : { driver: v.driver }),
      role: 'pvp-vnf',
      tgen: a.tgen,
      tgenPorts: a.tgenPorts,
    });
    return { forwarder: vnf.forwarder, label: vnf.label, ports: [ports[0].name, ports[1].name], stop: (c) => vnf.stop(c) };
  }
  const binary = await ensureTool(session, TESTPMD_TOOL_SPEC);
  const mainLcore = v.main_cpu ?? a.vnfNode.housekeepingCpus[0];
  const forwardingLcores = v.forwarding_cpus ?? a.vnfNode.rtCpus.slice(0, 1);
  if (mainLcore === undefined || forwardingLcores.length === 0) throw new TopologyError(`the VNF on ${a.vnfNode.name} needs a main lcore (housekeeping_cpus or vnf.main_cpu) and a forwarding lcore (rt_cpus or vnf.forwarding_cpus)`);
  await reserveHugepages(ctx, session, { sizeKb: v.hugepages.size_kb, pages: v.hugepages.pages, mountPoint: v.hugepages.mount });
  let ports: TestpmdPort[];
  if (a.place.kind === 'namespace') ports = a.plan.vhostSockets.map((socket) => ({ kind: 'virtio_user' as const, socket }));
  else {
    const addresses = v.pci!.map((p) => p.toLowerCase());
    await bindPciDevices(ctx, session, addresses, v.driver ?? 'vfio-pci');
    ports = addresses.map((address) => ({ kind: 'pci' as const, address }));
  }
  const command = buildTestpmdCommand({ binary, forwardMode: a.args.forward_mode, mainLcore, forwardingLcores, filePrefix: buildFilePrefix(ctx.runId, 'pvp-vnf'), statsPeriodS: v.stats_period_s, totalNumMbufs: v.mbufs, ports, memory: { kind: 'hugepages', socketMemMb: [v.socket_mem_mb] } });
  const run = await startVnf(ctx, session, command);
  const names: [string, string] = ['vnf port 0', 'vnf port 1'];
  return {
    forwarder: 'testpmd',
    label: `testpmd (${a.args.forward_mode}${a.place.kind === 'namespace' ? ', virtio_user' : ''})`,
    ports: names,
    async stop(c) {
      const stats = await stopVnfWithStats(c, run);
      return stats ? countsFromStats(stats, names, `testpmd on ${a.vnfNode.name}`) : undefined;
    },
  };
}

function dataPort(node: PodNode, name: string): DataPort {
  const port = node.ports.find((p) => p.name === name);
  if (!port?.mac) throw new TopologyError(`guest ${node.name} has no port ${name} with a mac in pod.yaml`);
  return port;
}

/** OVS's counters of one port: `statistics` of `ovs-vsctl list Interface`. */
export type OvsPortCounts = Record<string, { rxPackets: number; txPackets: number; rxDropped: number; txDropped: number }>;

// Each direction's counting points: OVS's physical port in, its vhost port out, the VNF's two
// ports, OVS's other vhost port in, its other physical port out.
export function buildPvpStages(a: { plan: PvpPlan; ovs: OvsPortCounts; vnf: VnfPortCounts | undefined; vnfPorts: [string, string]; tgenPorts: TrialPorts }): NonNullable<ForwarderCounts['stages']> {
  const [phys0, vhost0, vhost1, phys1] = [a.plan.names.physical[0], a.plan.names.vhost[0], a.plan.names.vhost[1], a.plan.names.physical[1]];
  const ovsAt = (port: string, dir: 'rx' | 'tx', what: string): PathStage[] => {
    const c = a.ovs[port];
    return c ? [{ point: `OVS ${port} ${dir} (${what})`, frames: dir === 'rx' ? c.rxPackets : c.txPackets }] : [];
  };
  const vnfAt = (port: string, dir: 'rx' | 'tx'): PathStage[] => {
    const c = a.vnf?.ports.find((p) => p.port === port);
    const frames = c ? (dir === 'rx' ? c.rx : c.tx) : null;
    return frames === null || frames === undefined ? [] : [{ point: `VNF ${port} ${dir}`, frames }];
  };
  const [in0, in1] = a.vnfPorts;
  return [
    { txPort: a.tgenPorts.tx, rxPort: a.tgenPorts.rx, stages: [...ovsAt(phys0, 'rx', 'from the generator'), ...ovsAt(vhost0, 'tx', 'to the VNF'), ...vnfAt(in0, 'rx'), ...vnfAt(in1, 'tx'), ...ovsAt(vhost1, 'rx', 'from the VNF'), ...ovsAt(phys1, 'tx', 'to the generator')] },
    { txPort: a.tgenPorts.rx, rxPort: a.tgenPorts.tx, stages: [...ovsAt(phys1, 'rx', 'from the generator'), ...ovsAt(vhost1, 'tx', 'to the VNF'), ...vnfAt(in1, 'rx'), ...vnfAt(in0, 'tx'), ...ovsAt(vhost0, 'rx', 'from the VNF'), ...ovsAt(phys0, 'tx', 'to the generator')] },
  ];
}
