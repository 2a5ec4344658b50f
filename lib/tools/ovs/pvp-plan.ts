// Everything the PVP topology will create in OVS, decided before a node is touched: names,
// the private instance's files and DPDK settings, the four ports with fixed OpenFlow numbers,
// and the flows. Pure, so the whole wiring is unit-tested; lib/topology/ovs-dpdk.ts runs it.
import { TopologyError } from '../../errors.ts';
import { buildFilePrefix } from '../testpmd/command.ts';
import { parseOvsdbAtom, parseOvsdbMap } from './value.ts';
import {
  SYSTEM_OVS,
  buildDpdkOtherConfig,
  buildPrivateOvsLayout,
  buildPvpFlows,
  deriveOvsNames,
  privateInstance,
  type OvsInstance,
  type OvsPortSpec,
  type OvsRunNames,
  type PrivateOvsLayout,
  type PvpOfports,
} from './command.ts';

/** A host data port as OVS takes it: a PCI address (real pod) or a kernel interface (lab). */
export interface PhysicalPortInput {
  name: string;
  pci?: string;
  iface?: string;
}

export interface PvpPlanInput {
  runId: string;
  ovs: 'own' | 'existing';
  /** Folder for the private instance (own) and the vhost sockets when none are given. */
  rundir: string;
  physical: [PhysicalPortInput, PhysicalPortInput];
  /** The VNF's vhost-user sockets; default `<rundir>/vhu0.sock` and `vhu1.sock`. */
  vhostSockets?: [string, string];
  /** PMD and lcore CPUs for an own instance, and pmd-cpu-mask for an existing one when asked. */
  pmdCpus: number[];
  lcoreCpus: number[];
  socketMemMb: number;
  /** On an existing OVS, set pmd-cpu-mask too (saved and restored); own instances always set it. */
  setPmdMaskOnExisting: boolean;
  /** No PCI probing in an own instance (the lab's ports are af_packet). */
  noPci: boolean;
}

export interface PvpPlan {
  names: OvsRunNames;
  instance: OvsInstance;
  /** Present for an own instance only. */
  layout: PrivateOvsLayout | null;
  /** DPDK's runtime folder of an own instance, removed on teardown. */
  dpdkFilePrefix: string | null;
  /** other_config keys the harness sets (and, on an existing OVS, restores). */
  otherConfig: Record<string, string>;
  ports: OvsPortSpec[];
  ofports: PvpOfports;
  flows: string[];
  vhostSockets: [string, string];
  /** The physical ports' PCI addresses, which must be bound to vfio-pci first. */
  pciToBind: string[];
}

const OFPORTS: PvpOfports = { physical0: 1, vhost0: 2, vhost1: 3, physical1: 4 };

// Decides every name, setting, port and flow of one PVP run.
export function planPvp(input: PvpPlanInput): PvpPlan {
  const names = deriveOvsNames(input.runId);
  const layout = input.ovs === 'own' ? buildPrivateOvsLayout(input.rundir) : null;
  const vhostSockets = input.vhostSockets ?? [`${input.rundir}/vhu0.sock`, `${input.rundir}/vhu1.sock`];
  // The run id in DPDK's runtime folder name ties a leftover folder to its run.
  const dpdkFilePrefix = layout ? buildFilePrefix(input.runId, 'ovs') : null;
  let otherConfig: Record<string, string> = {};
  if (layout) {
    otherConfig = buildDpdkOtherConfig({
      lcoreCpus: input.lcoreCpus,
      pmdCpus: input.pmdCpus,
      socketMemMb: input.socketMemMb,
      extra: [...(input.noPci ? ['--no-pci'] : []), `--file-prefix=${dpdkFilePrefix}`].join(' '),
    });
    // Without a limit, OVS grows its memory until the hugepages run out, starving the VNF.
    otherConfig['dpdk-socket-limit'] = String(input.socketMemMb);
  } else if (input.setPmdMaskOnExisting) {
    otherConfig = { 'pmd-cpu-mask': buildDpdkOtherConfig({ lcoreCpus: input.lcoreCpus, pmdCpus: input.pmdCpus, socketMemMb: input.socketMemMb })['pmd-cpu-mask'] as string };
  }
  const devargs = input.physical.map((p, i) => devargsOf(p, i));
  const ports: OvsPortSpec[] = [
    { kind: 'dpdk', name: names.physical[0], ofport: OFPORTS.physical0, devargs: devargs[0] as string },
    { kind: 'vhostuserclient', name: names.vhost[0], ofport: OFPORTS.vhost0, socketPath: vhostSockets[0] },
    { kind: 'vhostuserclient', name: names.vhost[1], ofport: OFPORTS.vhost1, socketPath: vhostSockets[1] },
    { kind: 'dpdk', name: names.physical[1], ofport: OFPORTS.physical1, devargs: devargs[1] as string },
  ];
  return {
    names,
    instance: layout ? privateInstance(layout) : SYSTEM_OVS,
    layout,
    dpdkFilePrefix,
    otherConfig,
    ports,
    ofports: OFPORTS,
    flows: buildPvpFlows(OFPORTS),
    vhostSockets,
    pciToBind: input.physical.flatMap((p) => (p.pci ? [p.pci.toLowerCase()] : [])),
  };
}

// A PCI port is handed to OVS by address; a kernel interface through DPDK's af_packet driver.
function devargsOf(port: PhysicalPortInput, index: number): string {
  if (port.pci) return port.pci.toLowerCase();
  if (port.iface) return `net_af_packet${index},iface=${port.iface}`;
  throw new TopologyError(`host port ${port.name} has neither a pci address nor an interface in pod.yaml; OVS-DPDK needs one of them`);
}

/** What the case reports about the path, for the raw outputs and explanations. */
export function describePvpPath(a: { tgenPorts: [string, string]; hostPorts: [string, string]; vnf: string; forwarder: string }): string {
  return `tgen:${a.tgenPorts[0]} → host:${a.hostPorts[0]} → OVS-DPDK → vhost-user → ${a.vnf} ${a.forwarder} → vhost-user → OVS-DPDK → host:${a.hostPorts[1]} → tgen:${a.tgenPorts[1]}`;
}

// Why OVS could not open one of the planned ports (from `--columns=name,ofport,error list Interface`), or null.
export function findPortProblem(plan: PvpPlan, records: ReadonlyArray<Record<string, string>>): string | null {
  for (const port of plan.ports) {
    const r = records.find((x) => x.name !== undefined && parseOvsdbAtom(x.name) === port.name);
    const error = r?.error && r.error !== '[]' ? parseOvsdbAtom(r.error) : null;
    if (!r || error || r.ofport !== String(port.ofport)) {
      return `OVS could not open port ${port.name} (${port.kind === 'dpdk' ? port.devargs : port.socketPath}): ${error ?? `ofport ${r?.ofport ?? 'missing'} instead of ${port.ofport}`}`;
    }
  }
  return null;
}

// Each port's drop and error counters (totals, not per queue) from `--columns=name,statistics list Interface`.
export function summarizePortDrops(records: ReadonlyArray<Record<string, string>>): Record<string, Record<string, number>> {
  return Object.fromEntries(
    records.map((r) => {
      const stats = parseOvsdbMap(r.statistics ?? '{}');
      const picked = Object.entries(stats).filter(([k]) => /dropped|drops|errors/.test(k) && !/_q\d+_/.test(k));
      return [parseOvsdbAtom(r.name ?? '""'), Object.fromEntries(picked.map(([k, v]) => [k, Number(v)]))];
    }),
  );
}

// Each port's frame counters (totals) from `--columns=name,statistics list Interface`; a port
// whose statistics lack rx_packets or tx_packets is left out rather than counted as zero.
export function summarizePortCounts(records: ReadonlyArray<Record<string, string>>): Record<string, { rxPackets: number; txPackets: number; rxDropped: number; txDropped: number }> {
  const out: Record<string, { rxPackets: number; txPackets: number; rxDropped: number; txDropped: number }> = {};
  for (const r of records) {
    const stats = parseOvsdbMap(r.statistics ?? '{}');
    if (stats.rx_packets === undefined || stats.tx_packets === undefined) continue;
    out[parseOvsdbAtom(r.name ?? '""')] = { rxPackets: Number(stats.rx_packets), txPackets: Number(stats.tx_packets), rxDropped: Number(stats.rx_dropped ?? 0), txDropped: Number(stats.tx_dropped ?? 0) };
  }
  return out;
}
