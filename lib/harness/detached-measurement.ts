// Runs one long measurement detached on a node and waits for it with progress. An
// abort or an overrun stops it with SIGINT, so the tool still prints what it measured;
// the stop is registered as an undo step before the start, so no path leaves it running.
import type { CaseContext } from './case-context.ts';
import type { DetachedOutcome, NodeSession, RemoteCommand } from '../remote/types.ts';
import { MeasurementError } from '../errors.ts';
import { watchDetached } from '../remote/watch-detached.ts';

export interface DetachedMeasurement {
  name: string;
  command: RemoteCommand;
  /** How long the tool measures by itself. */
  durationS: number;
  /** Extra time allowed for start-up and the tool's own summary. */
  slackS?: number;
  label: string;
  /** Poll interval; tests shorten it. */
  pollMs?: number;
}

export interface MeasurementOutcome extends DetachedOutcome {
  /** Why the measurement ended early, when it did. */
  interrupted?: string;
}

export async function runDetachedMeasurement(ctx: CaseContext, session: NodeSession, m: DetachedMeasurement): Promise<MeasurementOutcome> {
  let started: Awaited<ReturnType<NodeSession['startDetached']>> | undefined;
  let collected = false;
  const unregister = ctx.cleanup.push(`stop ${m.name} on ${session.node.name}`, async () => {
    if (started && !collected) await session.stopDetached(started, { signal: 'INT', graceMs: 5_000 });
  });
  started = await session.startDetached({ name: m.name, command: m.command, label: m.label });
  const task = ctx.progress.start(`${m.label} on ${session.node.name}`, m.durationS);
  const begin = Date.now();
  const deadline = begin + (m.durationS + (m.slackS ?? Math.max(30, m.durationS * 0.5))) * 1000;
  let interrupted: string | undefined;
  try {
    const end = await watchDetached(session, started, {
      deadline,
      signal: ctx.signal,
      pollMs: m.pollMs,
      onTick: () => task.update((Date.now() - begin) / 1000),
    });
    if (end === 'aborted') interrupted = 'the run was aborted';
    if (end === 'deadline') interrupted = `it ran past its ${m.durationS} s duration plus slack`;
  } finally {
    task.done(interrupted ? `stopped early: ${interrupted}` : undefined);
  }
  const outcome = await session.stopDetached(started, { signal: 'INT', graceMs: 10_000 });
  collected = true;
  unregister();
  return interrupted ? { ...outcome, interrupted } : outcome;
}

/** Throws when the outcome cannot be trusted as a full measurement; keeps the cause readable. */
export function requireCompleteMeasurement(outcome: MeasurementOutcome, what: string): void {
  if (outcome.interrupted) throw new MeasurementError(`${what} was stopped before the end: ${outcome.interrupted}; its partial output is kept in the raw outputs`);
  if (outcome.exitCode !== 0) {
    const tail = outcome.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new MeasurementError(`${what} exited with ${outcome.exitCode ?? 'no exit code'}${tail ? `: ${tail}` : ''}`);
  }
}
