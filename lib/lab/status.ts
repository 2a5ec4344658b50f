// What of the lab exists right now and whether each node's sshd answers; also the
// health check that lets a second `up` leave a working lab untouched.

import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { LabError } from '../errors.ts';
import { assertRoot } from './exec.ts';
import { buildLabPaths, deriveLabNames, MGMT_IFNAME } from './plan.ts';
import { readLabState, type LabState } from './state.ts';
import {
  isProcessAlive,
  listLabNamespaces,
  listLabRootLinks,
  listNamespaceLinks,
  probeSshBanner,
  readProcessCmdline,
} from './system.ts';

export interface LabOptions {
  /** The checkout directory; the lab lives in `<root>/.lab`. */
  root: string;
  log?: (line: string) => void;
  /** Install missing Debian packages during `up` (default true). */
  installPackages?: boolean;
}

export interface LabNodeStatus {
  name: string;
  namespace: string;
  ip: string;
  namespaceExists: boolean;
  sshdPid?: number;
  sshdRunning: boolean;
  sshdAnswers: boolean;
}

export interface LabStatus {
  prefix: string;
  stateDir: string;
  /** True when state.json exists and records a finished `up`. */
  stateComplete: boolean;
  /** Path of the generated pod.yaml, when it exists. */
  podYaml?: string;
  healthy: boolean;
  namespaces: string[];
  rootLinks: string[];
  nodes: LabNodeStatus[];
  /** Why the lab is not healthy, one line each; empty when healthy. */
  problems: string[];
}

// Resolves the checkout once so every entry point derives the same prefix.
export async function resolveRoot(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (error) {
    throw new LabError(`lab root ${JSON.stringify(root)} does not exist or cannot be resolved`, { cause: error });
  }
}

async function checkNode(input: {
  state: LabState;
  node: LabState['nodes'][number];
  namespaces: string[];
  problems: string[];
}): Promise<LabNodeStatus> {
  const { state, node, namespaces, problems } = input;
  const namespaceExists = namespaces.includes(node.namespace);
  if (!namespaceExists) problems.push(`namespace ${node.namespace} is missing`);
  const pid = node.sshdPid;
  const cmdline = pid === undefined ? undefined : await readProcessCmdline(pid);
  const sshdRunning = pid !== undefined && (await isProcessAlive(pid)) && (cmdline ?? '').includes(state.stateDir);
  if (!sshdRunning) problems.push(`sshd of ${node.name} (pid ${pid ?? 'unknown'}) is not running`);
  const sshdAnswers = namespaceExists && (await probeSshBanner(node.ip));
  if (!sshdAnswers) problems.push(`sshd of ${node.name} does not answer on ${node.ip}:22`);
  if (namespaceExists) {
    const links = await listNamespaceLinks(node.namespace);
    const wanted = [
      MGMT_IFNAME,
      ...state.links.flatMap((l) => [l.a, l.b]).filter((e) => e.startsWith(`${node.name}:`)).map((e) => e.slice(node.name.length + 1)),
    ];
    for (const ifname of wanted) {
      if (links.get(ifname) !== true) problems.push(`link ${ifname} in ${node.namespace} is ${links.has(ifname) ? 'down' : 'missing'}`);
    }
  }
  return { name: node.name, namespace: node.namespace, ip: node.ip, namespaceExists, ...(pid === undefined ? {} : { sshdPid: pid }), sshdRunning, sshdAnswers };
}

// Shared by `status` and by `up`'s idempotence check.
export async function inspectLab(realRoot: string): Promise<{ status: LabStatus; state: LabState | undefined }> {
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  const state = await readLabState(paths.stateFile);
  const namespaces = await listLabNamespaces(names.prefix);
  const rootLinks = await listLabRootLinks(names.prefix);
  const problems: string[] = [];
  const nodes: LabNodeStatus[] = [];
  if (!state) {
    problems.push(existsSync(paths.stateFile) ? `${paths.stateFile} is unreadable` : `no lab state at ${paths.stateFile}`);
  } else {
    if (!state.complete) problems.push('the last `lab up` did not finish');
    if (state.root !== realRoot) problems.push(`state.json was written for ${state.root}, not ${realRoot}`);
    for (const link of [state.bridge, ...state.nodes.map((n) => n.rootLink)]) {
      if (!rootLinks.includes(link)) problems.push(`link ${link} is missing from the root namespace`);
    }
    for (const node of state.nodes) nodes.push(await checkNode({ state, node, namespaces, problems }));
    if (!existsSync(state.podYaml)) problems.push(`${state.podYaml} is missing`);
    if (!existsSync(state.knownHosts) || !existsSync(state.keyFile)) problems.push('the client key or known_hosts is missing');
  }
  const podYaml = state && existsSync(state.podYaml) ? state.podYaml : undefined;
  const status: LabStatus = {
    prefix: names.prefix,
    stateDir: paths.stateDir,
    stateComplete: state?.complete === true,
    ...(podYaml ? { podYaml } : {}),
    healthy: problems.length === 0,
    namespaces,
    rootLinks,
    nodes,
    problems,
  };
  return { status, state };
}

// `kvmfornfv-test lab status`: which resources exist and whether each sshd answers.
export async function labStatus(options: LabOptions): Promise<LabStatus> {
  assertRoot();
  const realRoot = await resolveRoot(options.root);
  return (await inspectLab(realRoot)).status;
}
