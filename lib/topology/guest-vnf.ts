// The VNF inside a guest the harness launched: dpdk-testpmd (io or macswap) on the guest's
// NICs, found at the PCI addresses the launcher fixed, bound to a user-space driver in the guest
// (uio_pci_generic for virtio-net: the pc machine's virtio devices are transitional and need no
// IOMMU; vfio-pci for a passed-through VF), with hugepages reserved in the guest. Where DPDK
// cannot run on the guest's CPU (a CPU model without the flags it was built for), the guest
// kernel forwards instead, and the results name that forwarder: never one forwarder's figures
// under another's name. Every change in the guest is undone, though the VM itself is thrown away.
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord } from '../results/model.ts';
import { buildGuestNicScript } from '../tools/qemu/guest-nics.ts';
import { buildFilePrefix, buildTestpmdCommand, TESTPMD_TOOL_SPEC, type ForwardMode } from '../tools/testpmd/command.ts';
import { buildDpdkCpuProbeArgv, parseDpdkCpuProbe } from '../tools/testpmd/cpu-probe.ts';
import type { TrialPorts } from '../traffic/generator.ts';
import { setupKernelForwarding, type KernelForwarder } from './baremetal-kernel.ts';
import { bindPciDevices, reserveHugepages } from './hugepages.ts';
import { countsFromStats, startVnf, stopVnfWithStats, type VnfPortCounts, type VnfRun } from './vnf-testpmd.ts';
import { quoteArg } from '../remote/quote.ts';
import { registerUndo } from './undo.ts';

export interface GuestVnfOptions {
  node: PodNode;
  record: GuestLaunchRecord;
  /** The guest's two data ports, testpmd's port 0 then port 1 (the one facing the generator's tx port first). */
  ports: [DataPort, DataPort];
  forwardMode: ForwardMode;
  mainLcore?: number;
  forwardingLcores?: number[];
  hugepages: { size_kb: number; pages: number; mount: string };
  socketMemMb: number;
  mbufs: number;
  statsPeriodS: number;
  /** User-space driver in the guest; default uio_pci_generic for virtio-net, vfio-pci for a VF. */
  driver?: string;
  /** The role in DPDK's file prefix, e.g. `pvp-vnf`. */
  role: string;
  /** For the kernel fallback, which addresses frames to the generator's ports. */
  tgen: PodNode;
  tgenPorts: TrialPorts;
}

export interface GuestVnf {
  forwarder: 'testpmd' | 'kernel';
  /** For the path description, e.g. `testpmd (io) in the VM, virtio-net on uio_pci_generic`. */
  label: string;
  /** Why the kernel forwards instead of testpmd; undefined when testpmd does. */
  fallbackReason?: string;
  /** Stops the forwarder (testpmd prints its statistics) and returns what each port counted. */
  stop(ctx: CaseContext): Promise<VnfPortCounts | undefined>;
}

// The guest PCI address of each port, as the launcher placed its NIC.
export function findGuestPcis(record: GuestLaunchRecord, ports: readonly DataPort[]): string[] {
  return ports.map((p) => {
    const nic = record.nics?.find((n) => n.port === p.name);
    if (!nic) throw new TopologyError(`port ${p.name} is not a NIC of the launched guest (its NICs: ${(record.nics ?? []).map((n) => n.port).join(', ') || 'none'}): add it to launch.nics`);
    return nic.guestPci;
  });
}

// Starts the VNF; the CPU probe decides between testpmd and the kernel before anything is bound.
export async function startGuestVnf(ctx: CaseContext, session: NodeSession, o: GuestVnfOptions): Promise<GuestVnf> {
  const node = o.node;
  const mainLcore = o.mainLcore ?? node.housekeepingCpus[0];
  const forwardingLcores = o.forwardingLcores ?? node.rtCpus.slice(0, 1);
  if (mainLcore === undefined || forwardingLcores.length === 0) throw new TopologyError(`the VNF in ${node.name} needs a main lcore (housekeeping_cpus) and a forwarding lcore (rt_cpus)`);
  const binary = await ensureTool(session, TESTPMD_TOOL_SPEC);
  const probePrefix = buildFilePrefix(ctx.runId, `${o.role}-probe`);
  await registerUndo(ctx, { label: `remove /var/run/dpdk/${probePrefix} on ${node.name}`, session, script: `rm -rf ${quoteArg(`/var/run/dpdk/${probePrefix}`)}` });
  const probe = await session.exec(buildDpdkCpuProbeArgv({ binary, lcores: [mainLcore, ...forwardingLcores], filePrefix: probePrefix }), { reject: false, timeoutMs: 120_000, label: 'can DPDK run on the guest CPU?' });
  await ctx.writeRaw(`${node.name}/dpdk-cpu-probe.stderr`, probe.stderr);
  const verdict = ctx.dryRun ? { supported: true as const } : parseDpdkCpuProbe(probe);
  if (!verdict.supported) return startKernelVnf(ctx, session, o, verdict.reason);
  const pcis = findGuestPcis(o.record, o.ports);
  const kinds = o.ports.map((p) => o.record.nics?.find((n) => n.port === p.name)?.kind);
  const driver = o.driver ?? (kinds.every((k) => k === 'vf') ? 'vfio-pci' : 'uio_pci_generic');
  // Registered before the binding, so it runs after the binding is restored: the NICs get their names back.
  await registerUndo(ctx, { label: `name the NICs of ${node.name} again`, session, script: buildGuestNicScript(nicSetups(o.ports)) });
  await bindPciDevices(ctx, session, pcis, driver);
  await reserveHugepages(ctx, session, { sizeKb: o.hugepages.size_kb, pages: o.hugepages.pages, mountPoint: o.hugepages.mount });
  const command = buildTestpmdCommand({
    binary,
    forwardMode: o.forwardMode,
    // testpmd numbers its PCI ports in bus order, so port 0 is the lower address.
    ports: [...pcis].sort().map((address) => ({ kind: 'pci' as const, address })),
    mainLcore,
    forwardingLcores,
    filePrefix: buildFilePrefix(ctx.runId, o.role),
    memory: { kind: 'hugepages', socketMemMb: [o.socketMemMb] },
    statsPeriodS: o.statsPeriodS,
    totalNumMbufs: o.mbufs,
  });
  const order = [...pcis].sort();
  const byTestpmdPort = order.map((pci) => o.ports[pcis.indexOf(pci)] as DataPort);
  const run: VnfRun = await startVnf(ctx, session, command);
  return {
    forwarder: 'testpmd',
    label: `testpmd (${o.forwardMode}) in the VM, ${kinds.includes('vf') ? 'VF' : 'virtio-net'} on ${driver}`,
    async stop(c) {
      const stats = await stopVnfWithStats(c, run);
      if (!stats) return undefined;
      return countsFromStats(stats, byTestpmdPort.map((p) => p.name), `testpmd in ${node.name}, read over its SSH session`);
    },
  };
}

function nicSetups(ports: readonly DataPort[]): Array<{ mac: string; ifname: string }> {
  return ports.map((p) => ({ mac: p.mac as string, ifname: p.interface ?? p.name }));
}

// The guest kernel forwards between the two NICs (IPv4, as bare metal's kernel forwarder does).
async function startKernelVnf(ctx: CaseContext, session: NodeSession, o: GuestVnfOptions, reason: string): Promise<GuestVnf> {
  ctx.log(`${o.node.name}: DPDK cannot run here (${reason}); the guest kernel forwards instead, and the results say so`);
  ctx.progress.note(`${ctx.caseName}: the VNF in ${o.node.name} is the guest kernel, not testpmd: ${reason}`);
  const kernel: KernelForwarder = await setupKernelForwarding(ctx, session, { ports: o.ports, tgen: o.tgen, tgenPorts: o.tgenPorts });
  return {
    forwarder: 'kernel',
    label: 'kernel IPv4 forwarding in the VM (DPDK cannot run on its CPU)',
    fallbackReason: reason,
    async stop(c) {
      const sent = await kernel.readCounters();
      c.recordDetails('forwarder', { kind: 'kernel', role: 'VNF', node: o.node.name, fallbackFrom: 'testpmd', reason, counters: sent });
      return {
        source: `kernel tx counters in ${o.node.name}`,
        ports: [
          { port: o.ports[0].name, rx: null, tx: sent.towardA, rxDropped: null, txDropped: null },
          { port: o.ports[1].name, rx: null, tx: sent.towardB, rxDropped: null, txDropped: null },
        ],
      };
    },
  };
}
