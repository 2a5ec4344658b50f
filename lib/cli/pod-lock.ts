// A run locks the nodes it uses, so that a nightly run and a gate job never measure one node at
// once. Each compute group (a host and its guests) is locked on its own, and the shared nodes
// (the traffic generator) together: two runs on disjoint computes of one pod both proceed,
// while a group another run holds is left alone and its cases say who holds it. When every
// group is held, the run fails fast naming the holder. Nodes that cannot be reached are left
// to the cases, which report them as errors. Launched guests are covered by their host's lock.
//
// Holding a node's lock also makes the run the owner of the node's undo logs: any other run's
// log there belongs to a run that died without cleaning up (SIGKILL, OOM, its machine gone), so
// it is undone first (lib/undo/recover.ts), and then this run's own log is opened.
import { computeGroups } from '../config/pod-groups.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { NodeSessions } from '../harness/node-sessions.ts';
import { acquirePodLock, PodLockError, type PodLock, type PodLockOptions } from '../lock/pod-lock.ts';
import type { LockOwner } from '../lock/owner.ts';
import type { NodeSession } from '../remote/types.ts';
import type { UndoLogs } from '../undo/journal.ts';
import { describeRecovery, hasLeftovers, recoverNode, type NodeRecovery } from '../undo/recover.ts';

export interface RunLocks {
  /** Groups left alone because another run holds them (or their lock failed), with why. */
  readonly refused: ReadonlyArray<{ unit: string; reason: string }>;
  release(): Promise<void>;
}

export interface TakenPod {
  lock: RunLocks | undefined;
  /** What dead runs had left on each locked node, and what of it was undone. */
  recoveries: NodeRecovery[];
}

interface LockUnit {
  name: string;
  /** Every node of the unit: all are left alone when its lock is refused. */
  nodes: PodNode[];
  /** The nodes whose lock file is taken. */
  lockable: PodNode[];
}

// The groups, then the shared nodes; one unit for a pod of one group, as one lock always was.
function lockUnits(pod: Pod): LockUnit[] {
  const lockable = (nodes: readonly PodNode[]) => nodes.filter((n) => n.role !== 'other' && n.launch === undefined);
  const { groups, shared } = computeGroups(pod);
  if (groups.length <= 1) return [{ name: pod.name, nodes: [...pod.nodes], lockable: lockable(pod.nodes) }];
  const units = groups.map((g) => ({ name: g.name, nodes: g.nodes, lockable: lockable(g.nodes) }));
  if (lockable(shared).length > 0) units.push({ name: shared.map((n) => n.name).join('+'), nodes: shared, lockable: lockable(shared) });
  return units;
}

export async function lockPod(args: {
  pod: Pod;
  /** markUnavailable: a refused group's nodes are left alone (absent for `cleanup`, which has one unit). */
  sessions: Pick<NodeSessions, 'session'> & Partial<Pick<NodeSessions, 'markUnavailable'>>;
  runId: string;
  buildTag: string;
  log: (line: string) => void;
  /** The lease ran out and another run took a node: this run is no longer alone on the pod. */
  onLost: (node: string, detail: string) => void;
  /** This run's undo logs, opened on every locked node once dead runs' logs there are undone. */
  undoLogs?: UndoLogs;
  /** Default /run/kvmfornfv on each node (tests give temporary folders), lease and heartbeat. */
  lockOptions?: Omit<PodLockOptions, 'log' | 'onLost' | 'owner'>;
  /** Default /run/kvmfornfv/undo on each node; tests whose nodes are this machine give their own. */
  undoRoot?: string;
}): Promise<TakenPod> {
  const held: PodLock[] = [];
  const refused: Array<{ unit: string; reason: string; error: unknown }> = [];
  let owner: LockOwner | undefined;
  const units = lockUnits(args.pod);
  // Every node is connected at once: with many computes, one after another would add up.
  const sessions = new Map<string, NodeSession | undefined>();
  await Promise.all(
    units.flatMap((u) => u.lockable).map(async (node) => {
      try {
        sessions.set(node.name, await args.sessions.session(node));
      } catch {
        args.log(`pod lock: ${node.name} is not reachable now; its cases will say why`);
      }
    }),
  );
  const locked: NodeSession[] = [];
  for (const unit of units) {
    const reachable = unit.lockable.map((n) => sessions.get(n.name)).filter((s): s is NodeSession => s !== undefined);
    if (reachable.length === 0) continue;
    try {
      // One lock file per node whatever the pod file calls the pod: two pod files that share a
      // node still exclude each other, and so do two lab pods on one machine (they share its CPUs).
      const lock = await acquirePodLock(reachable, { runId: args.runId, buildTag: args.buildTag }, {
        ...args.lockOptions,
        log: args.log,
        onLost: args.onLost,
        ...(owner ? { owner } : {}),
      });
      owner = lock.owner;
      held.push(lock);
      locked.push(...reachable);
    } catch (error) {
      refused.push({ unit: unit.name, reason: describeError(error), error });
      if (units.length === 1) throw error;
      args.log(`pod lock: group ${unit.name} is left alone: ${describeError(error)}`);
      const why = new PodLockError(unit.name, `not measured by this run: ${describeError(error)}`, { cause: error });
      for (const node of unit.nodes) args.sessions.markUnavailable?.(node, why);
      for (const guest of args.pod.nodes.filter((n) => n.launch !== undefined && unit.nodes.some((h) => h.name === n.hostNode))) args.sessions.markUnavailable?.(guest, why);
    }
  }
  const release = async () => {
    const problems: string[] = [];
    for (const lock of [...held].reverse()) await lock.release().catch((e: unknown) => problems.push(describeError(e)));
    if (problems.length > 0) throw new Error(problems.join('; '));
  };
  // Every group held by another run: nothing to measure, fail fast as one lock would.
  if (held.length === 0 && refused.length > 0) throw refused[0]?.error;
  if (held.length === 0) return { lock: undefined, recoveries: [] };
  const recoveries: NodeRecovery[] = [];
  try {
    for (const session of locked) {
      const recovery = await recoverNode(session, { ownRunId: args.runId, ...(args.undoRoot ? { root: args.undoRoot } : {}) });
      for (const line of describeRecovery(recovery)) args.log(`undo of a dead run: ${line}`);
      recoveries.push(recovery);
      await args.undoLogs?.open(session);
    }
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
  return { lock: { refused: refused.map(({ unit, reason }) => ({ unit, reason })), release }, recoveries };
}

// The run's notes: a dead run's leftovers change what this run measures, so the reports say so.
export function describeRecoveries(recoveries: readonly NodeRecovery[]): string[] {
  return recoveries.flatMap((r) => describeRecovery(r).map((line) => `a run that died without cleaning up was undone on ${line}${hasLeftovers(r) ? ' (the pod may still differ from its state before that run)' : ''}`));
}
