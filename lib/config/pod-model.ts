// The pod as the harness sees it after pod.yaml has been validated and resolved.
// Everything downstream (SSH, suites, reports) reads these types, never the raw YAML.
import type { GuestLaunch } from './guest-launch.ts';

/** Roles the test plan uses. Yardstick's names are mapped onto these when loading. */
export type NodeRole = 'host' | 'guest' | 'tgen' | 'other';

export interface HostKeyPin {
  /** Path to an OpenSSH known_hosts file that must list this node's key. */
  knownHosts?: string;
  /** `SHA256:<base64>` as printed by `ssh-keygen -lf`. */
  fingerprint?: string;
}

/** A secret given by reference, so that pod.yaml itself holds no secret. */
export interface SecretRef {
  /** Environment variable holding the value. */
  env: string;
}

export interface JumpHost {
  ip: string;
  user: string;
  sshPort: number;
  keyFilename?: string;
  privateKey?: string;
  password?: string;
  passwordRef?: SecretRef;
  keyPassphraseRef?: SecretRef;
  hostKey?: HostKeyPin;
}

/** A data-plane port of a node, used by the forwarding cases. */
export interface DataPort {
  name: string;
  /** Kernel interface name on the node, when it has one. */
  interface?: string;
  /** PCI address, for DPDK/SR-IOV on a real pod. */
  pci?: string;
  mac?: string;
  /** Line rate in bits per second, e.g. 10e9; absent for veths, which take pps only. */
  lineRateBps?: number;
  /** The port of another node this one is cabled to, as `node:port`. */
  peer?: string;
}

export interface PodNode {
  name: string;
  role: NodeRole;
  /** The role exactly as pod.yaml wrote it, e.g. `Compute` or `Controller`. */
  declaredRole: string;
  ip: string;
  user: string;
  sshPort: number;
  /** Read when the node is connected, never when the pod is loaded. */
  keyFilename?: string;
  /** Private key given inline (Yardstick's `pkey`); used instead of keyFilename, redacted like a password. */
  privateKey?: string;
  /** Literal password from Yardstick's format; redacted wherever it could appear. */
  password?: string;
  /** Password given as a reference to an environment variable. */
  passwordRef?: SecretRef;
  keyPassphraseRef?: SecretRef;
  /** Values of keys the suite does not read (IPMI passwords, ...): never used, always redacted. */
  unusedSecrets?: string[];
  jumpHost?: JumpHost;
  hostKey?: HostKeyPin;
  /** CPUs the measurement threads run on. */
  rtCpus: number[];
  /** CPUs for the harness's own helpers, loads and the cyclictest main thread. */
  housekeepingCpus: number[];
  ports: DataPort[];
  /** Paths that override package detection, e.g. `{ cyclictest: /opt/rt/cyclictest }`. */
  tools: Record<string, string>;
  /** Free-form extra settings a topology may read (e.g. OVS or SR-IOV options). */
  extra: Record<string, unknown>;
  /** For a guest: the host node it runs on (pod.yaml host_node). */
  hostNode?: string;
  /** For a guest the harness starts itself: how (pod.yaml launch:). */
  launch?: GuestLaunch;
}

export interface Pod {
  /** File the pod was loaded from; `(lab)` prefix is not used, the lab writes a real file. */
  file: string;
  /** Pod name for results and TestAPI (`pod_name`); NODE_NAME overrides it. */
  name: string;
  /** True when this pod is the embedded lab pod. */
  lab: boolean;
  nodes: PodNode[];
  /** Notes for the operator, e.g. roles kept but unused. */
  notes: string[];
}

export function nodesWithRole(pod: Pod, role: NodeRole): PodNode[] {
  return pod.nodes.filter((n) => n.role === role);
}

/** Lines of an inline key long enough to be its own, so a key printed line by line is hidden too. */
const KEY_LINE = /^[A-Za-z0-9+/=]{16,}$/;

/** The secrets a pod can leak into logs: literal passwords, inline keys and referenced values. */
export function podSecrets(pod: Pod, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const refs = (n: { password?: string; privateKey?: string; unusedSecrets?: string[]; passwordRef?: SecretRef; keyPassphraseRef?: SecretRef }) => {
    if (n.password) out.push(n.password);
    if (n.privateKey) out.push(n.privateKey.trim(), ...n.privateKey.split(/\r?\n/).map((l) => l.trim()).filter((l) => KEY_LINE.test(l)));
    out.push(...(n.unusedSecrets ?? []));
    for (const ref of [n.passwordRef, n.keyPassphraseRef]) {
      const v = ref ? env[ref.env] : undefined;
      if (v) out.push(v);
    }
  };
  for (const node of pod.nodes) {
    refs(node);
    if (node.jumpHost) refs(node.jumpHost);
  }
  return out;
}
