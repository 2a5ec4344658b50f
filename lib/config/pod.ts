// pod.yaml → Pod: read, validate every node (all issues at once), check what spans
// fields and nodes, then resolve into the read-only model of pod-model.ts.
// Nothing here touches the network or the key files: those are read at connect time.
import { basename, extname } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { DataPort, HostKeyPin, JumpHost, Pod, PodNode, SecretRef } from './pod-model.ts';
import { formatCpuList } from './cpu-list.ts';
import { collectNestedSecrets } from './pod-keys.ts';
import { buildPodNotes } from './pod-notes.ts';
import { resolveLaunch } from './guest-launch.ts';
import { checkGuestNode, checkGuestRelations, inferGuestHosts, resolveLaunchedConnection, type GuestFacts, type InferredHost } from './pod-guests.ts';
import { findMisspeltKeys, nodeFields, nodeSchema, podFileSchema, SUITE_NODE_KEYS, type JumpHostInput, type NodeInput } from './pod-schema.ts';
import { buildConfigIssues, formatIssuePath } from './zod-issues.ts';
import { readYamlFile } from './yaml-file.ts';

export interface LoadPodOptions {
  /** Environment for NODE_NAME and for noting unset password_env variables. */
  env?: NodeJS.ProcessEnv;
}

const WHAT = 'a pod inventory: a mapping with a nodes: list (Yardstick pod.yaml format)';

/** What the checks across fields can know about a node, even one with bad fields. */
interface NodeFacts extends GuestFacts {
  parsed: NodeInput | undefined;
  jumpHost?: JumpHostInput;
  ports: { name: string; peer?: string; mac?: string }[];
}

// The CLI and suites load the pod once, through here.
export function loadPod(file: string, options: LoadPodOptions = {}): Pod {
  return buildPod(readYamlFile(file, WHAT), { file, env: options.env ?? process.env });
}

// Split from loadPod so the lab can build a pod from an object it generated.
export function buildPod(raw: unknown, source: { file: string; env?: NodeJS.ProcessEnv }): Pod {
  const env = source.env ?? process.env;
  const top = podFileSchema.safeParse(raw);
  const issues: ConfigIssue[] = top.success ? [] : buildConfigIssues(top.error.issues, { input: raw });
  issues.push(...findMisspeltKeys(raw, 'top').map((m) => ({ path: formatIssuePath([m.key]), message: m.message })));
  // A bad pod_name must not hide the nodes' problems: check them whenever they are a list.
  const rawNodes = (raw as { nodes?: unknown } | null)?.nodes;
  const facts = Array.isArray(rawNodes) ? rawNodes.map((rawNode, index) => readNode(rawNode, index, issues)) : [];
  checkAcrossNodes(facts, issues);
  const inferred = inferGuestHosts(facts, issues);
  if (!top.success || issues.length > 0) throw new ConfigError(source.file, issues);

  const parsed = facts.map((f) => f.parsed as NodeInput);
  const nodes = parsed.map((node, index) => resolveNode(node, parsed, inferred.get(index)));
  const fileName = top.data.pod_name ?? basename(source.file, extname(source.file));
  const name = env.NODE_NAME || fileName;
  const usedKeys = (index: number) => {
    const key = inferred.get(index)?.key;
    return key ? [key] : [];
  };
  const notes = buildPodNotes({ nodes: facts.map((f) => ({ index: f.index, raw: f.raw, parsed: f.parsed as NodeInput, usedKeys: usedKeys(f.index) })), top: top.data, env });
  if (name !== fileName) notes.push(`pod name "${name}" comes from NODE_NAME (the file says "${fileName}")`);
  for (const [index, host] of inferred) notes.push(`guest ${parsed[index]?.name} runs on host ${host.hostNode}: from ${host.from} (pod.yaml gives no host_node)`);
  return { file: source.file, name, lab: top.data.lab ?? false, nodes, notes };
}

function label(facts: { index: number; name?: string }): string {
  return facts.name ? `(node ${facts.name})` : '';
}

function readNode(rawNode: unknown, index: number, issues: ConfigIssue[]): NodeFacts {
  const raw = rawNode !== null && typeof rawNode === 'object' && !Array.isArray(rawNode) ? (rawNode as Record<string, unknown>) : {};
  const result = nodeSchema.safeParse(rawNode);
  // When some field is bad, the others are still parsed one by one so that the
  // checks across fields report everything in one go.
  const field = <K extends keyof typeof nodeFields>(key: K) => {
    if (result.success) return result.data[key];
    const r = nodeFields[key].safeParse(raw[key]);
    return r.success ? (r.data as NodeInput[K]) : undefined;
  };
  const ports = field('ports');
  const facts: NodeFacts = {
    index,
    raw,
    parsed: result.success ? result.data : undefined,
    name: field('name'),
    role: field('role')?.role,
    jumpHost: field('jump_host'),
    ports: ports?.map((p) => ({ name: p.name, peer: p.peer, mac: p.mac })) ?? [],
    hostNode: field('host_node'),
    launch: field('launch'),
    rtCpus: field('rt_cpus'),
  };
  const suffix = label(facts);
  const fieldIssues = result.success ? [] : buildConfigIssues(result.error.issues, { input: rawNode, pathPrefix: ['nodes', index] });
  const add = (path: PropertyKey[], message: string) => fieldIssues.push({ path: formatIssuePath(['nodes', index, ...path]), message });

  for (const m of findMisspeltKeys(raw, 'node')) add([m.key], m.message);
  if (raw.password !== undefined && raw.password_env !== undefined) add(['password_env'], 'give at most one of password or password_env');
  checkCpus({ raw, role: facts.role, rt: field('rt_cpus'), hk: field('housekeeping_cpus'), add });
  checkGuestNode(facts, add);
  const seen = new Set<string>();
  ports?.forEach((port, i) => {
    if (seen.has(port.name)) add(['ports', i, 'name'], `expected a port name unique on this node, got "${port.name}" twice`);
    seen.add(port.name);
  });
  issues.push(...fieldIssues.map((i) => ({ path: i.path, message: suffix ? `${i.message} ${suffix}` : i.message })));
  return facts;
}

// The measurement must never pick CPUs by itself. An unchanged Yardstick pod names none:
// it still loads (with a note), and a case measuring on such a node reports an error.
// Naming only one of the two sets is a mistake in the file, and is reported here.
function checkCpus(args: { raw: Record<string, unknown>; role?: PodNode['role']; rt?: number[]; hk?: number[]; add: (path: PropertyKey[], message: string) => void }): void {
  const { raw, role, rt, hk, add } = args;
  if (role === 'host' || role === 'guest') {
    const declared = String(raw.role);
    const needs = `role ${declared}${declared === role ? '' : ` (${role})`} needs`;
    if (raw.rt_cpus === undefined && raw.housekeeping_cpus === undefined) return;
    if (raw.rt_cpus === undefined) add(['rt_cpus'], `missing; ${needs} rt_cpus, the CPUs the measurement threads run on`);
    else if (rt?.length === 0) add(['rt_cpus'], `${needs} at least one CPU in rt_cpus, got an empty list`);
    if (raw.housekeeping_cpus === undefined) add(['housekeeping_cpus'], `missing; ${needs} housekeeping_cpus, the CPUs for the harness's own helpers`);
    else if (hk?.length === 0) add(['housekeeping_cpus'], `${needs} at least one CPU in housekeeping_cpus, got an empty list`);
  }
  const overlap = rt && hk ? rt.filter((c) => hk.includes(c)) : [];
  if (overlap.length > 0) add(['housekeeping_cpus'], `expected no CPU in both rt_cpus and housekeeping_cpus, got ${formatCpuList(overlap)} in both`);
}

function checkAcrossNodes(facts: NodeFacts[], issues: ConfigIssue[]): void {
  const byName = new Map<string, NodeFacts>();
  for (const f of facts) {
    if (f.name === undefined) continue;
    const first = byName.get(f.name);
    if (first) issues.push({ path: `nodes[${f.index}].name`, message: `expected a unique node name, got "${f.name}", already used by nodes[${first.index}]` });
    else byName.set(f.name, f);
  }
  for (const f of facts) {
    const jump = f.jumpHost;
    if (jump && 'byName' in jump) {
      const target = byName.get(jump.byName);
      const path = `nodes[${f.index}].jump_host`;
      if (jump.byName === f.name) issues.push({ path, message: `expected another node's name, got the node itself ("${f.name}")` });
      else if (!target) issues.push({ path, message: `expected the name of a node in this pod, got "${jump.byName}"; nodes are: ${[...byName.keys()].join(', ')}` });
      else if (target.jumpHost) issues.push({ path, message: `expected a node reached directly, but "${jump.byName}" has its own jump_host (chained jumps are not supported)` });
    }
    checkPeers(f, byName, issues);
  }
  checkGuestRelations(facts, issues);
}

function checkPeers(f: NodeFacts, byName: Map<string, NodeFacts>, issues: ConfigIssue[]): void {
  f.ports.forEach((port, i) => {
    if (!port.peer) return;
    const path = `nodes[${f.index}].ports[${i}].peer`;
    const [nodeName = '', portName = ''] = port.peer.split(':');
    const node = byName.get(nodeName);
    if (!node) issues.push({ path, message: `expected node:port of this pod, got "${port.peer}": no node "${nodeName}"` });
    else if (!node.ports.some((p) => p.name === portName)) {
      const names = node.ports.map((p) => p.name).join(', ') || '(none)';
      issues.push({ path, message: `expected node:port of this pod, got "${port.peer}": node "${nodeName}" has ports ${names}` });
    } else if (node === f && portName === port.name) issues.push({ path, message: `expected another port, got the port itself ("${port.peer}")` });
    else {
      const back = node.ports.find((p) => p.name === portName)?.peer;
      const self = `${f.name}:${port.name}`;
      if (back && back !== self) issues.push({ path, message: `expected ${port.peer} to be cabled back to ${self}, but its peer is "${back}"` });
    }
  });
}

function secretRef(envName: string | undefined): SecretRef | undefined {
  return envName === undefined ? undefined : { env: envName };
}

function resolveHostKey(input: { known_hosts?: string; fingerprint?: string } | undefined): HostKeyPin | undefined {
  if (!input) return undefined;
  return input.known_hosts !== undefined ? { knownHosts: input.known_hosts } : { fingerprint: input.fingerprint?.replace(/=$/, '') };
}

/** Drops undefined fields, so resolved objects compare and print cleanly. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function resolveJumpHost(input: JumpHostInput, all: NodeInput[]): JumpHost {
  if ('byName' in input) {
    const node = all.find((n) => n.name === input.byName) as NodeInput;
    return defined({
      ip: node.ip as string,
      user: node.user,
      sshPort: node.ssh_port,
      keyFilename: node.key_filename,
      privateKey: node.pkey,
      password: node.password,
      passwordRef: secretRef(node.password_env),
      keyPassphraseRef: secretRef(node.key_passphrase_env),
      hostKey: resolveHostKey(node.host_key),
    });
  }
  return defined({
    ip: input.ip,
    user: input.user,
    sshPort: input.ssh_port,
    keyFilename: input.key_filename,
    passwordRef: secretRef(input.password_env),
    keyPassphraseRef: secretRef(input.key_passphrase_env),
    hostKey: resolveHostKey(input.host_key),
  });
}

function resolveNode(node: NodeInput, all: NodeInput[], inferred: InferredHost | undefined): PodNode {
  const ports: DataPort[] = (node.ports ?? []).map((p) =>
    defined({ name: p.name, interface: p.interface, pci: p.pci?.toLowerCase(), mac: p.mac?.toLowerCase(), lineRateBps: p.line_rate, peer: p.peer }),
  );
  const connection = resolveLaunchedConnection(node);
  const jumpHost = connection.jumpByName ? { byName: connection.jumpByName } : node.jump_host;
  return defined({
    name: node.name,
    role: node.role.role,
    declaredRole: node.role.declaredRole,
    ip: connection.ip,
    user: node.user,
    sshPort: connection.sshPort,
    keyFilename: node.key_filename,
    privateKey: node.pkey,
    password: node.password,
    passwordRef: secretRef(node.password_env),
    keyPassphraseRef: secretRef(node.key_passphrase_env),
    unusedSecrets: readUnusedSecrets(node),
    jumpHost: jumpHost ? resolveJumpHost(jumpHost, all) : undefined,
    hostKey: resolveHostKey(node.host_key),
    rtCpus: connection.rtCpus ?? node.rt_cpus ?? [],
    housekeepingCpus: connection.housekeepingCpus ?? node.housekeeping_cpus ?? [],
    hostNode: node.host_node ?? inferred?.hostNode,
    launch: node.launch ? resolveLaunch(node.launch) : undefined,
    ports,
    tools: { ...node.tools },
    extra: { ...node.extra },
  });
}

// Values under keys the suite does not read (ipmi_password, tas_manager's passwords, ...):
// never used, but hidden from every log all the same.
function readUnusedSecrets(node: NodeInput): string[] | undefined {
  const unread = Object.fromEntries(Object.entries(node).filter(([key]) => !SUITE_NODE_KEYS.includes(key)));
  const secrets = collectNestedSecrets(unread);
  return secrets.length > 0 ? secrets : undefined;
}
