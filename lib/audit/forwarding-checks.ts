// Data-plane NICs of forwarding nodes: bound to the right driver, VFs created, and on
// the same NUMA node as the CPUs that poll them.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { defineCheck, failResult, passResult, unknownResult, type CheckDefinition, type CheckResult, type PortContext } from './types.ts';
import { formatCpus } from './kernel-cpu-list.ts';
import { describeAbsence, difference, giveUp, readInteger, readNumaNodes, requireRtCpus } from './read.ts';

const FORWARDING_ROLES = ['host', 'guest', 'tgen'] as const;
const USERSPACE_DRIVERS = new Set(['vfio-pci', 'uio_pci_generic', 'igb_uio']);

function deviceDir(port: { pci?: string; interface?: string }): string | undefined {
  if (port.pci) return `/sys/bus/pci/devices/${port.pci}`;
  if (port.interface) return `/sys/class/net/${port.interface}/device`;
  return undefined;
}

function portLabel(port: { name?: string; port?: string; pci?: string; interface?: string }): string {
  return `${port.name ?? port.port} (${port.pci ?? port.interface ?? 'no address'})`;
}

type PortVerdict = { ok: true; found: string } | { ok: false; found: string; fix: string } | { unknown: string; found: string };

function fold(expected: string, verdicts: PortVerdict[]): CheckResult {
  const found = verdicts.map((v) => v.found).join('; ');
  const failed = verdicts.filter((v): v is { ok: false; found: string; fix: string } => 'ok' in v && !v.ok);
  if (failed.length > 0) return failResult(expected, found, failed.map((v) => v.fix).join('; '));
  const unknown = verdicts.filter((v): v is { unknown: string; found: string } => 'unknown' in v);
  if (unknown.length > 0) return unknownResult(expected, found, unknown.map((v) => v.unknown).join('; '));
  return passResult(expected, found);
}

/** The driver bound to a port: its name, `none` when the node showed no driver link, or why unknown. */
function readDriver(snapshot: NodeSnapshot, port: PortContext): { driver: string } | { none: true } | { unknown: string } {
  const dir = deviceDir(port);
  if (!dir) return { unknown: `${portLabel(port)} has neither a PCI address nor an interface in pod.yaml` };
  const link = snapshot.links.get(`${dir}/driver`);
  if (link !== undefined) return { driver: link.split('/').pop() as string };
  if (port.interface && !port.pci && !snapshot.links.has(dir)) {
    return { unknown: `${portLabel(port)}: ${describeAbsence(snapshot, dir)} (a virtual interface has no device)` };
  }
  if (snapshot.missing.has(`${dir}/driver`)) return { none: true };
  return { unknown: describeAbsence(snapshot, `${dir}/driver`) };
}

function requirePorts(ports: readonly PortContext[], what: string): readonly PortContext[] {
  if (ports.length === 0) giveUp(`pod.yaml lists no ${what} for this node`, `no ${what}`);
  return ports;
}

const nicDriver = defineCheck({
  id: 'forwarding.nic-driver',
  title: 'Data-port NICs bound to a driver',
  category: 'forwarding',
  appliesTo: FORWARDING_ROLES,
  condition: { text: 'the node has data ports', holds: (c) => c.dataPorts.length > 0 },
  why: 'A data port with no driver cannot forward, and a kernel-owned port (an SR-IOV PF) taken by a user-space driver loses its VFs; the driver is also the first thing to compare between two pods.',
  expected: 'every data port bound: DPDK ports to any driver (vfio-pci is checked separately), kernel ports to a kernel driver',
  howToFix: 'Bind the port: `dpdk-devbind.py --bind=<driver> <pci>`; kernel ports to their kernel driver (e.g. i40e, ice, mlx5_core).',
  reads: ['/sys/bus/pci/devices/<pci>/driver', '/sys/class/net/<if>/device/driver', 'ethtool -i <if>'],
  evaluate(snapshot, context) {
    const ports = requirePorts(context.dataPorts, 'data ports');
    return fold(
      'every data port bound to a driver of the right kind',
      ports.map((port): PortVerdict => {
        const d = readDriver(snapshot, port);
        const label = portLabel(port);
        if ('unknown' in d) return { unknown: d.unknown, found: `${label}: unknown` };
        if ('none' in d) return { ok: false, found: `${label}: no driver`, fix: `bind ${port.pci ?? port.interface}: dpdk-devbind.py --bind=${port.binding === 'vfio-pci' ? 'vfio-pci' : '<kernel driver>'} ${port.pci ?? port.interface}` };
        if (port.binding === 'kernel' && USERSPACE_DRIVERS.has(d.driver)) {
          return { ok: false, found: `${label}: ${d.driver}`, fix: `give ${port.pci ?? port.interface} back to its kernel driver: dpdk-devbind.py --bind=<kernel driver> ${port.pci ?? port.interface}` };
        }
        return { ok: true, found: `${label}: ${d.driver}` };
      }),
    );
  },
});

const vfioBinding = defineCheck({
  id: 'forwarding.vfio-binding',
  title: 'DPDK ports bound to vfio-pci',
  category: 'forwarding',
  appliesTo: FORWARDING_ROLES,
  condition: { text: 'the node has DPDK (PCI) ports', holds: (c) => c.dataPorts.some((p) => p.binding === 'vfio-pci') },
  why: 'DPDK polls the NIC from user space through vfio-pci, with the IOMMU protecting the host; a kernel driver would still own the queues and its interrupts.',
  expected: 'every DPDK port (a data port with a PCI address) bound to vfio-pci',
  howToFix: '`dpdk-devbind.py --bind=vfio-pci <pci>`, with the vfio-pci module loaded at boot (/etc/modules-load.d/vfio-pci.conf).',
  reads: ['/sys/bus/pci/devices/<pci>/driver'],
  evaluate(snapshot, context) {
    const ports = requirePorts(context.dataPorts.filter((p) => p.binding === 'vfio-pci'), 'DPDK ports');
    return fold(
      'every DPDK port bound to vfio-pci',
      ports.map((port): PortVerdict => {
        const label = portLabel(port);
        if (!port.pci) return { unknown: `${label} has no PCI address in pod.yaml`, found: `${label}: unknown` };
        const d = readDriver(snapshot, port);
        if ('unknown' in d) return { unknown: d.unknown, found: `${label}: unknown` };
        const driver = 'none' in d ? 'no driver' : d.driver;
        if (driver === 'vfio-pci') return { ok: true, found: `${label}: vfio-pci` };
        return { ok: false, found: `${label}: ${driver}`, fix: `dpdk-devbind.py --bind=vfio-pci ${port.pci}` };
      }),
    );
  },
});

const sriovVfs = defineCheck({
  id: 'forwarding.sriov-vfs',
  title: 'SR-IOV VFs created',
  category: 'forwarding',
  appliesTo: FORWARDING_ROLES,
  condition: { text: 'SR-IOV is configured', holds: (c) => c.usesSriov && c.sriovPfs.length > 0 },
  why: 'The SR-IOV case passes a VF to the guest; without enough VFs on the PF there is nothing to assign.',
  expected: 'sriov_numvfs on each PF is at least the number of VFs the case needs',
  howToFix: 'Write the VF count to /sys/bus/pci/devices/<pf pci>/sriov_numvfs (persist with a udev rule or the NIC’s driver options).',
  reads: ['/sys/bus/pci/devices/<pci>/sriov_numvfs', '/sys/class/net/<if>/device/sriov_numvfs'],
  evaluate(snapshot, context) {
    if (context.sriovPfs.length === 0) giveUp('pod.yaml names no SR-IOV physical function for this node', 'no PF');
    return fold(
      'each PF has the VFs the case needs',
      context.sriovPfs.map((pf): PortVerdict => {
        const label = portLabel(pf);
        const dir = deviceDir(pf);
        if (!dir) return { unknown: `${label} has neither a PCI address nor an interface`, found: `${label}: unknown` };
        const path = `${dir}/sriov_numvfs`;
        if (!snapshot.files.has(path)) return { unknown: `${describeAbsence(snapshot, path)} (not an SR-IOV capable device?)`, found: `${label}: unknown` };
        const vfs = readInteger(snapshot, path);
        const found = `${label}: ${vfs} VFs (need ${pf.minVfs})`;
        return vfs >= pf.minVfs ? { ok: true, found } : { ok: false, found, fix: `write ${pf.minVfs} to ${path}` };
      }),
    );
  },
});

const nicNuma = defineCheck({
  id: 'forwarding.nic-numa',
  title: 'NICs on the rt CPUs’ NUMA node',
  category: 'forwarding',
  appliesTo: FORWARDING_ROLES,
  condition: { text: 'the node has data ports', holds: (c) => c.dataPorts.length > 0 },
  why: 'A PMD or vCPU polling a NIC on another socket pays a cross-node hop on every descriptor and packet buffer, adding latency and variation.',
  expected: 'each data port’s numa_node holds all rt (PMD) CPUs',
  howToFix: 'Choose rt_cpus (PMD cores, vCPU pins) from the NIC’s NUMA node, or move the NIC to the socket of the rt CPUs.',
  reads: ['/sys/bus/pci/devices/<pci>/numa_node', '/sys/class/net/<if>/device/numa_node', '/sys/devices/system/node/nodeN/cpulist'],
  evaluate(snapshot, context) {
    const ports = requirePorts(context.dataPorts, 'data ports');
    const rt = requireRtCpus(context);
    const nodes = readNumaNodes(snapshot);
    return fold(
      `each data port on the NUMA node of CPUs ${formatCpus(rt)}`,
      ports.map((port): PortVerdict => {
        const label = portLabel(port);
        const dir = deviceDir(port);
        const path = dir && `${dir}/numa_node`;
        if (!path || !snapshot.files.has(path)) return { unknown: path ? describeAbsence(snapshot, path) : `${label} has no address`, found: `${label}: unknown` };
        const node = readInteger(snapshot, path);
        if (node < 0 && nodes.size === 1) return { ok: true, found: `${label}: no NUMA node (single-node system)` };
        if (node < 0) return { unknown: `${label}: firmware reports no NUMA node on a ${nodes.size}-node system`, found: `${label}: numa_node -1` };
        const local = nodes.get(node);
        if (!local) return { unknown: `${label}: NUMA node ${node} is not listed under /sys/devices/system/node`, found: `${label}: node ${node}` };
        const remote = difference(rt, local);
        if (remote.length === 0) return { ok: true, found: `${label}: node ${node}` };
        return { ok: false, found: `${label}: node ${node}; rt CPUs ${formatCpus(remote)} are elsewhere`, fix: `choose rt_cpus from NUMA node ${node} (CPUs ${formatCpus(local)}) for ${port.name}, or move the NIC` };
      }),
    );
  },
});

export const forwardingChecks: readonly CheckDefinition[] = [nicDriver, vfioBinding, sriovVfs, nicNuma];
