// Removes a lab completely: processes, namespaces, links, mounts and the state dir.
// Works from state.json when present and always also discovers by prefix, so a
// failed `up` or a lost state file still leaves nothing behind.

import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../errors.ts';
import { assertRoot, runCommand } from './exec.ts';
import { buildLabPaths, deriveLabNames } from './plan.ts';
import { readLabState } from './state.ts';
import { DEFAULT_UNDO_ROOT } from '../undo/scripts.ts';
import { resolveRoot, type LabOptions } from './status.ts';
import {
  findLabMounts,
  findPidsByCmdline,
  killProcesses,
  listLabNamespaces,
  listLabRootLinks,
  listNamespacePids,
  readLinkAlias,
} from './system.ts';

export interface LabDownReport {
  prefix: string;
  stateDir: string;
  /** Whether state.json was found and used besides discovery by prefix. */
  usedStateFile: boolean;
  killedPids: number[];
  deletedNamespaces: string[];
  deletedLinks: string[];
  removedStateDir: boolean;
  /** True when there was nothing to remove. */
  nothingFound: boolean;
}

/** Written as the bridge's alias: says which checkout owns the prefix. */
export function buildOwnerAlias(rootHash: string): string {
  return `kvmfornfv-lab:${rootHash}`;
}

const union = <T>(...lists: T[][]): T[] => [...new Set(lists.flat())];

// Refuses to touch resources of another checkout whose path hashes to the same prefix.
export async function assertOwnedByUs(realRoot: string): Promise<void> {
  const names = deriveLabNames(realRoot);
  const alias = await readLinkAlias(names.bridge);
  if (alias !== undefined && alias !== buildOwnerAlias(names.rootHash)) {
    throw new LabError(
      `lab resources with prefix ${names.prefix} belong to another checkout (bridge ${names.bridge} alias ${JSON.stringify(alias)}); ` +
        'remove that lab from its own checkout',
    );
  }
}

// The teardown shared by `down` and by a failed `up`.
export async function teardownLab(realRoot: string, log: (line: string) => void): Promise<LabDownReport> {
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  await assertOwnedByUs(realRoot);
  const state = await readLabState(paths.stateFile);
  // What state.json recorded plus whatever else carries the prefix, limited to what exists.
  const existingNamespaces = await listLabNamespaces(names.prefix);
  const namespaces = union(state?.resources.namespaces ?? [], existingNamespaces).filter((ns) => existingNamespaces.includes(ns));

  // Processes first: a namespace with live processes outlives `ip netns del`. Recorded
  // sshd pids are not trusted alone (a pid may be reused); they are found again by
  // namespace or by the state dir on their command line. Rounds catch late forks.
  const killedPids: number[] = [];
  for (let round = 0; round < 3; round++) {
    const nsPids = (await Promise.all(existingNamespaces.map(listNamespacePids))).flat();
    const pids = union(nsPids, await findPidsByCmdline(`${paths.stateDir}/`));
    if (!pids.length) break;
    log(`lab: stopping ${pids.length} process(es) of ${names.prefix}: ${pids.join(' ')}`);
    const survivors = await killProcesses(pids);
    if (survivors.length) throw new LabError(`lab down: processes ${survivors.join(', ')} survived SIGKILL`);
    killedPids.push(...pids);
  }

  // Root ends of the management veths go before the namespaces: deleting a veth end
  // removes its peer at once, while a deleted namespace frees its veths asynchronously.
  // The bridge goes last: it is the ownership marker.
  const deletedLinks: string[] = [];
  const deleteLink = async (link: string) => {
    log(`lab: deleting link ${link}`);
    const r = await runCommand(['ip', 'link', 'del', 'dev', link], { allowFailure: true });
    if (!r.failed) deletedLinks.push(link);
    else if (!r.stderr.includes('Cannot find device')) throw new LabError(`\`${r.command}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
  };
  const present = await listLabRootLinks(names.prefix);
  const links = union(state?.resources.rootLinks ?? [], present).filter((l) => present.includes(l));
  for (const link of links.filter((l) => l !== names.bridge)) await deleteLink(link);

  // The undo logs of runs on these nodes go with them: a later namespace could reuse the inode.
  await removeUndoLogsOf(namespaces, log);

  const deletedNamespaces: string[] = [];
  for (const ns of namespaces) {
    log(`lab: deleting namespace ${ns}`);
    await runCommand(['ip', 'netns', 'del', ns]);
    deletedNamespaces.push(ns);
  }
  if (links.includes(names.bridge)) await deleteLink(names.bridge);

  const removedStateDir = existsSync(paths.stateDir);
  await rm(paths.stateDir, { recursive: true, force: true });

  await verifyGone(realRoot);
  return {
    prefix: names.prefix,
    stateDir: paths.stateDir,
    usedStateFile: state !== undefined,
    killedPids,
    deletedNamespaces,
    deletedLinks,
    removedStateDir,
    nothingFound: !killedPids.length && !deletedNamespaces.length && !deletedLinks.length && !removedStateDir,
  };
}

// Undo logs (lib/undo) whose network namespace is one of the lab's: their runs' processes and
// changes die with the namespaces, and a later namespace could be given the same inode.
export async function removeUndoLogsOf(namespaces: readonly string[], log: (line: string) => void, where: { root?: string; netnsDir?: string } = {}): Promise<void> {
  const root = where.root ?? DEFAULT_UNDO_ROOT;
  const netnsDir = where.netnsDir ?? '/run/netns';
  const nets = new Set(namespaces.flatMap((ns) => (existsSync(join(netnsDir, ns)) ? [`net:[${statSync(join(netnsDir, ns)).ino}]`] : [])));
  for (const run of existsSync(root) ? await readdir(root) : []) {
    for (const node of await readdir(join(root, run)).catch(() => [] as string[])) {
      const context = await readFile(join(root, run, node, 'context'), 'utf8').catch(() => '');
      if (!nets.has(context.trim().split(' ')[1] ?? '')) continue;
      log(`lab: removing the undo log of run ${run} on ${node}`);
      await rm(join(root, run, node), { recursive: true, force: true });
    }
    await rmdir(join(root, run)).catch(() => {});
  }
}

// After teardown nothing carrying the prefix or the state dir may remain. The kernel
// frees a deleted namespace's devices asynchronously, hence the short wait.
async function verifyGone(realRoot: string): Promise<void> {
  const names = deriveLabNames(realRoot);
  const paths = buildLabPaths(realRoot);
  const deadline = Date.now() + 5000;
  for (;;) {
    const left: string[] = [];
    for (const ns of await listLabNamespaces(names.prefix)) left.push(`namespace ${ns}`);
    for (const link of await listLabRootLinks(names.prefix)) left.push(`link ${link}`);
    for (const pid of await findPidsByCmdline(`${paths.stateDir}/`)) left.push(`process ${pid}`);
    for (const m of await findLabMounts([`/run/netns/${names.prefix}-`, paths.stateDir])) left.push(`mount ${m}`);
    if (existsSync(paths.stateDir)) left.push(`directory ${paths.stateDir}`);
    if (!left.length) return;
    if (Date.now() > deadline) throw new LabError(`lab down left resources behind: ${left.join(', ')}`);
    await sleep(100);
  }
}

// `kvmfornfv-test lab down`: safe to run twice, and after a failed `up`.
export async function labDown(options: LabOptions): Promise<LabDownReport> {
  assertRoot();
  const realRoot = await resolveRoot(options.root);
  return teardownLab(realRoot, options.log ?? (() => {}));
}
