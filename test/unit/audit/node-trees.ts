// The recorded and written node trees the audit specs judge, with the CPU plan and
// ports each one is audited against.
import { join } from 'node:path';
import type { NodeContext } from '../../../lib/audit/index.ts';
import type { NodeSnapshot } from '../../../lib/tools/node-snapshot/parse.ts';
import { snapshotFromTree } from '../../support/node-tree.ts';

export const TREES_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'node-trees');

export type TreeName = 'lab-host' | 'rt-tuned-host' | 'rt-tuned-guest' | 'broken';

const hostPorts = {
  usesSriov: true,
  dataPorts: [
    { name: 'p0', pci: '0000:18:00.0', binding: 'vfio-pci' },
    { name: 'pf0', pci: '0000:18:00.1', interface: 'ens1f1', binding: 'kernel' },
  ],
  sriovPfs: [{ port: 'pf0', pci: '0000:18:00.1', interface: 'ens1f1', minVfs: 2 }],
} as const;

export const CONTEXTS: Record<TreeName, NodeContext> = {
  'lab-host': { node: 'lab', role: 'host', rtCpus: [1], housekeepingCpus: [0], usesSriov: false, dataPorts: [], sriovPfs: [], hugepages: { minFreePerNode: 1 } },
  'rt-tuned-host': {
    node: 'host',
    role: 'host',
    rtCpus: [2, 3],
    housekeepingCpus: [0, 1],
    ...hostPorts,
    hugepages: { minFreePerNode: 1 },
    launchedGuests: [{ name: 'rt-guest', rtVcpus: [0, 1], vcpuPins: [2, 3], vhostUser: true }],
    ovsPmdCpus: [4],
  },
  'rt-tuned-guest': {
    node: 'guest',
    role: 'guest',
    rtCpus: [1],
    housekeepingCpus: [0],
    usesSriov: false,
    dataPorts: [{ name: 'v0', pci: '0000:00:05.0', binding: 'vfio-pci' }],
    sriovPfs: [],
    hugepages: { minFreePerNode: 1 },
  },
  broken: { node: 'broken', role: 'host', rtCpus: [2, 3], housekeepingCpus: [0, 1], ...hostPorts, hugepages: { minFreePerNode: 1 } },
};

export function loadTree(name: TreeName): Promise<NodeSnapshot> {
  return snapshotFromTree(join(TREES_DIR, name));
}

// Mutation tests start from a tuned tree and change one fact; a deep copy keeps the original intact.
export function cloneSnapshot(snapshot: NodeSnapshot): NodeSnapshot {
  return {
    files: new Map(snapshot.files),
    links: new Map(snapshot.links),
    missing: new Set(snapshot.missing),
    errors: new Map(snapshot.errors),
    commands: new Map([...snapshot.commands].map(([k, v]) => [k, { ...v }])),
  };
}
