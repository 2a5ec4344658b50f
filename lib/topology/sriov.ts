// SR-IOV: generator → VF → VNF (dpdk-testpmd on the VF) → VF → generator, no vswitch.
// On a real pod the harness reads each PF's VFs, creates VFs only on a PF that has none, sets
// each VF's MAC, VLAN, spoof check and trust, binds it to vfio-pci and hands it to the guest
// (libvirt hostdev), or uses the VFs the guest already has; every change is undone. The VNF is
// dpdk-testpmd in the guest on its VF ports (PCI, vfio-pci, hugepages), with the options of the
// bare-metal forwarder. On the lab the guest namespace owns the data veths g0/g1 directly, the
// passthrough analogue, and testpmd runs there on af_packet.
import { z } from 'zod';
import type { DataPort, Pod, PodNode } from '../config/pod-model.ts';
import { buildConfigIssues } from '../config/zod-issues.ts';
import { ConfigError, TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { defaultVnfNode, type CountingTopology, type ForwarderCounts, type ForwardingPath } from './types.ts';
import { resolveDevicePorts } from '../cases/forwarding-ports.ts';
import { buildShellCommand as shell, quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord } from '../results/model.ts';
import { buildHostdevXml, buildVirshDevice } from '../tools/sriov/command.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import { buildFilePrefix, buildTestpmdCommand, TESTPMD_TOOL_SPEC, type TestpmdMemory, type TestpmdPort } from '../tools/testpmd/command.ts';
import { baremetalArgsShape } from './baremetal.ts';
import { bindPciDevices, driverField, reserveHugepages } from './hugepages.ts';
import { prepareVfs } from './sriov-vfs.ts';
import { countsFromStats, startVnf, stopVnfWithStats, type VnfPortCounts } from './vnf-testpmd.ts';
import { startGuestVnf } from './guest-vnf.ts';
import { applyWithUndo, runScript, saveLinkStates } from './undo.ts';

const vfPort = z.strictObject({
  /** The PF: a host port by pod.yaml name, or its kernel interface. */
  pf: z.string().min(1),
  vf: z.number().int().min(0).max(4095),
  /** Default: the MAC pod.yaml gives the VNF port this VF backs. */
  mac: z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'expected a MAC like 02:00:00:00:00:01').optional(),
  vlan: z.number().int().min(0).max(4094).default(0),
  qos: z.number().int().min(0).max(7).default(0),
  spoofchk: z.boolean().default(false),
  trust: z.boolean().default(true),
});

/** Where the VNF's VFs come from on a real pod (run.args `sriov`, or the guest's extra.sriov). */
export const sriovHostShape = z.strictObject({
  host_node: z.string().min(1).optional(),
  /** create: VFs made and given to the guest by the harness; existing: the guest has them. */
  vfs: z.enum(['create', 'existing']).default('existing'),
  /** Libvirt domain of the guest, for `create`. */
  domain: z.string().min(1).optional(),
  /** VF count to create on a PF that has none; default the highest VF index used + 1. */
  num_vfs: z.number().int().min(1).optional(),
  /** The VFs behind the VNF's two ports, in the order of vnf_ports. */
  ports: z.array(vfPort).length(2),
});
export type SriovHostConfig = z.output<typeof sriovHostShape>;

/** The SR-IOV case's own keys in run.args, beside the shared forwarding ones. */
export const sriovArgsShape = {
  forward_mode: baremetalArgsShape.forward_mode,
  vnf_node: z.string().min(1).optional(),
  /** The VNF's two data ports (its VFs) by pod.yaml name; default the first two cabled to the generator. */
  vnf_ports: z.array(z.string().min(1)).length(2).optional(),
  port_kind: baremetalArgsShape.port_kind,
  testpmd: baremetalArgsShape.testpmd,
  sriov: sriovHostShape.optional(),
  /** User-space driver of the VNF's NICs in a launched guest; default uio_pci_generic for virtio-net, vfio-pci for a VF. */
  guest_driver: driverField.optional(),
};
const shapeSchema = z.strictObject(sriovArgsShape);
export type SriovArgs = z.output<typeof shapeSchema>;

// The VNF's node: named in the args, else the pod's default VNF node.
export function findVnfNode(ctx: Pick<CaseContext, 'pod' | 'nodes'>, args: Pick<SriovArgs, 'vnf_node'>): PodNode | undefined {
  return args.vnf_node ? ctx.pod.nodes.find((n) => n.name === args.vnf_node) : defaultVnfNode(ctx);
}

// The VF configuration: run.args win, else the guest's pod.yaml extra.sriov; none on the lab.
export function resolveSriovConfig(pod: Pod, vnf: PodNode, fromArgs: SriovHostConfig | undefined): SriovHostConfig | undefined {
  if (fromArgs) return fromArgs;
  const raw = vnf.extra.sriov;
  if (raw === undefined) return undefined;
  const parsed = sriovHostShape.safeParse(raw);
  if (!parsed.success) throw new ConfigError(pod.file, buildConfigIssues(parsed.error.issues, { input: raw, pathPrefix: ['nodes', vnf.name, 'extra', 'sriov'] }));
  return parsed.data;
}

/** The VNF of the SR-IOV path, whichever way it was started. */
interface SriovVnf {
  label: string;
  stop(ctx: CaseContext): Promise<VnfPortCounts | undefined>;
}

// One SR-IOV topology per case run; it keeps the VNF for evidence and the path check.
export function createSriovTopology(args: SriovArgs): CountingTopology {
  let vnfRun: SriovVnf | undefined;
  let devicePorts: [string, string] | undefined;
  let tgenPorts: { tx: string; rx: string } | undefined;
  let counts: ForwarderCounts | undefined;
  return {
    name: 'sriov',
    async setup(ctx: CaseContext): Promise<ForwardingPath> {
      const tgen = ctx.nodes('tgen')[0];
      const vnf = findVnfNode(ctx, args);
      if (!tgen || !vnf) throw new TopologyError(`SR-IOV forwarding needs a tgen and a guest (VNF) node; pod ${ctx.pod.name} lacks ${!tgen ? 'tgen' : args.vnf_node ? `a node named ${args.vnf_node}` : 'a guest'}`);
      const ports = resolveDevicePorts({ pod: ctx.pod, device: vnf, tgen, ...(args.vnf_ports ? { devicePorts: args.vnf_ports } : {}) });
      tgenPorts = ports.tgen;
      devicePorts = [ports.device[0].name, ports.device[1].name];
      const config = resolveSriovConfig(ctx.pod, vnf, args.sriov);
      const record = ctx.launch(vnf);
      let vfs = 'the guest namespace owns the data links (lab passthrough analogue)';
      if (record) {
        if (config) throw new TopologyError(`guest ${vnf.name} is launched by the harness: give its VFs in launch.nics ({port, vf: {pf, vf}}), not in sriov settings`);
        vfs = describeLaunchedLinks(ctx.pod.lab, record, devicePorts);
      } else if (config) {
        if (ctx.pod.lab) throw new TopologyError('the lab pod has no SR-IOV NIC: drop the sriov settings; the guest owning its links is the lab analogue');
        const hostNode = config.host_node ? ctx.pod.nodes.find((n) => n.name === config.host_node) : ctx.nodes('host')[0];
        if (!hostNode) throw new TopologyError(`the VFs need the host node that owns the PFs; pod ${ctx.pod.name} has ${config.host_node ? `no node ${config.host_node}` : 'no host'}`);
        const macs = ports.device.map((p) => p.mac);
        const guestPcis = ports.device.map((p) => p.pci);
        vfs = await provisionVfs(ctx, await ctx.session(hostNode), { config, macs, guestPcis });
      } else if (!ctx.pod.lab) {
        throw new TopologyError(`name the VFs behind ${vnf.name}'s ports in run.args sriov (or the node's extra.sriov): ports [{pf, vf}, {pf, vf}] and vfs: existing|create, or launch the guest with vf NICs`);
      }
      const session = await ctx.session(vnf);
      vnfRun = record ? await startLaunchedVnf(ctx, session, { args, vnf, record, ports: ports.device, tgen, tgenPorts: ports.tgen }) : await startVfVnf(ctx, session, args, ports.device);
      const [a, b] = ports.device;
      return {
        topology: 'sriov',
        tgen,
        ports: ports.tgen,
        description: `${tgen.name}:${ports.tgen.tx} → ${vnf.name}:${a.name} → ${vnfRun.label} → ${vnf.name}:${b.name} → ${tgen.name}:${ports.tgen.rx} (${vfs})`,
        nodes: [vnf],
      };
    },
    async collectEvidence(ctx: CaseContext): Promise<void> {
      if (!vnfRun || !tgenPorts || !devicePorts) return;
      const got = await vnfRun.stop(ctx);
      if (got) counts = buildSriovCounts(got, devicePorts, tgenPorts);
    },
    forwarderCounts: () => counts,
  };
}

// The VNF's port facing the generator's tx port sends toward its rx port, and the other way round.
export function buildSriovCounts(got: VnfPortCounts, [a, b]: [string, string], tgen: { tx: string; rx: string }): ForwarderCounts {
  const at = (port: string) => got.ports.find((p) => p.port === port);
  const stage = (port: string, dir: 'rx' | 'tx') => {
    const frames = dir === 'rx' ? at(port)?.rx : at(port)?.tx;
    return frames === null || frames === undefined ? [] : [{ point: `VNF ${port} ${dir}`, frames }];
  };
  return {
    txTowardTgenPort: { [tgen.rx]: at(b)?.tx ?? 0, [tgen.tx]: at(a)?.tx ?? 0 },
    source: `${got.source}`,
    stages: [
      { txPort: tgen.tx, rxPort: tgen.rx, stages: [...stage(a, 'rx'), ...stage(b, 'tx')] },
      { txPort: tgen.rx, rxPort: tgen.tx, stages: [...stage(b, 'rx'), ...stage(a, 'tx')] },
    ],
  };
}

// How a launched guest owns the ports: VFs passed through, or (the lab) macvtap in passthru mode.
function describeLaunchedLinks(lab: boolean, record: GuestLaunchRecord, ports: readonly string[]): string {
  const nics = ports.map((p) => record.nics?.find((n) => n.port === p));
  if (nics.every((n) => n?.kind === 'vf')) return `VFs ${nics.map((n) => n?.hostPci).join(', ')} passed through to the VM (vfio-pci)`;
  if (nics.every((n) => n?.kind === 'macvtap')) {
    const links = nics.map((n) => n?.hostInterface).join(', ');
    return `${lab ? 'lab analogue of a passed-through VF: ' : ''}the VM owns ${links} through macvtap in passthru mode, no vswitch or bridge`;
  }
  throw new TopologyError(`SR-IOV forwarding needs the VNF's ports ${ports.join(', ')} to be VFs or macvtap NICs of the launched guest (launch.nics), found ${nics.map((n, i) => `${ports[i]}: ${n?.kind ?? 'no NIC'}`).join(', ')}`);
}

// testpmd (or, where DPDK cannot run, the kernel) inside the launched guest, on its own NICs.
async function startLaunchedVnf(ctx: CaseContext, session: NodeSession, a: { args: SriovArgs; vnf: PodNode; record: GuestLaunchRecord; ports: [DataPort, DataPort]; tgen: PodNode; tgenPorts: { tx: string; rx: string } }): Promise<SriovVnf> {
  const t = a.args.testpmd;
  ctx.recordDetails('accelerator', a.record.accelerator);
  const nics = a.ports.map((p) => a.record.nics?.find((n) => n.port === p.name));
  ctx.recordDetails('vnf', { node: a.vnf.name, where: 'launched guest', nics, virtioOptions: Object.fromEntries(a.ports.map((p) => [p.name, a.record.nicOptions[p.name] ?? {}])) });
  const vnf = await startGuestVnf(ctx, session, {
    node: a.vnf,
    record: a.record,
    ports: a.ports,
    forwardMode: a.args.forward_mode,
    ...(t.main_cpu === undefined ? {} : { mainLcore: t.main_cpu }),
    ...(t.forwarding_cpus === undefined ? {} : { forwardingLcores: t.forwarding_cpus }),
    hugepages: t.hugepages,
    socketMemMb: t.socket_mem_mb[0] ?? 256,
    mbufs: t.mbufs,
    statsPeriodS: t.stats_period_s,
    ...(a.args.guest_driver === undefined ? {} : { driver: a.args.guest_driver }),
    role: 'sriov-vnf',
    tgen: a.tgen,
    tgenPorts: a.tgenPorts,
  });
  return { label: vnf.label, stop: (c) => vnf.stop(c) };
}

// testpmd on the VNF's two VF ports: af_packet over their interfaces (lab), or the PCI devices
// bound to vfio-pci with hugepages (a pod); link flags, bindings and pages are restored after.
async function startVfVnf(ctx: CaseContext, session: NodeSession, args: SriovArgs, ports: [DataPort, DataPort]): Promise<SriovVnf> {
  const node = session.node;
  const t = args.testpmd;
  const kind = args.port_kind !== 'auto' ? args.port_kind : ports.every((p) => p.pci) && !ctx.pod.lab ? 'pci' : 'af_packet';
  const mainLcore = t.main_cpu ?? node.housekeepingCpus[0];
  const forwardingLcores = t.forwarding_cpus ?? node.rtCpus.slice(0, 1);
  if (mainLcore === undefined || forwardingLcores.length === 0) throw new TopologyError(`the VNF on ${node.name} needs a main lcore (housekeeping_cpus or testpmd.main_cpu) and a forwarding lcore (rt_cpus or testpmd.forwarding_cpus)`);
  const binary = await ensureTool(session, TESTPMD_TOOL_SPEC);
  const ifaces = ports.flatMap((p) => (p.interface ? [p.interface] : []));
  let tpPorts: TestpmdPort[];
  let memory: TestpmdMemory;
  if (kind === 'af_packet') {
    if (ifaces.length !== 2) throw new TopologyError(`af_packet needs the kernel interfaces of ${ports.map((p) => p.name).join(' and ')} on ${node.name} (pod.yaml ports[].interface)`);
    // The af_packet driver turns PROMISC on and leaves it on.
    await saveLinkStates(ctx, session, ifaces);
    tpPorts = ifaces.map((iface) => ({ kind: 'af_packet', iface }));
    memory = { kind: 'no-huge', megabytes: t.memory_mb };
  } else {
    const missing = ports.filter((p) => !p.pci).map((p) => p.name);
    if (missing.length > 0) throw new TopologyError(`port_kind pci needs the PCI address (inside the guest) of ports ${missing.join(', ')} on ${node.name} (pod.yaml ports[].pci)`);
    const addresses = ports.map((p) => p.pci!.toLowerCase());
    await saveLinkStates(ctx, session, ifaces, { onlyExisting: true });
    await bindPciDevices(ctx, session, addresses, t.driver);
    await reserveHugepages(ctx, session, { sizeKb: t.hugepages.size_kb, pages: t.hugepages.pages, mountPoint: t.hugepages.mount });
    tpPorts = addresses.map((address) => ({ kind: 'pci', address }));
    memory = { kind: 'hugepages', socketMemMb: t.socket_mem_mb };
  }
  const command = buildTestpmdCommand({
    binary,
    forwardMode: args.forward_mode,
    ports: tpPorts,
    mainLcore,
    forwardingLcores,
    filePrefix: buildFilePrefix(ctx.runId, 'sriov-vnf'),
    memory,
    statsPeriodS: t.stats_period_s,
    totalNumMbufs: t.mbufs,
    ...(t.rxd === undefined ? {} : { rxDescriptors: t.rxd }),
    ...(t.txd === undefined ? {} : { txDescriptors: t.txd }),
    ...(t.burst === undefined ? {} : { burst: t.burst }),
  });
  const run = await startVnf(ctx, session, command);
  // testpmd's port 0 is the port facing the generator's tx port: ports are given in that order.
  const names = ports.map((p) => p.name);
  return {
    label: `testpmd (${args.forward_mode}, ${kind === 'pci' ? `PCI, ${t.driver}` : 'af_packet'})`,
    async stop(c) {
      const stats = await stopVnfWithStats(c, run);
      return stats ? countsFromStats(stats, names, 'VNF testpmd forward statistics') : undefined;
    },
  };
}

// Prepares both VFs on the host; returns a one-line description for the path.
async function provisionVfs(ctx: CaseContext, host: NodeSession, a: { config: SriovHostConfig; macs: Array<string | undefined>; guestPcis: Array<string | undefined> }): Promise<string> {
  const { config } = a;
  if (config.vfs === 'create' && !config.domain) throw new TopologyError('sriov.vfs create needs sriov.domain, the libvirt domain of the guest the VFs are given to');
  const ifaceOf = (pf: string) => host.node.ports.find((p) => p.name === pf)?.interface ?? pf;
  const vfs = config.ports.map((port, i) => {
    const mac = port.mac ?? a.macs[i];
    if (!mac) throw new TopologyError(`give VF ${port.vf} of ${ifaceOf(port.pf)} a MAC: sriov.ports[${i}].mac, or the VNF port's mac in pod.yaml`);
    return { pf: ifaceOf(port.pf), vf: port.vf, mac, vlan: port.vlan, qos: port.qos, spoofchk: port.spoofchk, trust: port.trust };
  });
  const ready = await prepareVfs(ctx, host, { vfs, create: config.vfs === 'create', ...(config.num_vfs === undefined ? {} : { numVfs: config.num_vfs }) });
  if (config.vfs === 'create') {
    for (const [i, vf] of ready.entries()) if (vf.pci) await giveVfToGuest(ctx, host, { domain: config.domain!, hostPci: vf.pci, guestPci: a.guestPcis[i], name: `vf-${vf.pf}-${vf.vf}` });
  }
  return `VFs ${config.ports.map((p) => `${ifaceOf(p.pf)} vf ${p.vf}`).join(', ')} (${config.vfs})`;
}

// vfio-pci on the host (restored after), then a live hostdev attach, detached again on teardown.
async function giveVfToGuest(ctx: CaseContext, host: NodeSession, a: { domain: string; hostPci: string; guestPci: string | undefined; name: string }): Promise<void> {
  await bindPciDevices(ctx, host, [a.hostPci], 'vfio-pci');
  const xml = `${host.runDir}/${a.name}.xml`;
  await host.upload(buildHostdevXml(a.hostPci, a.guestPci), xml);
  // Detached only while the domain still holds it, so an attach that failed leaves nothing to undo.
  const [, bus, slot, fn] = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(a.hostPci.toLowerCase()) ?? [];
  const held = `virsh dumpxml ${quoteArg(a.domain)} | grep -q ${quoteArg(`bus='0x${bus}' slot='0x${slot}' function='0x${fn}'`)} || exit 0`;
  await applyWithUndo(ctx, {
    label: `VF ${a.hostPci} attached to ${a.domain}`,
    session: host,
    apply: async () => void (await runScript(host, shell(buildVirshDevice('attach-device', a.domain, xml)), `attach ${a.hostPci} to ${a.domain}`)),
    undoScript: `${held}\n${shell(buildVirshDevice('detach-device', a.domain, xml))}`,
  });
}
