// Builds the audit's view of a node from pod.yaml, so that checks never read the pod
// model directly and tests can state a node's CPU plan in a few lines.
import type { PodNode } from '../config/pod-model.ts';
import type { LaunchedGuestContext, NodeContext, PortContext, SriovPf } from './types.ts';

export interface NodeContextOptions {
  node: PodNode;
  usesSriov?: boolean;
  /** Data ports (by name) that are SR-IOV physical functions, with the VFs each must expose. */
  sriovPfs?: ReadonlyArray<{ port: string; minVfs: number }>;
  /** Free hugepages each NUMA node with rt CPUs must still have (at least 1). */
  minFreeHugepages?: number;
  hugepageSizeKb?: number;
  kernelRelease?: string;
  /** Guests the harness launches on this node, when it is their host. */
  launchedGuests?: readonly LaunchedGuestContext[];
  ovsPmdCpus?: readonly number[];
}

// PCI ports are DPDK ports (vfio-pci) unless named as SR-IOV PFs, which stay on the kernel driver.
export function buildNodeContext(options: NodeContextOptions): NodeContext {
  const { node } = options;
  const pfNames = new Map((options.sriovPfs ?? []).map((pf) => [pf.port, pf.minVfs]));
  const dataPorts: PortContext[] = node.ports.map((port) => ({
    name: port.name,
    ...(port.interface === undefined ? {} : { interface: port.interface }),
    ...(port.pci === undefined ? {} : { pci: port.pci }),
    binding: port.pci !== undefined && !pfNames.has(port.name) ? 'vfio-pci' : 'kernel',
  }));
  const sriovPfs: SriovPf[] = dataPorts
    .filter((p) => pfNames.has(p.name))
    .map((p) => ({ port: p.name, minVfs: pfNames.get(p.name) as number, ...(p.pci ? { pci: p.pci } : {}), ...(p.interface ? { interface: p.interface } : {}) }));
  return {
    node: node.name,
    role: node.role,
    rtCpus: [...node.rtCpus],
    housekeepingCpus: [...node.housekeepingCpus],
    ...(options.kernelRelease === undefined ? {} : { kernelRelease: options.kernelRelease }),
    usesSriov: options.usesSriov ?? sriovPfs.length > 0,
    dataPorts,
    sriovPfs,
    hugepages: { minFreePerNode: Math.max(1, options.minFreeHugepages ?? 1), ...(options.hugepageSizeKb === undefined ? {} : { sizeKb: options.hugepageSizeKb }) },
    ...(options.launchedGuests && options.launchedGuests.length > 0 ? { launchedGuests: options.launchedGuests } : {}),
    ...(options.ovsPmdCpus === undefined ? {} : { ovsPmdCpus: options.ovsPmdCpus }),
  };
}
