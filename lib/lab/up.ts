// Builds the lab pod: three namespaces with their own sshd on a bridge, data veths
// between them, and a pod.yaml the harness reads like any other pod's.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, LabError } from '../errors.ts';
import { assertOwnedByUs, buildOwnerAlias, teardownLab } from './down.ts';
import { assertRoot, runCommand } from './exec.ts';
import { buildKnownHosts, buildPodYaml, buildSshdConfig } from './files.ts';
import { LAB_CORE_BINARIES, ensureLabPackages } from './packages.ts';
import { buildLabPaths, buildLabPlan, deriveLabNames, MGMT_IFNAME, type LabGuestKind, type LabPlan } from './plan.ts';
import { ensureGuestImage, type GuestImage } from './image/build.ts';
import { inspectLab, resolveRoot, type LabOptions } from './status.ts';
import { LAB_STATE_VERSION, writeLabState, type LabState } from './state.ts';
import { parseTakenNetworks, pickFreeOctet } from './subnet.ts';
import { probeSshBanner } from './system.ts';

export const LAB_UP_STEPS = [
  'packages',
  'state-dir',
  'subnet',
  'keys',
  'bridge',
  'namespaces',
  'management-links',
  'data-links',
  'vm-bridge',
  'sshd',
  'guest-image',
  'pod-yaml',
] as const;
export type LabUpStep = (typeof LAB_UP_STEPS)[number];

export interface LabUpOptions extends LabOptions {
  /** The lab's guest: a QEMU VM each run launches (default), or a namespace on the host's kernel. */
  guest?: LabGuestKind;
  /** Compute groups: a host namespace with its guest each (default 1). */
  computes?: number;
  /** For tests only: throw right after this step, to exercise the cleanup of a failed `up`. */
  failAfterStep?: LabUpStep;
  /** For tests only: stop right after this step without cleaning up, as if `up` had been killed. */
  abandonAfterStep?: LabUpStep;
}

/** Thrown by `abandonAfterStep`; it bypasses the cleanup a real failure gets. */
class AbandonedUp extends LabError {}

export const SSHD_START_TIMEOUT_MS = 15_000;

function buildInitialState(plan: LabPlan): LabState {
  return {
    version: LAB_STATE_VERSION,
    root: plan.root,
    prefix: plan.names.prefix,
    stateDir: plan.paths.stateDir,
    podYaml: plan.paths.podYaml,
    keyFile: plan.paths.keyFile,
    knownHosts: plan.paths.knownHosts,
    managementCidr: plan.managementCidr,
    gateway: plan.gateway,
    interruptCidr: plan.interruptCidr,
    bridge: plan.names.bridge,
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      namespace: n.namespace,
      ip: n.ip,
      rootLink: n.rootLink,
      hostKeyFile: n.hostKeyFile,
      pidFile: n.pidFile,
    })),
    links: plan.links.map((l) => ({ a: `${l.a.node}:${l.a.ifname}`, b: `${l.b.node}:${l.b.ifname}`, purpose: l.purpose })),
    resources: { namespaces: [], rootLinks: [], pids: [] },
    complete: false,
    createdAt: new Date().toISOString(),
    guest: plan.guest,
    computes: plan.computes.length,
  };
}

async function assertCoreBinaries(): Promise<void> {
  const missing = Object.entries(LAB_CORE_BINARIES).filter(([bin]) => !existsSync(bin));
  if (missing.length) {
    throw new LabError(`the lab needs ${missing.map(([bin, pkg]) => `${bin} (package ${pkg})`).join(', ')}, which are not installed`);
  }
}

async function chooseOctet(preferred: number): Promise<number> {
  const addrs = await runCommand(['ip', '-j', '-4', 'addr', 'show']);
  const routes = await runCommand(['ip', '-j', '-4', 'route', 'show']);
  return pickFreeOctet({ preferred, taken: parseTakenNetworks(addrs.stdout, routes.stdout) });
}

async function generateKey(file: string, comment: string): Promise<string> {
  await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return readFile(`${file}.pub`, 'utf8');
}

async function writeKeys(plan: LabPlan): Promise<void> {
  const p = plan.paths;
  const clientPub = await generateKey(p.keyFile, `kvmfornfv-lab ${plan.names.prefix} client`);
  await writeFile(p.authorizedKeys, clientPub, { mode: 0o600 });
  const entries: { ip: string; publicKey: string }[] = [];
  for (const node of plan.nodes) {
    entries.push({ ip: node.ip, publicKey: await generateKey(node.hostKeyFile, `kvmfornfv-lab ${plan.names.prefix} ${node.name}`) });
  }
  await writeFile(p.knownHosts, buildKnownHosts(entries), { mode: 0o644 });
  await writeFile(p.sshdConfig, buildSshdConfig(plan), { mode: 0o600 });
}

async function createDataLinks(plan: LabPlan): Promise<void> {
  const ns = (node: string) => plan.nodes.find((n) => n.name === node)!.namespace;
  for (const link of plan.links) {
    const { a, b } = link;
    await runCommand(['ip', 'link', 'add', a.ifname, 'address', a.mac, 'netns', ns(a.node), 'type', 'veth',
      'peer', 'name', b.ifname, 'address', b.mac, 'netns', ns(b.node)]);
    for (const end of [a, b]) {
      // Namespaces default to disable_ipv6=1 already; set it per link too, before link-up.
      await runCommand(['ip', 'netns', 'exec', ns(end.node), 'sysctl', '-q', '-w', `net.ipv6.conf.${end.ifname}.disable_ipv6=1`]);
      if (end.address) await runCommand(['ip', '-n', ns(end.node), 'addr', 'add', end.address, 'dev', end.ifname]);
    }
    for (const end of [a, b]) await runCommand(['ip', '-n', ns(end.node), 'link', 'set', 'dev', end.ifname, 'up']);
  }
}

// Each VM's NIC meets its interrupt link on a bridge in its host namespace; the launcher adds its tap.
async function createVmBridges(plan: LabPlan): Promise<void> {
  for (const compute of plan.computes) {
    if (!compute.vm) continue;
    const host = plan.nodes.find((n) => n.name === compute.host)!.namespace;
    const bridge = compute.vm.bridge;
    await runCommand(['ip', '-n', host, 'link', 'add', 'name', bridge, 'type', 'bridge']);
    await runCommand(['ip', 'netns', 'exec', host, 'sysctl', '-q', '-w', `net.ipv6.conf.${bridge}.disable_ipv6=1`]);
    await runCommand(['ip', '-n', host, 'link', 'set', 'dev', 'gi', 'master', bridge]);
    await runCommand(['ip', '-n', host, 'link', 'set', 'dev', bridge, 'up']);
  }
}

export async function waitForPidFile(file: string, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(text)) return Number(text.trim());
    await sleep(50);
  }
  throw new LabError(`sshd wrote no pid file ${file} within ${SSHD_START_TIMEOUT_MS / 1000} s`);
}

// One node's sshd, in its namespace, on its address, with the lab's config and host key; it daemonizes.
export async function launchNodeSshd(plan: LabPlan, node: LabPlan['nodes'][number]): Promise<void> {
  await runCommand(['ip', 'netns', 'exec', node.namespace, '/usr/sbin/sshd', '-f', plan.paths.sshdConfig, '-h', node.hostKeyFile,
    '-E', node.logFile, '-o', `ListenAddress=${node.ip}`, '-o', `PidFile=${node.pidFile}`]);
}

/** Waits until the node's sshd shows its banner, or throws naming its log. */
export async function waitForSshBanner(node: LabPlan['nodes'][number], deadline: number): Promise<void> {
  while (!(await probeSshBanner(node.ip, { timeoutMs: 1000 }))) {
    if (Date.now() > deadline) throw new LabError(`sshd of ${node.name} did not answer on ${node.ip}:22 within ${SSHD_START_TIMEOUT_MS / 1000} s; see ${node.logFile}`);
    await sleep(100);
  }
}

async function startSshds(plan: LabPlan, state: LabState, save: () => Promise<void>): Promise<void> {
  // sshd's privilege-separation dir; a system path shared with any other sshd, never removed.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  for (const node of plan.nodes) await launchNodeSshd(plan, node);
  const deadline = Date.now() + SSHD_START_TIMEOUT_MS;
  for (const [i, node] of plan.nodes.entries()) {
    const pid = await waitForPidFile(node.pidFile, deadline);
    state.nodes[i]!.sshdPid = pid;
    state.resources.pids.push(pid);
    await save();
  }
  for (const node of plan.nodes) await waitForSshBanner(node, deadline);
}

// `kvmfornfv-test lab up`: idempotent; a broken or half-built lab is rebuilt.
export async function labUp(options: LabUpOptions): Promise<LabState> {
  assertRoot();
  const log = options.log ?? (() => {});
  const realRoot = await resolveRoot(options.root);
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  const { status, state: existing } = await inspectLab(realRoot);
  const wanted = { guest: options.guest ?? 'vm', computes: options.computes ?? 1 };
  const has = { guest: existing?.guest ?? 'namespace', computes: existing?.computes ?? 1 };
  const same = has.guest === wanted.guest && has.computes === wanted.computes;
  if (existing && status.healthy && same) {
    log(`lab: ${names.prefix} is already up (${existing.podYaml})`);
    return existing;
  }
  if (existing && status.healthy) status.problems.push(`it has ${has.computes} compute group(s) with ${has.guest} guests; asked for ${wanted.computes} with ${wanted.guest} guests`);
  await assertOwnedByUs(realRoot);
  if (existing || status.namespaces.length || status.rootLinks.length || existsSync(paths.stateDir)) {
    log(`lab: removing the lab ${names.prefix} first: ${status.problems.slice(0, 3).join('; ')}`);
    await teardownLab(realRoot, log);
  }

  let step: LabUpStep = 'packages';
  let plan: LabPlan | undefined;
  let state: LabState | undefined;
  const save = async () => {
    if (state) await writeLabState(paths.stateFile, state);
  };
  const run = async (name: LabUpStep, fn: () => Promise<void>) => {
    step = name;
    log(`lab: ${name}`);
    await fn();
    if (options.failAfterStep === name) throw new LabError(`injected failure after step "${name}" (failAfterStep)`);
    if (options.abandonAfterStep === name) throw new AbandonedUp(`lab up abandoned after step "${name}" (abandonAfterStep); the partial lab was left in place`);
  };
  try {
    await run('packages', async () => {
      if (options.installPackages !== false) {
        const installed = await ensureLabPackages(log);
        if (installed.length) log(`lab: installed ${installed.join(' ')}`);
      }
      await assertCoreBinaries();
    });
    await run('state-dir', async () => {
      await mkdir(paths.logDir, { recursive: true, mode: 0o700 });
    });
    await run('subnet', async () => {
      plan = buildLabPlan({ realRoot, octet: await chooseOctet(names.preferredOctet), cpuCount: cpus().length, guest: wanted.guest, computes: wanted.computes });
      state = buildInitialState(plan);
      await save();
      log(`lab: management network ${plan.managementCidr}`);
    });
    const p = plan!;
    const s = state!;
    await run('keys', () => writeKeys(p));
    await run('bridge', async () => {
      s.resources.rootLinks.push(p.names.bridge);
      await save();
      await runCommand(['ip', 'link', 'add', 'name', p.names.bridge, 'type', 'bridge']);
      await runCommand(['ip', 'link', 'set', 'dev', p.names.bridge, 'alias', buildOwnerAlias(p.names.rootHash)]);
      await runCommand(['ip', 'addr', 'add', `${p.gateway}/24`, 'dev', p.names.bridge]);
      await runCommand(['ip', 'link', 'set', 'dev', p.names.bridge, 'up']);
    });
    await run('namespaces', async () => {
      for (const node of p.nodes) {
        s.resources.namespaces.push(node.namespace);
        await save();
        await runCommand(['ip', 'netns', 'add', node.namespace]);
        await runCommand(['ip', '-n', node.namespace, 'link', 'set', 'dev', 'lo', 'up']);
        // Every interface created in the namespace from now on starts with IPv6 off.
        await runCommand(['ip', 'netns', 'exec', node.namespace, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
      }
    });
    await run('management-links', async () => {
      for (const node of p.nodes) {
        s.resources.rootLinks.push(node.rootLink);
        await save();
        await runCommand(['ip', 'link', 'add', node.rootLink, 'type', 'veth', 'peer', 'name', MGMT_IFNAME, 'netns', node.namespace]);
        await runCommand(['ip', 'link', 'set', 'dev', node.rootLink, 'master', p.names.bridge]);
        await runCommand(['ip', 'link', 'set', 'dev', node.rootLink, 'up']);
        await runCommand(['ip', '-n', node.namespace, 'addr', 'add', `${node.ip}/24`, 'dev', MGMT_IFNAME]);
        await runCommand(['ip', '-n', node.namespace, 'link', 'set', 'dev', MGMT_IFNAME, 'up']);
      }
    });
    await run('data-links', () => createDataLinks(p));
    await run('vm-bridge', () => createVmBridges(p));
    await run('sshd', () => startSshds(p, s, save));
    let image: GuestImage | undefined;
    await run('guest-image', async () => {
      if (p.guest === 'vm') image = await ensureGuestImage({ log });
    });
    await run('pod-yaml', () => writeFile(p.paths.podYaml, buildPodYaml(p, image), { mode: 0o644 }));
    s.complete = true;
    await save();
    log(`lab: ${p.names.prefix} is up; pod file ${p.paths.podYaml}`);
    return s;
  } catch (error) {
    if (error instanceof AbandonedUp) throw error;
    const why = describeError(error);
    try {
      await teardownLab(realRoot, log);
    } catch (cleanupError) {
      throw new LabError(`lab up failed at step "${step}": ${why}; removing the partial lab also failed: ${describeError(cleanupError)}`, {
        cause: error,
      });
    }
    throw new LabError(`lab up failed at step "${step}": ${why}; the partial lab was removed`, { cause: error });
  }
}
