// A pod's compute groups: each host with the guests that run on it. A host and its own guests
// share CPUs, so they are measured one after another; different groups are different machines
// and may be measured side by side. Nodes outside every group (traffic generators, other
// roles) are shared by all groups. Pure: read from the resolved pod model.
import type { Pod, PodNode } from './pod-model.ts';

export interface ComputeGroup {
  /** The host's name; for guests with no host, the first guest's. */
  name: string;
  host: PodNode | undefined;
  guests: PodNode[];
  /** Host first, then its guests in pod order: the order they are measured in. */
  nodes: PodNode[];
}

export interface PodGroups {
  groups: ComputeGroup[];
  /** Nodes no group owns (tgen, other roles), in pod order. */
  shared: PodNode[];
}

// Guests name their host by hostNode (given, or inferred when the pod was loaded). A guest
// with none, possible only in a pod without a host (or an NSB bare-metal VNF), joins one group
// of such guests: nothing says they are on different machines, so they are never measured at once.
export function computeGroups(pod: Pick<Pod, 'nodes'>): PodGroups {
  const groups: ComputeGroup[] = [];
  for (const host of pod.nodes.filter((n) => n.role === 'host')) {
    const guests = pod.nodes.filter((n) => n.role === 'guest' && n.hostNode === host.name);
    groups.push({ name: host.name, host, guests, nodes: [host, ...guests] });
  }
  const hostNames = new Set(groups.map((g) => g.name));
  const unhosted = pod.nodes.filter((n) => n.role === 'guest' && (n.hostNode === undefined || !hostNames.has(n.hostNode)));
  if (unhosted.length > 0) groups.push({ name: (unhosted[0] as PodNode).name, host: undefined, guests: unhosted, nodes: unhosted });
  const owned = new Set(groups.flatMap((g) => g.nodes));
  return { groups, shared: pod.nodes.filter((n) => !owned.has(n)) };
}

/** The group that owns a node, if any. */
export function groupOf(groups: readonly ComputeGroup[], nodeName: string): ComputeGroup | undefined {
  return groups.find((g) => g.nodes.some((n) => n.name === nodeName));
}
