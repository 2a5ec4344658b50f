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
import type { CountingTopology, ForwarderCounts } from '../cases/forwarding.ts';
import { resolveDevicePorts } from '../cases/forwarding-ports.ts';
import { buildShellCommand as shell, quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildHostdevXml, buildSetNumVfsScript, buildSriovProbeScript, buildVfRestore, buildVfSettings, buildVirshDevice, parseSriovProbe, type SriovProbe } from '../tools/sriov/command.ts';
import { parseIpLinkShow, type VfLinkInfo } from '../tools/sriov/ip-link.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import { buildFilePrefix, buildTestpmdCommand, TESTPMD_TOOL_SPEC, type TestpmdMemory, type TestpmdPort } from '../tools/testpmd/command.ts';
import { baremetalArgsShape } from './baremetal.ts';
import { bindPciDevices, reserveHugepages } from './hugepages.ts';
import { startVnf, stopVnfWithStats, type VnfRun } from './ovs-dpdk.ts';
import { defaultVnfNode, type ForwardingPath } from './types.ts';
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

// One SR-IOV topology per case run; it keeps the VNF for evidence and the path check.
export function createSriovTopology(args: SriovArgs): CountingTopology {
  let vnfRun: VnfRun | undefined;
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
      const config = resolveSriovConfig(ctx.pod, vnf, args.sriov);
      let vfs = 'the guest namespace owns the data links (lab passthrough analogue)';
      if (config) {
        if (ctx.pod.lab) throw new TopologyError('the lab pod has no SR-IOV NIC: drop the sriov settings; the guest namespace owning its links is the lab analogue');
        const hostNode = config.host_node ? ctx.pod.nodes.find((n) => n.name === config.host_node) : ctx.nodes('host')[0];
        if (!hostNode) throw new TopologyError(`the VFs need the host node that owns the PFs; pod ${ctx.pod.name} has ${config.host_node ? `no node ${config.host_node}` : 'no host'}`);
        const macs = ports.device.map((p) => p.mac);
        const guestPcis = ports.device.map((p) => p.pci);
        vfs = await provisionVfs(ctx, await ctx.session(hostNode), { config, macs, guestPcis });
      } else if (!ctx.pod.lab) {
        throw new TopologyError(`name the VFs behind ${vnf.name}'s ports in run.args sriov (or the node's extra.sriov): ports [{pf, vf}, {pf, vf}] and vfs: existing|create`);
      }
      const started = await startVfVnf(ctx, await ctx.session(vnf), args, ports.device);
      vnfRun = started.run;
      const [a, b] = ports.device;
      return {
        topology: 'sriov',
        tgen,
        ports: ports.tgen,
        description: `${tgen.name}:${ports.tgen.tx} → VF ${vnf.name}:${a.name} → testpmd (${args.forward_mode}, ${started.kind}) → VF ${vnf.name}:${b.name} → ${tgen.name}:${ports.tgen.rx} (${vfs})`,
        nodes: [vnf],
      };
    },
    async collectEvidence(ctx: CaseContext): Promise<void> {
      if (!vnfRun || !tgenPorts) return;
      const stats = await stopVnfWithStats(ctx, vnfRun);
      // testpmd port 0 is the VF facing the generator's tx port.
      if (stats) counts = { txTowardTgenPort: { [tgenPorts.tx]: stats.ports[0]!.txPackets, [tgenPorts.rx]: stats.ports[1]!.txPackets }, source: 'VNF testpmd forward statistics' };
    },
    forwarderCounts: () => counts,
  };
}

// testpmd on the VNF's two VF ports: af_packet over their interfaces (lab), or the PCI devices
// bound to vfio-pci with hugepages (a pod); link flags, bindings and pages are restored after.
async function startVfVnf(ctx: CaseContext, session: NodeSession, args: SriovArgs, ports: [DataPort, DataPort]): Promise<{ run: VnfRun; kind: string }> {
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
  return { run: await startVnf(ctx, session, command), kind: kind === 'pci' ? `PCI, ${t.driver}` : 'af_packet' };
}

interface PfUse {
  pf: string;
  probe: SriovProbe;
  links: VfLinkInfo[];
}

// Prepares both VFs on the host; returns a one-line description for the path.
async function provisionVfs(ctx: CaseContext, host: NodeSession, a: { config: SriovHostConfig; macs: Array<string | undefined>; guestPcis: Array<string | undefined> }): Promise<string> {
  const { config } = a;
  if (config.vfs === 'create' && !config.domain) throw new TopologyError('sriov.vfs create needs sriov.domain, the libvirt domain of the guest the VFs are given to');
  const pfs = new Map<string, PfUse>();
  const ifaceOf = (pf: string) => host.node.ports.find((p) => p.name === pf)?.interface ?? pf;
  for (const [i, port] of config.ports.entries()) {
    const pf = ifaceOf(port.pf);
    let use = pfs.get(pf);
    if (!use) {
      const wanted = config.num_vfs ?? Math.max(...config.ports.filter((p) => ifaceOf(p.pf) === pf).map((p) => p.vf)) + 1;
      use = await preparePf(ctx, host, { pf, create: config.vfs === 'create', wanted });
      pfs.set(pf, use);
    }
    const vf = use.probe.vfs.find((v) => v.vf === port.vf);
    if (!vf && !ctx.dryRun) throw new TopologyError(`${pf} on ${host.node.name} has no VF ${port.vf} (it has ${use.probe.numVfs})`);
    const mac = port.mac ?? a.macs[i];
    if (!mac) throw new TopologyError(`give VF ${port.vf} of ${pf} a MAC: sriov.ports[${i}].mac, or the VNF port's mac in pod.yaml`);
    const found = use.links.find((l) => l.vf === port.vf);
    const settings = { mac, vlan: port.vlan, qos: port.qos, spoofchk: port.spoofchk, trust: port.trust };
    const same = found && found.mac === mac.toLowerCase() && found.vlan === port.vlan && found.qos === port.qos && found.spoofchk === port.spoofchk && found.trust === port.trust;
    if (!same) {
      await applyWithUndo(ctx, {
        label: `VF ${port.vf} settings of ${pf} on ${host.node.name}`,
        session: host,
        apply: async () => void (await runScript(host, shell(buildVfSettings(pf, port.vf, settings)), `set VF ${port.vf} of ${pf}`)),
        // As read before the change; a VF the harness created goes away with its PF's VF count.
        undoScript: found ? shell(buildVfRestore(pf, found)) : 'true',
      });
    }
    if (config.vfs === 'create' && vf) await giveVfToGuest(ctx, host, { domain: config.domain!, hostPci: vf.pci, guestPci: a.guestPcis[i], name: `vf-${pf}-${port.vf}` });
  }
  return `VFs ${config.ports.map((p) => `${ifaceOf(p.pf)} vf ${p.vf}`).join(', ')} (${config.vfs})`;
}

// Reads the PF; creates VFs only on a PF that has none, so no VF someone else uses is destroyed.
async function preparePf(ctx: CaseContext, host: NodeSession, a: { pf: string; create: boolean; wanted: number }): Promise<PfUse> {
  const read = async (): Promise<PfUse> => {
    const probe = await runScript(host, buildSriovProbeScript(a.pf), `read SR-IOV state of ${a.pf}`);
    const links = await runScript(host, shell(['ip', '-d', 'link', 'show', 'dev', a.pf]), `read the VFs of ${a.pf}`);
    if (ctx.dryRun) return { pf: a.pf, probe: { pf: a.pf, pfPci: '0000:00:00.0', pfDriver: null, totalVfs: a.wanted, numVfs: a.wanted, vfs: [] }, links: [] };
    return { pf: a.pf, probe: parseSriovProbe(a.pf, probe), links: parseIpLinkShow(links).vfs };
  };
  const before = await read();
  await ctx.writeRaw(`sriov/${a.pf}-before.txt`, JSON.stringify(before, null, 1));
  if (!a.create || before.probe.numVfs >= a.wanted) return before;
  if (before.probe.numVfs > 0) {
    throw new TopologyError(`${a.pf} on ${host.node.name} has ${before.probe.numVfs} VFs and ${a.wanted} are needed; changing the count would destroy VFs the harness did not create, so it is left alone (raise sriov_numvfs yourself, or use vfs: existing)`);
  }
  if (a.wanted > before.probe.totalVfs) throw new TopologyError(`${a.pf} supports ${before.probe.totalVfs} VFs, ${a.wanted} needed`);
  await applyWithUndo(ctx, {
    label: `sriov_numvfs of ${a.pf} on ${host.node.name} (0 -> ${a.wanted})`,
    session: host,
    apply: async () => void (await runScript(host, buildSetNumVfsScript(a.pf, a.wanted), `create ${a.wanted} VFs on ${a.pf}`)),
    undoScript: buildSetNumVfsScript(a.pf, 0),
  });
  return read();
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
