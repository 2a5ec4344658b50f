// The lab's names, addresses and wiring, derived from the checkout path alone.
// Pure: nothing here touches the system, so the whole layout is unit-tested.

import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Linux IFNAMSIZ is 16 including the NUL, so 15 usable characters. */
export const MAX_IFNAME = 15;

export type LabNodeName = 'host' | 'guest' | 'tgen';

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
  role: LabNodeName;
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

export interface LabPlan {
  root: string;
  guest: LabGuestKind;
  /** Set when guest is vm. */
  vm?: LabVmWiring;
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
const NODE_ORDER: LabNodeName[] = ['host', 'guest', 'tgen'];

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

// The full layout of one lab; `octet` comes from the collision check.
export function buildLabPlan(input: { realRoot: string; octet: number; cpuCount: number; guest?: LabGuestKind }): LabPlan {
  const guest = input.guest ?? 'namespace';
  const { realRoot, octet } = input;
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new RangeError(`octet must be 0..255, got ${octet}`);
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  const net = `198.18.${octet}`;
  // A VM guest needs no namespace: its links end in the host namespace, where QEMU runs.
  const nodes = NODE_ORDER.flatMap((name, i): LabPlanNode[] => (guest === 'vm' && name === 'guest' ? [] : [{
    name,
    role: name,
    namespace: `${names.prefix}-${name}`,
    ip: `${net}.${i + 2}`,
    rootLink: `${names.prefix}-m${name[0]}`,
    hostKeyFile: join(paths.stateDir, `ssh_host_ed25519_key.${name}`),
    pidFile: join(paths.stateDir, `sshd.${name}.pid`),
    logFile: join(paths.logDir, `sshd.${name}.log`),
  }]));
  const end = (node: LabNodeName, ifname: string, linkIndex: number, side: number, address?: string): LabLinkEnd => ({
    node,
    ifname,
    mac: buildMac(names, linkIndex, side),
    ...(address === undefined ? {} : { address }),
  });
  const links: LabDataLink[] = [
    { purpose: 'bare-metal forwarding / OVS-DPDK physical port 0', a: end('tgen', 't0', 1, 1), b: end('host', 'h0', 1, 2) },
    { purpose: 'bare-metal forwarding / OVS-DPDK physical port 1', a: end('tgen', 't1', 2, 1), b: end('host', 'h1', 2, 2) },
    // With a VM guest the far ends stay in the host namespace, where the VM owns them through macvtap.
    { purpose: `SR-IOV passthrough analogue, VF 0${guest === 'vm' ? ' (the VM owns g0 through macvtap passthru)' : ''}`, a: end('tgen', 't2', 3, 1), b: end(guest === 'vm' ? 'host' : 'guest', 'g0', 3, 2) },
    { purpose: `SR-IOV passthrough analogue, VF 1${guest === 'vm' ? ' (the VM owns g1 through macvtap passthru)' : ''}`, a: end('tgen', 't3', 4, 1), b: end(guest === 'vm' ? 'host' : 'guest', 'g1', 4, 2) },
    guest === 'vm'
      ? {
          // The far end stays in the host namespace, bridged to the VM's tap: the guest NIC is virtio-net.
          purpose: 'device-interrupt test: 1 ms frames from tgen to the guest VM (veth end bridged to its tap in host)',
          a: end('tgen', 'ti', 5, 1, `198.19.${octet}.1/30`),
          b: end('host', 'gi', 5, 3),
        }
      : {
          purpose: 'device-interrupt test: 1 ms frames from tgen to guest',
          a: end('tgen', 'ti', 5, 1, `198.19.${octet}.1/30`),
          b: end('guest', 'gi', 5, 2, `198.19.${octet}.2/30`),
        },
    { purpose: 'generator loopback for calibration', a: end('tgen', 'c0', 6, 1), b: end('tgen', 'c1', 6, 2) },
  ];
  return {
    root: realRoot,
    guest,
    ...(guest === 'vm'
      ? {
          vm: {
            bridge: 'vmbr-gi',
            tap: 'vmtap-gi',
            nicMac: buildMac(names, 5, 2),
            dataMacs: { g0: buildMac(names, 3, 3), g1: buildMac(names, 4, 3), v0: buildMac(names, 7, 3), v1: buildMac(names, 8, 3) },
            address: `198.19.${octet}.2/30`,
            sshForwardPort: 10022,
          },
        }
      : {}),
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
    ...(plan.vm ? [plan.vm.bridge, plan.vm.tap] : []),
  ];
}
