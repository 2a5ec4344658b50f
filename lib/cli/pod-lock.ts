// A run locks every node it can reach, so that a nightly run and a gate job never measure
// one pod at once. Nodes that cannot be reached are left to the cases, which report them
// as errors; a lock held by another run fails the run at once, naming the holder.
// Launched guests are covered by their host's lock.
import type { Pod } from '../config/pod-model.ts';
import type { NodeSessions } from '../harness/node-sessions.ts';
import { acquirePodLock, type PodLock } from '../lock/pod-lock.ts';
import type { NodeSession } from '../remote/types.ts';

export async function lockPod(args: {
  pod: Pod;
  sessions: NodeSessions;
  runId: string;
  buildTag: string;
  log: (line: string) => void;
  /** The lease ran out and another run took a node: this run is no longer alone on the pod. */
  onLost: (node: string, detail: string) => void;
}): Promise<PodLock | undefined> {
  const reachable: NodeSession[] = [];
  // A guest this run launches does not exist yet; locking its host covers it.
  for (const node of args.pod.nodes.filter((n) => n.role !== 'other' && n.launch === undefined)) {
    try {
      reachable.push(await args.sessions.session(node));
    } catch {
      args.log(`pod lock: ${node.name} is not reachable now; its cases will say why`);
    }
  }
  if (reachable.length === 0) return undefined;
  // One lock file per node whatever the pod file calls the pod: two pod files that share a
  // node still exclude each other, and so do two lab pods on one machine (they share its CPUs).
  return acquirePodLock(reachable, { runId: args.runId, buildTag: args.buildTag }, { log: args.log, onLost: args.onLost });
}
