// A run locks every node it can reach, so that a nightly run and a gate job never measure
// one pod at once. Nodes that cannot be reached are left to the cases, which report them
// as errors; a lock held by another run fails the run at once, naming the holder.
// Launched guests are covered by their host's lock.
//
// Holding a node's lock also makes the run the owner of the node's undo logs: any other run's
// log there belongs to a run that died without cleaning up (SIGKILL, OOM, its machine gone), so
// it is undone first (lib/undo/recover.ts), and then this run's own log is opened.
import type { Pod } from '../config/pod-model.ts';
import type { NodeSessions } from '../harness/node-sessions.ts';
import { acquirePodLock, type PodLock, type PodLockOptions } from '../lock/pod-lock.ts';
import type { NodeSession } from '../remote/types.ts';
import type { UndoLogs } from '../undo/journal.ts';
import { describeRecovery, hasLeftovers, recoverNode, type NodeRecovery } from '../undo/recover.ts';

export interface TakenPod {
  lock: PodLock | undefined;
  /** What dead runs had left on each locked node, and what of it was undone. */
  recoveries: NodeRecovery[];
}

export async function lockPod(args: {
  pod: Pod;
  sessions: Pick<NodeSessions, 'session'>;
  runId: string;
  buildTag: string;
  log: (line: string) => void;
  /** The lease ran out and another run took a node: this run is no longer alone on the pod. */
  onLost: (node: string, detail: string) => void;
  /** This run's undo logs, opened on every locked node once dead runs' logs there are undone. */
  undoLogs?: UndoLogs;
  lockOptions?: Omit<PodLockOptions, 'log' | 'onLost'>;
}): Promise<TakenPod> {
  const reachable: NodeSession[] = [];
  // A guest this run launches does not exist yet; locking its host covers it.
  for (const node of args.pod.nodes.filter((n) => n.role !== 'other' && n.launch === undefined)) {
    try {
      reachable.push(await args.sessions.session(node));
    } catch {
      args.log(`pod lock: ${node.name} is not reachable now; its cases will say why`);
    }
  }
  if (reachable.length === 0) return { lock: undefined, recoveries: [] };
  // One lock file per node whatever the pod file calls the pod: two pod files that share a
  // node still exclude each other, and so do two lab pods on one machine (they share its CPUs).
  const lock = await acquirePodLock(reachable, { runId: args.runId, buildTag: args.buildTag }, { ...args.lockOptions, log: args.log, onLost: args.onLost });
  const recoveries: NodeRecovery[] = [];
  try {
    for (const session of reachable) {
      const recovery = await recoverNode(session, { ownRunId: args.runId });
      for (const line of describeRecovery(recovery)) args.log(`undo of a dead run: ${line}`);
      recoveries.push(recovery);
      await args.undoLogs?.open(session);
    }
  } catch (error) {
    await lock.release().catch(() => {});
    throw error;
  }
  return { lock, recoveries };
}

// The run's notes: a dead run's leftovers change what this run measures, so the reports say so.
export function describeRecoveries(recoveries: readonly NodeRecovery[]): string[] {
  return recoveries.flatMap((r) => describeRecovery(r).map((line) => `a run that died without cleaning up was undone on ${line}${hasLeftovers(r) ? ' (the pod may still differ from its state before that run)' : ''}`));
}
