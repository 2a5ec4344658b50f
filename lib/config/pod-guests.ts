// Guests and their hosts in pod.yaml: `host_node` names the host a guest runs on (launched
// or existing), and a guest with `launch:` has no address of its own: the harness reaches it
// through its host, on the loopback port QEMU forwards to the guest's sshd. Checks across
// nodes, and the connection fields a launched guest gets. Pure.
import type { ConfigIssue } from '../errors.ts';
import { checkLaunch, resolveGuestCpus, type LaunchInput } from './guest-launch.ts';
import type { NodeInput } from './pod-schema.ts';

/** What the checks know of one node, even when some of its fields were bad. */
export interface GuestFacts {
  index: number;
  raw: Record<string, unknown>;
  name?: string;
  role?: 'host' | 'guest' | 'tgen' | 'other';
  hostNode?: string;
  launch?: LaunchInput;
  ports: { name: string; mac?: string }[];
  rtCpus?: number[];
  housekeepingCpus?: number[];
}

/** Where QEMU forwards the launched guest's sshd: the host's own loopback. */
export const LAUNCHED_GUEST_ADDRESS = '127.0.0.1';

// One node's own rules: an address unless launched, and launch only on a guest.
export function checkGuestNode(f: GuestFacts, add: (path: PropertyKey[], message: string) => void): void {
  const launched = f.raw.launch !== undefined;
  if (!launched && f.raw.ip === undefined) add(['ip'], 'missing; expected an IP address or host name (or, for a guest the harness starts itself, a launch: section)');
  if (!launched) return;
  if (f.role !== undefined && f.role !== 'guest') add(['launch'], `expected launch: only on a guest node, got role ${String(f.raw.role)}`);
  if (f.raw.ip !== undefined) add(['ip'], `expected no ip on a launched guest: the harness reaches it through its host_node on ${LAUNCHED_GUEST_ADDRESS}`);
  if (f.raw.ssh_port !== undefined) add(['ssh_port'], 'expected no ssh_port on a launched guest: give launch.ssh_forward_port');
  if (f.raw.jump_host !== undefined) add(['jump_host'], 'expected no jump_host on a launched guest: its host_node is its jump host');
  if (f.raw.host_node === undefined) add(['host_node'], 'missing; a launched guest needs the name of the host node it runs on');
  if (f.launch) checkLaunch(f.launch, { ports: f.ports, ...(f.rtCpus ? { rtCpus: f.rtCpus } : {}) }, add);
}

// host_node must name a host of this pod; two launched guests of one host need their own ports.
export function checkGuestRelations(facts: readonly GuestFacts[], issues: ConfigIssue[]): void {
  const byName = new Map(facts.filter((f) => f.name !== undefined).map((f) => [f.name as string, f]));
  const forwardPorts = new Map<string, GuestFacts>();
  for (const f of facts) {
    if (f.hostNode === undefined) continue;
    const path = `nodes[${f.index}].host_node`;
    const host = byName.get(f.hostNode);
    if (f.role !== undefined && f.role !== 'guest') issues.push({ path, message: `expected host_node only on a guest node, got role ${String(f.raw.role)}` });
    else if (!host) issues.push({ path, message: `expected the name of a host node of this pod, got "${f.hostNode}"; hosts are: ${facts.filter((h) => h.role === 'host').map((h) => h.name).join(', ') || 'none'}` });
    else if (host.role !== 'host') issues.push({ path, message: `expected a node with role host (Compute), got "${f.hostNode}" with role ${String(host.raw.role)}` });
    if (f.launch && host?.raw.jump_host !== undefined) issues.push({ path, message: `expected a host reached directly: a launched guest is reached through "${f.hostNode}", which has its own jump_host (chained jumps are not supported)` });
    if (f.launch) {
      const key = `${f.hostNode}:${f.launch.ssh_forward_port}`;
      const other = forwardPorts.get(key);
      if (other) issues.push({ path: `nodes[${f.index}].launch.ssh_forward_port`, message: `expected a port of its own on host ${f.hostNode}, got ${f.launch.ssh_forward_port}, already used by nodes[${other.index}]` });
      forwardPorts.set(key, f);
    }
  }
}

/** How a guest's host was found when pod.yaml gives no host_node. */
export interface InferredHost {
  hostNode: string;
  /** For the pod's notes: where the relation came from. */
  from: string;
  /** The Yardstick key it was read from, if any. */
  key?: 'host';
}

// Yardstick NSB's `host:` is an address ("BM - Host == ip, Standalone virtualization - Host ==
// compute node", etc/yardstick/nodes/pod.yaml.nsb.sample): it names the guest's host only when
// it is exactly one host node's address. A guest whose host: is its own ip runs on bare metal.
function nsbHostOf(f: GuestFacts, hosts: readonly GuestFacts[]): { address?: string; bareMetal: boolean; matches: GuestFacts[] } {
  const address = typeof f.raw.host === 'string' ? f.raw.host.trim() : undefined;
  if (address === undefined || address === '') return { bareMetal: false, matches: [] };
  if (address === f.raw.ip) return { address, bareMetal: true, matches: [] };
  return { address, bareMetal: false, matches: hosts.filter((h) => h.raw.ip === address) };
}

/**
 * The host of every guest without host_node: from NSB's host: when it is one host node's
 * address, else the pod's only host. With several hosts and nothing to tell them apart, the
 * guest could be measured beside its own host, so that is bad input naming host_node.
 */
export function inferGuestHosts(facts: readonly GuestFacts[], issues: ConfigIssue[]): Map<number, InferredHost> {
  const hosts = facts.filter((f) => f.role === 'host' && f.name !== undefined);
  const inferred = new Map<number, InferredHost>();
  for (const f of facts) {
    if (f.role !== 'guest') continue;
    const nsb = nsbHostOf(f, hosts);
    const only = nsb.matches.length === 1 ? nsb.matches[0] : undefined;
    const path = `nodes[${f.index}].host_node`;
    if (f.hostNode !== undefined) {
      if (only && only.name !== f.hostNode) issues.push({ path, message: `expected the host that host: ${nsb.address} names (node ${only.name}), got "${f.hostNode}"` });
      continue;
    }
    if (f.launch !== undefined || nsb.bareMetal) continue;
    if (only) inferred.set(f.index, { hostNode: only.name as string, from: `Yardstick NSB host: ${nsb.address}, the address of host ${only.name}`, key: 'host' });
    else if (hosts.length === 1) inferred.set(f.index, { hostNode: hosts[0]?.name as string, from: `the pod's only host` });
    else if (hosts.length > 1) {
      const why = nsb.address === undefined ? '' : `; host: ${nsb.address} is the address of ${nsb.matches.length === 0 ? 'no host node' : `${nsb.matches.length} host nodes`}`;
      issues.push({ path, message: `missing; the pod has ${hosts.length} host nodes (${hosts.map((h) => h.name).join(', ')}): name the one this guest runs on, so that a host and its own guests are never measured at once${why}` });
    }
  }
  return inferred;
}

// The connection fields of a launched guest, and its CPU sets when pod.yaml leaves them out.
export function resolveLaunchedConnection(node: NodeInput): { ip: string; sshPort: number; jumpByName?: string; rtCpus?: number[]; housekeepingCpus?: number[] } {
  if (!node.launch) return { ip: node.ip as string, sshPort: node.ssh_port };
  const cpus = resolveGuestCpus(node.launch);
  return {
    ip: LAUNCHED_GUEST_ADDRESS,
    sshPort: node.launch.ssh_forward_port,
    jumpByName: node.host_node as string,
    rtCpus: node.rt_cpus ?? cpus.rtCpus,
    housekeepingCpus: node.housekeeping_cpus ?? cpus.housekeepingCpus,
  };
}
