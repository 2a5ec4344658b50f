// A run locks the nodes it uses, so that a nightly run and a gate job never measure one node at
// once. Each compute group (a host and its guests) is locked on its own, and the shared nodes
// (the traffic generator) together: two runs on disjoint computes of one pod both proceed,
// while a group another run holds is left alone and its cases say who holds it. When every
// group is held, the run fails fast naming the holder. Nodes that cannot be reached are left
// to the cases, which report them as errors. Launched guests are covered by their host's lock.
import { computeGroups } from '../config/pod-groups.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { NodeSessions } from '../harness/node-sessions.ts';
import { acquirePodLock, PodLockError, type PodLock } from '../lock/pod-lock.ts';
import type { LockOwner } from '../lock/owner.ts';
import type { NodeSession } from '../remote/types.ts';

export interface RunLocks {
  /** Groups left alone because another run holds them (or their lock failed), with why. */
  readonly refused: ReadonlyArray<{ unit: string; reason: string }>;
  release(): Promise<void>;
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
  sessions: NodeSessions;
  runId: string;
  buildTag: string;
  log: (line: string) => void;
  /** The lease ran out and another run took a node: this run is no longer alone on the pod. */
  onLost: (node: string, detail: string) => void;
  /** Default /run/kvmfornfv on each node (tests give temporary folders). */
  lockDir?: (node: PodNode) => string;
}): Promise<RunLocks> {
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
  for (const unit of units) {
    const reachable = unit.lockable.map((n) => sessions.get(n.name)).filter((s): s is NodeSession => s !== undefined);
    if (reachable.length === 0) continue;
    try {
      // One lock file per node whatever the pod file calls the pod: two pod files that share a
      // node still exclude each other, and so do two lab pods on one machine (they share its CPUs).
      const lock = await acquirePodLock(reachable, { runId: args.runId, buildTag: args.buildTag }, {
        log: args.log,
        onLost: args.onLost,
        ...(owner ? { owner } : {}),
        ...(args.lockDir ? { lockDir: args.lockDir } : {}),
      });
      owner = lock.owner;
      held.push(lock);
    } catch (error) {
      refused.push({ unit: unit.name, reason: describeError(error), error });
      if (units.length === 1) throw error;
      args.log(`pod lock: group ${unit.name} is left alone: ${describeError(error)}`);
      const why = new PodLockError(unit.name, `not measured by this run: ${describeError(error)}`, { cause: error });
      for (const node of unit.nodes) args.sessions.markUnavailable(node, why);
      for (const guest of args.pod.nodes.filter((n) => n.launch !== undefined && unit.nodes.some((h) => h.name === n.hostNode))) args.sessions.markUnavailable(guest, why);
    }
  }
  const release = async () => {
    const problems: string[] = [];
    for (const lock of held.reverse()) await lock.release().catch((e: unknown) => problems.push(describeError(e)));
    if (problems.length > 0) throw new Error(problems.join('; '));
  };
  // Every group held by another run: nothing to measure, fail fast as one lock would.
  if (held.length === 0 && refused.length > 0) throw refused[0]?.error;
  return { refused: refused.map(({ unit, reason }) => ({ unit, reason })), release };
}
