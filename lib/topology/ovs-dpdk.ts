// OVS-DPDK PVP: generator → host port → OVS-DPDK → vhost-user → VNF (dpdk-testpmd) →
// vhost-user → OVS-DPDK → host port → generator. The harness uses the pod's OVS or starts its
// own in a private rundir; either way it only adds a bridge of its own (kfn-br-<tag>) with
// explicit flows, and every change (hugepages, bindings, link flags, other_config, daemons,
// bridge, VNF) has its undo registered on ctx.cleanup before it is made.
import { z } from 'zod';
import { tryParseCpuList } from '../config/cpu-list.ts';
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { MeasurementError, TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { defaultVnfNode, type CountingTopology, type ForwarderCounts, type ForwardingPath } from './types.ts';
import { resolveDevicePorts } from '../cases/forwarding-ports.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import type { NodeSession } from '../remote/types.ts';
import * as ovs from '../tools/ovs/command.ts';
import { findFlowByInPort, parseDumpFlows, type FlowStat } from '../tools/ovs/flows.ts';
import { parsePmdRxqShow, parsePmdStatsShow } from '../tools/ovs/pmd.ts';
import { describePvpPath, findPortProblem, planPvp, summarizePortCounts, summarizePortDrops, type PvpPlan } from '../tools/ovs/pvp-plan.ts';
import { parseOvsdbAtom, parseOvsdbMap, parseOvsdbSet, parseVsctlGet, parseVsctlRecords } from '../tools/ovs/value.ts';
import { parseOvsVersion } from '../tools/ovs/version.ts';
import { buildStatsIntervalQuery, MIN_STATS_INTERVAL_MS, parseStatsInterval } from '../tools/ovs/stats-interval.ts';
import { bindPciDevices, driverField, reserveHugepages } from './hugepages.ts';
import { applyWithUndo, saveLinkStates } from './undo.ts';
import { buildShellCommand } from '../remote/quote.ts';
import { buildPvpStages, placePvpVnf, startPvpVnf, type OvsPortCounts, type PvpVnf } from './ovs-dpdk-vnf.ts';

const cpu = z.number().int().min(0).max(1023);
const pci = z.string().regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/, 'expected a PCI address like 0000:00:05.0');
const hugepages = z
  .strictObject({ size_kb: z.number().int().positive().default(2048), pages: z.number().int().positive().default(1024), mount: z.string().startsWith('/').default('/dev/hugepages') })
  .default({ size_kb: 2048, pages: 1024, mount: '/dev/hugepages' });

/** The OVS-DPDK case's own keys in run.args, beside the shared forwarding ones. */
export const ovsDpdkArgsShape = {
  forward_mode: z.enum(['io', 'macswap']).default('io'),
  /** own: a private ovsdb-server and ovs-vswitchd in the run's folder; existing: the pod's OVS. */
  ovs: z.enum(['own', 'existing']).default('own'),
  host_node: z.string().min(1).optional(),
  /** The host's two physical ports by pod.yaml name; default the first two cabled to the generator. */
  host_ports: z.array(z.string().min(1)).length(2).optional(),
  ovs_options: z
    .strictObject({
      vswitchd: z.string().startsWith('/').default(ovs.DEFAULT_VSWITCHD_DPDK),
      socket_mem_mb: z.number().int().min(64).default(512),
      /** PMD CPUs; default the host's rt_cpus. */
      pmd_cpus: z.array(cpu).min(1).optional(),
      /** DPDK lcore CPUs; default the host's housekeeping_cpus. */
      lcore_cpus: z.array(cpu).min(1).optional(),
      /** On an existing OVS, also set pmd-cpu-mask (saved and restored); never otherwise. */
      set_pmd_cpu_mask: z.boolean().default(false),
      hugepages,
      /** Driver for PCI host ports. */
      driver: driverField.default('vfio-pci'),
    })
    .default({ vswitchd: ovs.DEFAULT_VSWITCHD_DPDK, socket_mem_mb: 512, set_pmd_cpu_mask: false, hugepages: { size_kb: 2048, pages: 1024, mount: '/dev/hugepages' }, driver: 'vfio-pci' }),
  vnf: z
    .strictObject({
      /** The VNF's node; default the pod's first guest. */
      node: z.string().min(1).optional(),
      /** A launched guest: its two vhost-user NICs by port name; default the first two of its launch.nics. */
      ports: z.array(z.string().min(1)).length(2).optional(),
      /** Real pod: the guest's two virtio-net devices (PCI addresses inside the guest). */
      pci: z.array(pci).length(2).optional(),
      /** Real pod: the vhost-user sockets the guest's QEMU serves, in the same order. */
      vhost_sockets: z.array(z.string().startsWith('/')).length(2).optional(),
      main_cpu: cpu.optional(),
      forwarding_cpus: z.array(cpu).min(1).optional(),
      socket_mem_mb: z.number().int().min(64).default(256),
      mbufs: z.number().int().min(1025).default(8192),
      stats_period_s: z.number().int().min(1).max(3600).default(5),
      hugepages,
      /** User-space driver of the guest's devices; default uio_pci_generic in a launched guest (no vIOMMU), else vfio-pci. */
      driver: driverField.optional(),
    })
    .default({ socket_mem_mb: 256, mbufs: 8192, stats_period_s: 5, hugepages: { size_kb: 2048, pages: 1024, mount: '/dev/hugepages' } }),
};

const shapeSchema = z.strictObject(ovsDpdkArgsShape);
export type OvsDpdkArgs = z.output<typeof shapeSchema>;

const OVS_TOOL = { binary: 'ovs-vsctl', packages: { apt: 'openvswitch-switch-dpdk', dnf: 'openvswitch', yum: 'openvswitch' } } as const;

// The OVS node: named in the args, else the pod's first host.
export function findOvsHost(ctx: Pick<CaseContext, 'pod' | 'nodes'>, args: Pick<OvsDpdkArgs, 'host_node'>): PodNode | undefined {
  return args.host_node ? ctx.pod.nodes.find((n) => n.name === args.host_node) : ctx.nodes('host')[0];
}

// One PVP topology per case run; it keeps what teardown and the path check need.
export function createOvsDpdkTopology(args: OvsDpdkArgs): CountingTopology {
  let plan: PvpPlan | undefined;
  let host: NodeSession | undefined;
  let vnf: PvpVnf | undefined;
  let tgenPorts: { tx: string; rx: string } | undefined;
  let counts: ForwarderCounts | undefined;

  return {
    name: 'ovs-dpdk',
    async setup(ctx: CaseContext): Promise<ForwardingPath> {
      const tgen = ctx.nodes('tgen')[0];
      const hostNode = findOvsHost(ctx, args);
      const vnfNode = args.vnf.node ? ctx.pod.nodes.find((n) => n.name === args.vnf.node) : defaultVnfNode(ctx);
      if (!tgen || !hostNode || !vnfNode) throw new TopologyError(`OVS-DPDK PVP needs a tgen, a host and a guest (VNF) node; pod ${ctx.pod.name} lacks ${[!tgen && 'tgen', !hostNode && 'host', !vnfNode && 'guest'].filter(Boolean).join(', ')}`);
      const place = placePvpVnf(ctx, vnfNode, args.vnf);
      const ports = resolveDevicePorts({ pod: ctx.pod, device: hostNode, tgen, ...(args.host_ports ? { devicePorts: args.host_ports } : {}) });
      tgenPorts = ports.tgen;
      host = await ctx.session(hostNode);
      const o = args.ovs_options;
      plan = planPvp({
        runId: ctx.runId,
        ovs: args.ovs,
        rundir: `${host.runDir}/ovs`,
        physical: ports.device.map((p) => physicalInput(p, ctx.pod.lab)) as [ReturnType<typeof physicalInput>, ReturnType<typeof physicalInput>],
        ...(place.kind === 'namespace' ? {} : { vhostSockets: place.vhostSockets }),
        pmdCpus: o.pmd_cpus ?? readCpusOf(hostNode, 'ovs_pmd_cpus') ?? hostNode.rtCpus,
        lcoreCpus: o.lcore_cpus ?? readCpusOf(hostNode, 'ovs_lcore_cpus') ?? hostNode.housekeepingCpus,
        socketMemMb: o.socket_mem_mb,
        setPmdMaskOnExisting: o.set_pmd_cpu_mask,
        noPci: ctx.pod.lab,
      });
      await ensureTool(host, OVS_TOOL);
      if (plan.pciToBind.length > 0) {
        await saveLinkStates(ctx, host, ports.device.flatMap((p) => (p.interface ? [p.interface] : [])), { onlyExisting: true });
        await bindPciDevices(ctx, host, plan.pciToBind, o.driver);
      } else {
        // DPDK's af_packet driver turns PROMISC on and leaves it on.
        await saveLinkStates(ctx, host, ports.device.map((p) => p.interface!));
      }
      if (plan.layout) {
        await reserveHugepages(ctx, host, { sizeKb: o.hugepages.size_kb, pages: o.hugepages.pages, mountPoint: o.hugepages.mount });
        await startPrivateOvs(ctx, host, plan, o.vswitchd);
      } else await prepareExistingOvs(ctx, host, plan);
      const version = await run(host, ovs.buildAppctl(plan.instance, ['version']), 'read the OVS version');
      ctx.recordToolVersion(hostNode.name, 'ovs-vswitchd', ctx.dryRun ? 'dry-run' : parseOvsVersion(version).version);
      await addBridge(ctx, host, plan);
      vnf = await startPvpVnf(ctx, { place, vnfNode, plan, args, host, tgen, tgenPorts: ports.tgen });
      if (place.kind === 'launched') ctx.recordDetails('accelerator', place.record.accelerator);
      await waitForVhostPorts(ctx, host, plan);
      await run(host, ovs.buildAppctl(plan.instance, ['dpif-netdev/pmd-stats-clear']), 'clear PMD statistics');
      return {
        topology: 'ovs-dpdk',
        tgen,
        ports: ports.tgen,
        description: describePvpPath({ tgenPorts: [ports.tgen.tx, ports.tgen.rx], hostPorts: [ports.device[0].name, ports.device[1].name], vnf: vnfNode.name, forwarder: vnf.label }),
        nodes: hostNode === vnfNode ? [hostNode] : [hostNode, vnfNode],
      };
    },

    async collectEvidence(ctx: CaseContext): Promise<void> {
      if (!plan || !host || !tgenPorts) return;
      const { flows, ports } = await collectOvsEvidence(ctx, host, plan);
      const vnfCounts = vnf ? await vnf.stop(ctx) : undefined;
      const fromVnf = (ofport: number) => findFlowByInPort(flows, ofport, ovs.KFN_FLOW_COOKIE)?.packets;
      const towardTx = fromVnf(plan.ofports.vhost0);
      const towardRx = fromVnf(plan.ofports.vhost1);
      if (towardTx === undefined || towardRx === undefined) throw new MeasurementError(`the PVP flows from the vhost-user ports are missing from ${plan.names.bridge}; the path was changed during the case`);
      counts = {
        txTowardTgenPort: { [tgenPorts.tx]: towardTx, [tgenPorts.rx]: towardRx },
        source: 'OVS flow counters of the frames coming back from the VNF',
        stages: buildPvpStages({ plan, ovs: ports, vnf: vnfCounts, vnfPorts: vnf?.ports ?? ['vnf port 0', 'vnf port 1'], tgenPorts }),
      };
    },

    forwarderCounts: () => counts,
  };
}

// CPUs a node's pod.yaml gives in `extra` (e.g. ovs_pmd_cpus: "0"): the pod's own placement.
function readCpusOf(node: PodNode, key: string): number[] | undefined {
  const raw = node.extra[key];
  if (raw === undefined) return undefined;
  const parsed = tryParseCpuList(raw);
  if (!parsed.ok) throw new TopologyError(`node ${node.name}: extra.${key}: ${parsed.message}`);
  return parsed.cpus;
}

function physicalInput(port: DataPort, lab: boolean): { name: string; pci?: string; iface?: string } {
  // On the lab the ports are veths: af_packet over their interfaces, whatever pod.yaml says.
  return { name: port.name, ...(port.pci && !lab ? { pci: port.pci } : {}), ...(port.interface ? { iface: port.interface } : {}) };
}

async function run(session: NodeSession, command: string[] | { script: string }, label: string, timeoutMs = 60_000): Promise<string> {
  const r = await session.exec(command, { reject: false, label, timeoutMs });
  const shown = Array.isArray(command) ? command.join(' ') : command.script;
  if (r.failed) throw new TopologyError(`${label} on ${session.node.name} failed (${shown}): ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ') || `exit code ${r.exitCode}`}`);
  return r.stdout;
}

// ovsdb-server and ovs-vswitchd in the run's folder; their stop is registered before either starts.
async function startPrivateOvs(ctx: CaseContext, host: NodeSession, plan: PvpPlan, vswitchd: string): Promise<void> {
  const layout = plan.layout!;
  const check = await host.exec(['test', '-x', vswitchd], { reject: false, label: 'check ovs-vswitchd' });
  if (check.failed && !ctx.dryRun) throw new TopologyError(`${vswitchd} is not an executable on ${host.node.name}: install openvswitch-switch-dpdk or set ovs_options.vswitchd`);
  await applyWithUndo(ctx, {
    label: `private OVS in ${layout.rundir} on ${host.node.name}`,
    session: host,
    apply: async () => {
      await run(host, ['mkdir', '-p', layout.rundir], 'create the OVS rundir');
      await run(host, ovs.buildOvsdbCreate(layout), 'create the OVS database');
      await run(host, ovs.buildOvsdbServerStart(layout), 'start ovsdb-server');
      await run(host, ovs.buildVsctl(plan.instance, ['init'], { noWait: true }), 'initialise the OVS database');
      await run(host, ovs.buildSetOtherConfig(plan.instance, plan.otherConfig, { noWait: true }), 'set the DPDK options');
      await run(host, ovs.buildVswitchdStart(layout, vswitchd), 'start ovs-vswitchd', 180_000);
      const init = await run(host, ovs.buildVsctl(plan.instance, ['get', 'Open_vSwitch', '.', 'dpdk_initialized']), 'check DPDK in OVS');
      if (!ctx.dryRun && parseOvsdbAtom(init) !== 'true') throw new TopologyError(`ovs-vswitchd on ${host.node.name} did not initialise DPDK (see ${layout.vswitchdLog})`);
    },
    undoScript: ovs.buildPrivateOvsStopScript(layout, plan.dpdkFilePrefix),
  });
}

// The pod's OVS must speak DPDK; only the keys the harness sets are saved and restored.
async function prepareExistingOvs(ctx: CaseContext, host: NodeSession, plan: PvpPlan): Promise<void> {
  const got = await run(host, ovs.buildVsctl(plan.instance, ['get', 'Open_vSwitch', '.', 'dpdk_initialized', 'iface_types']), 'read the pod OVS');
  if (ctx.dryRun) return;
  const cols = parseVsctlGet(got, ['dpdk_initialized', 'iface_types']);
  if (parseOvsdbAtom(cols.dpdk_initialized!) !== 'true' || !parseOvsdbSet(cols.iface_types!).includes('dpdkvhostuserclient')) {
    throw new TopologyError(`the OVS on ${host.node.name} has no DPDK datapath (dpdk_initialized ${cols.dpdk_initialized}); use ovs: own or enable dpdk-init`);
  }
  const keys = Object.keys(plan.otherConfig);
  if (keys.length === 0) return;
  const found = parseOvsdbMap(await run(host, ovs.buildGetOtherConfig(plan.instance), 'read other_config'));
  const restore = ovs.planOtherConfigRestore(found, keys);
  await applyWithUndo(ctx, {
    label: `other_config ${keys.join(', ')} of the OVS on ${host.node.name}`,
    session: host,
    apply: async () => void (await run(host, ovs.buildSetOtherConfig(plan.instance, plan.otherConfig), 'set other_config')),
    undoScript: [
      ...(Object.keys(restore.set).length > 0 ? [buildShellCommand(ovs.buildSetOtherConfig(plan.instance, restore.set))] : []),
      ...(restore.remove.length > 0 ? [buildShellCommand(ovs.buildRemoveOtherConfig(plan.instance, restore.remove))] : []),
    ].join(' && ') || 'true',
  });
}

// Our own bridge only: a bridge of that name already there is someone else's and stops the case.
async function addBridge(ctx: CaseContext, host: NodeSession, plan: PvpPlan): Promise<void> {
  const { bridge } = plan.names;
  const exists = await host.exec(ovs.buildVsctl(plan.instance, ['br-exists', bridge]), { reject: false, label: 'check the bridge name' });
  if (exists.exitCode === 0 && !ctx.dryRun) throw new TopologyError(`a bridge ${bridge} already exists in the OVS on ${host.node.name}; it is not this run's, so it is left alone`);
  await applyWithUndo(ctx, {
    label: `bridge ${bridge} on ${host.node.name}`,
    session: host,
    apply: async () => {
      await run(host, ovs.buildAddBridge(plan.instance, { bridge, runId: ctx.runId }), `add bridge ${bridge}`);
      for (const port of plan.ports) await run(host, ovs.buildAddPort(plan.instance, bridge, port), `add port ${port.name}`);
      const listing = await run(host, ovs.buildVsctl(plan.instance, ['--columns=name,ofport,error', 'list', 'Interface', ...plan.ports.map((p) => p.name)]), 'read the ports');
      const problem = ctx.dryRun ? null : findPortProblem(plan, parseVsctlRecords(listing));
      if (problem) throw new TopologyError(problem);
      await run(host, ovs.buildOfctl(plan.instance, 'del-flows', bridge), 'clear the flows');
      for (const flow of plan.flows) await run(host, ovs.buildOfctl(plan.instance, 'add-flow', bridge, [flow]), 'add a flow');
      const dumped = await run(host, ovs.buildOfctl(plan.instance, 'dump-flows', bridge), 'read the flows');
      const ours = ctx.dryRun ? plan.flows.length : parseDumpFlows(dumped).filter((f) => f.cookie === ovs.KFN_FLOW_COOKIE).length;
      if (ours !== plan.flows.length) throw new TopologyError(`${bridge} holds ${ours} of the ${plan.flows.length} PVP flows after adding them`);
    },
    undoScript: buildShellCommand(ovs.buildDeleteBridge(plan.instance, bridge)),
  });
}

// The VNF is up only once OVS sees both vhost-user ports connected.
async function waitForVhostPorts(ctx: CaseContext, host: NodeSession, plan: PvpPlan): Promise<void> {
  const names = plan.ports.filter((p) => p.kind === 'vhostuserclient').map((p) => p.name);
  const deadline = Date.now() + 30_000;
  let states: string[] = [];
  for (;;) {
    const out = await run(host, ovs.buildVsctl(plan.instance, ['--columns=link_state', 'list', 'Interface', ...names]), 'read the vhost-user ports');
    if (ctx.dryRun) return;
    states = parseVsctlRecords(out).map((r) => r.link_state ?? '');
    if (states.length === names.length && states.every((s) => s === 'up')) return;
    if (Date.now() > deadline || ctx.signal.aborted) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new TopologyError(`the vhost-user ports ${names.join(', ')} did not come up within 30 s (link_state ${states.join(', ') || 'unknown'}): the VNF did not connect to OVS`);
}

// PMD statistics, flows and port counters after the measurement, as raw outputs and details.
async function collectOvsEvidence(ctx: CaseContext, host: NodeSession, plan: PvpPlan): Promise<{ flows: FlowStat[]; ports: OvsPortCounts }> {
  const read = async (command: string[] | { script: string }, file: string, label: string, timeoutMs?: number) => {
    const out = await run(host, command, label, timeoutMs);
    await ctx.writeRaw(`ovs/${file}`, out);
    return out;
  };
  const pmdStats = parsePmdStatsShow(await read(ovs.buildAppctl(plan.instance, ['dpif-netdev/pmd-stats-show']), 'pmd-stats-show.txt', 'read PMD statistics'));
  const pmdRxq = parsePmdRxqShow(await read(ovs.buildAppctl(plan.instance, ['dpif-netdev/pmd-rxq-show']), 'pmd-rxq-show.txt', 'read PMD rx queues'));
  const flows = parseDumpFlows(await read(ovs.buildOfctl(plan.instance, 'dump-flows', plan.names.bridge), 'dump-flows.txt', 'read the flows'));
  // OVSDB's port counters lag the datapath by up to one stats interval: read them once it has passed
  // since the traffic stopped, or the last frames are missing from them (lib/tools/ovs/stats-interval.ts).
  const interval = await host.exec(buildStatsIntervalQuery(plan.instance), { reject: false, label: 'read the stats update interval' });
  const settleMs = (interval.failed ? MIN_STATS_INTERVAL_MS : parseStatsInterval(interval.stdout)) + 1000;
  const listInterfaces = buildShellCommand(ovs.buildVsctl(plan.instance, ['--columns=name,ofport,statistics', 'list', 'Interface', ...plan.ports.map((p) => p.name)]));
  const ifaces = parseVsctlRecords(await read({ script: `sleep ${(settleMs / 1000).toFixed(1)}; exec ${listInterfaces}` }, 'interfaces.txt', 'read the port counters', settleMs + 60_000));
  ctx.recordDetails('ovs', {
    mode: plan.layout ? 'own' : 'existing',
    bridge: plan.names.bridge,
    otherConfig: plan.otherConfig,
    flows: flows.map((f) => ({ match: f.match, actions: f.actions, packets: f.packets, bytes: f.bytes })),
    pmd: pmdStats.map((t) => ({ thread: t.thread, coreId: t.coreId, packetsReceived: t.packetsReceived, processingPercent: t.processingPercent })),
    rxq: pmdRxq,
    portDrops: summarizePortDrops(ifaces),
    portCounts: summarizePortCounts(ifaces),
  });
  return { flows, ports: summarizePortCounts(ifaces) };
}
