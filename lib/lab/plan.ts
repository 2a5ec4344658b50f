// The lab's names, addresses and wiring, derived from the checkout path alone.
// Pure: nothing here touches the system, so the whole layout is unit-tested.

import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Linux IFNAMSIZ is 16 including the NUL, so 15 usable characters. */
export const MAX_IFNAME = 15;

/** `host`, `guest`, `tgen`, and `host-<i>`, `guest-<i>` for the compute groups after the first. */
export type LabNodeName = string;
export type LabRole = 'host' | 'guest' | 'tgen';

/** Compute groups a lab may have: each needs its own interrupt /30 in 198.19.<octet>.0/24. */
export const MAX_LAB_COMPUTES = 16;

export interface LabNames {
  /** `kfn` + 4 hex chars of sha1(realpath(root)); every lab resource carries it. */
  prefix: string;
  /** Full sha1 hex of the root path: the ownership marker set as the bridge's alias. */
  rootHash: string;
  /** Third octet tried first for 198.18.<octet>.0/24, before collision checks. */
  preferredOctet: number;
  bridge: string;
}

export interface LabPlanNode {
  name: LabNodeName;
  role: LabRole;
  namespace: string;
  /** Management address in the node's namespace (on `mg0`). */
  ip: string;
  /** Root-namespace end of the management veth, enslaved to the bridge. */
  rootLink: string;
  hostKeyFile: string;
  pidFile: string;
  logFile: string;
}

export interface LabLinkEnd {
  node: LabNodeName;
  ifname: string;
  mac: string;
  /** CIDR on the interface, only for links that need IP (the interrupt link). */
  address?: string;
}

export interface LabDataLink {
  /** Why the link exists, echoed in the pod.yaml comments. */
  purpose: string;
  a: LabLinkEnd;
  b: LabLinkEnd;
}

export interface LabPaths {
  stateDir: string;
  stateFile: string;
  podYaml: string;
  keyFile: string;
  authorizedKeys: string;
  knownHosts: string;
  sshdConfig: string;
  logDir: string;
}

/** Where the lab's guest runs: a QEMU VM launched by each run, or a namespace on the host's kernel. */
export type LabGuestKind = 'vm' | 'namespace';

/**
 * The VM guest's wiring inside the host namespace: its interrupt NIC's tap joins a bridge with
 * the veth end gi; it owns the data veth ends g0/g1 through macvtap (the SR-IOV analogue); and
 * its vhost-user NICs v0/v1 are plugged by the OVS-DPDK case.
 */
export interface LabVmWiring {
  bridge: string;
  tap: string;
  /** The guest NIC's MAC: the pod's guest:gi port. */
  nicMac: string;
  /** MACs of the guest's forwarding NICs, by port: g0, g1 (macvtap), v0, v1 (vhost-user). */
  dataMacs: Record<'g0' | 'g1' | 'v0' | 'v1', string>;
  /** The guest NIC's address (the interrupt link's far end). */
  address: string;
  /** Host loopback port QEMU forwards to the guest's sshd. */
  sshForwardPort: number;
}

/** One compute group: a host namespace and its guest (a VM on it, or a namespace beside it). */
export interface LabCompute {
  index: number;
  host: LabNodeName;
  guest: LabNodeName;
  /** Set when guest is vm. */
  vm?: LabVmWiring;
}

export interface LabPlan {
  root: string;
  guest: LabGuestKind;
  /** The first group's VM wiring, when guest is vm. */
  vm?: LabVmWiring;
  /** The compute groups, the first one first: it also carries the forwarding tier's links. */
  computes: LabCompute[];
  names: LabNames;
  octet: number;
  managementCidr: string;
  gateway: string;
  interruptCidr: string;
  paths: LabPaths;
  nodes: LabPlanNode[];
  links: LabDataLink[];
  rtCpus: string;
  housekeepingCpus: string;
}

export const MGMT_IFNAME = 'mg0';

// One hash of the real path gives every checkout its own names and subnet.
export function deriveLabNames(realRoot: string): LabNames {
  const rootHash = createHash('sha1').update(realRoot).digest('hex');
  const prefix = `kfn${rootHash.slice(0, 4)}`;
  return {
    prefix,
    rootHash,
    preferredOctet: Number.parseInt(rootHash.slice(4, 6), 16),
    bridge: `${prefix}-br`,
  };
}

// Paths are fixed under <root>/.lab so that `down` finds them without state.json.
export function buildLabPaths(realRoot: string): LabPaths {
  const stateDir = join(realRoot, '.lab');
  return {
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    podYaml: join(stateDir, 'pod.yaml'),
    keyFile: join(stateDir, 'id_ed25519'),
    authorizedKeys: join(stateDir, 'authorized_keys'),
    knownHosts: join(stateDir, 'known_hosts'),
    sshdConfig: join(stateDir, 'sshd_config'),
    logDir: join(stateDir, 'logs'),
  };
}

// The 2-core lab puts the measurement on the last CPU and housekeeping on CPU 0.
export function chooseLabCpus(cpuCount: number): { rtCpus: string; housekeepingCpus: string } {
  if (!Number.isInteger(cpuCount) || cpuCount < 1) throw new RangeError(`cpu count must be a positive integer, got ${cpuCount}`);
  return { rtCpus: String(cpuCount - 1), housekeepingCpus: '0' };
}

// Fixed, locally administered MACs keep pod.yaml stable across `up`s of one checkout.
function buildMac(names: LabNames, linkIndex: number, side: number): string {
  const h = names.rootHash;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return ['02', h.slice(0, 2), h.slice(2, 4), hex(linkIndex), hex(side), '00'].join(':');
}

// Group 0 keeps the names a one-group lab always had; the others are numbered.
const computeNames = (i: number) => ({ host: i === 0 ? 'host' : `host-${i}`, guest: i === 0 ? 'guest' : `guest-${i}` });

// The namespaces in management-address order: host, guest, tgen, then host-1, guest-1, ...
// With a VM guest there is no guest namespace: the VMs run in their hosts' namespaces.
function planNodeEntries(computes: number, guest: LabGuestKind): Array<{ name: string; role: LabRole; tag: string }> {
  const entries: Array<{ name: string; role: LabRole; tag: string }> = [
    { name: 'host', role: 'host', tag: 'h' },
    ...(guest === 'namespace' ? [{ name: 'guest', role: 'guest' as LabRole, tag: 'g' }] : []),
    { name: 'tgen', role: 'tgen', tag: 't' },
  ];
  for (let i = 1; i < computes; i++) {
    const n = computeNames(i);
    entries.push({ name: n.host, role: 'host', tag: `h${i}` });
    if (guest === 'namespace') entries.push({ name: n.guest, role: 'guest', tag: `g${i}` });
  }
  return entries;
}

// The full layout of one lab; `octet` comes from the collision check.
export function buildLabPlan(input: { realRoot: string; octet: number; cpuCount: number; guest?: LabGuestKind; computes?: number }): LabPlan {
  const guest = input.guest ?? 'namespace';
  const computes = input.computes ?? 1;
  const { realRoot, octet } = input;
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new RangeError(`octet must be 0..255, got ${octet}`);
  if (!Number.isInteger(computes) || computes < 1 || computes > MAX_LAB_COMPUTES) throw new RangeError(`computes must be 1..${MAX_LAB_COMPUTES}, got ${computes}`);
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  const net = `198.18.${octet}`;
  // A VM guest needs no namespace: its links end in its host's namespace, where QEMU runs.
  const nodes = planNodeEntries(computes, guest).map(({ name, role, tag }, i): LabPlanNode => ({
    name,
    role,
    namespace: `${names.prefix}-${name}`,
    ip: `${net}.${i + 2}`,
    rootLink: `${names.prefix}-m${tag}`,
    hostKeyFile: join(paths.stateDir, `ssh_host_ed25519_key.${name}`),
    pidFile: join(paths.stateDir, `sshd.${name}.pid`),
    logFile: join(paths.logDir, `sshd.${name}.log`),
  }));
  const end = (node: LabNodeName, ifname: string, linkIndex: number, side: number, address?: string): LabLinkEnd => ({
    node,
    ifname,
    mac: buildMac(names, linkIndex, side),
    ...(address === undefined ? {} : { address }),
  });
  // Group i's interrupt link: tgen ti<i> to its guest's gi, in 198.19.<octet>.<4i>/30.
  const interruptLink = (i: number): LabDataLink => {
    const n = computeNames(i);
    const [ti, index] = i === 0 ? ['ti', 5] : [`ti${i}`, 16 + i];
    const tgenEnd = end('tgen', ti, index, 1, `198.19.${octet}.${4 * i + 1}/30`);
    return guest === 'vm'
      ? // The far end stays in the host namespace, bridged to the VM's tap: the guest NIC is virtio-net.
        { purpose: `device-interrupt test: 1 ms frames from tgen to the guest VM (veth end bridged to its tap in ${n.host})`, a: tgenEnd, b: end(n.host, 'gi', index, 3) }
      : { purpose: `device-interrupt test: 1 ms frames from tgen to ${n.guest}`, a: tgenEnd, b: end(n.guest, 'gi', index, 2, `198.19.${octet}.${4 * i + 2}/30`) };
  };
  const links: LabDataLink[] = [
    { purpose: 'bare-metal forwarding / OVS-DPDK physical port 0', a: end('tgen', 't0', 1, 1), b: end('host', 'h0', 1, 2) },
    { purpose: 'bare-metal forwarding / OVS-DPDK physical port 1', a: end('tgen', 't1', 2, 1), b: end('host', 'h1', 2, 2) },
    // With a VM guest the far ends stay in the host namespace, where the VM owns them through macvtap.
    { purpose: `SR-IOV passthrough analogue, VF 0${guest === 'vm' ? ' (the VM owns g0 through macvtap passthru)' : ''}`, a: end('tgen', 't2', 3, 1), b: end(guest === 'vm' ? 'host' : 'guest', 'g0', 3, 2) },
    { purpose: `SR-IOV passthrough analogue, VF 1${guest === 'vm' ? ' (the VM owns g1 through macvtap passthru)' : ''}`, a: end('tgen', 't3', 4, 1), b: end(guest === 'vm' ? 'host' : 'guest', 'g1', 4, 2) },
    interruptLink(0),
    { purpose: 'generator loopback for calibration', a: end('tgen', 'c0', 6, 1), b: end('tgen', 'c1', 6, 2) },
    ...Array.from({ length: computes - 1 }, (_, k) => interruptLink(k + 1)),
  ];
  // Only the first group's VM forwards (the forwarding tier uses the first group); every VM has its own MACs.
  const dataMac = (i: number, k: number) => buildMac(names, i === 0 ? [3, 4, 7, 8][k] as number : 40 + 4 * i + k, 3);
  const vmOf = (i: number): LabVmWiring => ({
    bridge: 'vmbr-gi',
    tap: 'vmtap-gi',
    nicMac: buildMac(names, i === 0 ? 5 : 16 + i, 2),
    dataMacs: { g0: dataMac(i, 0), g1: dataMac(i, 1), v0: dataMac(i, 2), v1: dataMac(i, 3) },
    address: `198.19.${octet}.${4 * i + 2}/30`,
    sshForwardPort: 10022,
  });
  const groups = Array.from({ length: computes }, (_, i): LabCompute => ({ index: i, ...computeNames(i), ...(guest === 'vm' ? { vm: vmOf(i) } : {}) }));
  return {
    root: realRoot,
    guest,
    ...(guest === 'vm' ? { vm: vmOf(0) } : {}),
    computes: groups,
    names,
    octet,
    managementCidr: `${net}.0/24`,
    gateway: `${net}.1`,
    interruptCidr: `198.19.${octet}.0/30`,
    paths,
    nodes,
    links,
    ...chooseLabCpus(input.cpuCount),
  };
}

// Every interface name the plan creates, so a test can hold them all to IFNAMSIZ.
export function listPlanIfnames(plan: LabPlan): string[] {
  return [
    plan.names.bridge,
    ...plan.nodes.map((n) => n.rootLink),
    MGMT_IFNAME,
    ...plan.links.flatMap((l) => [l.a.ifname, l.b.ifname]),
    ...plan.computes.flatMap((c) => (c.vm ? [c.vm.bridge, c.vm.tap] : [])),
  ];
}
