// Undoing a run that cannot undo itself any more (killed with SIGKILL, the OOM killer, its
// machine gone) from the undo log it kept on each node: called by the next run once it holds
// a node's lock, and by `kvmfornfv-test cleanup`. Also the forced exit's last resort for the
// run's own changes.
import { describeError } from '../errors.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildRecoverScript, DEFAULT_UNDO_ROOT, parseRecoverReport, type RecoveredLog } from './scripts.ts';

export interface NodeRecovery {
  node: string;
  logs: RecoveredLog[];
  /** Why the recovery could not run or did not finish. */
  error?: string;
}

export interface RecoverOptions {
  /** The run that holds the node's lock now. */
  ownRunId: string;
  /** `others` (default): dead runs' logs; `own`: this run's (the forced exit). */
  which?: 'others' | 'own';
  root?: string;
  /** How long stopped processes get after SIGINT before SIGKILL. Default 5 s. */
  graceMs?: number;
  /** How long the whole recovery on the node may take. Default 15 min (each undo command may take 2). */
  timeoutMs?: number;
}

// Never throws: a node whose recovery failed is reported, the other nodes are still recovered.
export async function recoverNode(session: NodeSession, options: RecoverOptions): Promise<NodeRecovery> {
  const graceMs = options.graceMs ?? 5_000;
  const script = buildRecoverScript({ root: options.root ?? DEFAULT_UNDO_ROOT, ownRunId: options.ownRunId, which: options.which ?? 'others', graceMs });
  const node = session.node.name;
  try {
    const r = await session.exec({ script }, { reject: false, label: options.which === 'own' ? 'undo this run' : 'undo dead runs', timeoutMs: options.timeoutMs ?? 15 * 60_000 });
    const report = parseRecoverReport(r.stdout);
    if (!report.complete) return { node, logs: report.logs, error: `the recovery did not finish (${r.timedOut ? 'timed out' : `exit code ${r.exitCode}`}): ${r.stderr.trim().slice(0, 300)}` };
    return { node, logs: report.logs };
  } catch (error) {
    return { node, logs: [], error: describeError(error) };
  }
}

/** True when something recorded on the node is still not undone. */
export function hasLeftovers(recovery: NodeRecovery): boolean {
  return recovery.error !== undefined || recovery.logs.some((l) => !l.removed);
}

// One line per dead run's log, for the run log, the run's notes and the cleanup command.
export function describeRecovery(recovery: NodeRecovery): string[] {
  const lines = recovery.logs.map((l) => {
    const done = [
      l.stopped.length > 0 ? `stopped ${l.stopped.length} process(es) (${l.stopped.join(', ')})${l.killed.length > 0 ? `, ${l.killed.length} with SIGKILL` : ''}` : 'no process left running',
      l.undone.length > 0 ? `undid ${l.undone.join('; ')}` : 'no pod change left to undo',
    ].join('; ');
    const failed = l.failed.map((f) => `could not undo ${f.label}${f.why ? ` (${f.why})` : ''}`).join('; ');
    return `${recovery.node}: run ${l.runId} (log of ${l.node}): ${done}${failed ? `; ${failed}: still recorded, tried again next time` : ''}`;
  });
  if (recovery.error) lines.push(`${recovery.node}: the undo of dead runs failed: ${recovery.error}`);
  return lines;
}
