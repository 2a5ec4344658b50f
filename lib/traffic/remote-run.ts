// Runs one trial's tool on the tgen node as a detached, watched process: a dropped SSH link
// does not kill it, nothing polls the node while it sends, a hung tool is stopped at a deadline
// scaled to the trial, and an abort stops it at once with SIGINT (the trial scripts stop their
// traffic on SIGINT) before the abort is thrown.
import { timeoutFor } from '../remote/timeouts.ts';
import type { DetachedOutcome, DetachedProcess, NodeSession, RemoteCommand } from '../remote/types.ts';

export interface DetachedTrialRun {
  /** Prefix of the detached process name; a counter makes it unique in the run. */
  namePrefix: string;
  command: RemoteCommand;
  /** How long the tool sends traffic; the deadline grows with it. */
  durationS: number;
  label: string;
  signal?: AbortSignal;
}

export interface DetachedTrialOutcome extends DetachedOutcome {
  /** Set when the tool ran past its deadline and was stopped. */
  overran?: string;
}

let counter = 0;

// A detached-process name no other trial of this process uses on any node.
export function nextTrialProcessName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

// Starts the tool, waits for it with a deadline, and collects its output; aborts stop it first.
export async function runDetachedTrial(session: NodeSession, run: DetachedTrialRun): Promise<DetachedTrialOutcome> {
  run.signal?.throwIfAborted();
  const started = await session.startDetached({ name: nextTrialProcessName(run.namePrefix), command: run.command, label: run.label, watch: true });
  const deadline = Date.now() + timeoutFor(run.durationS);
  let end: Awaited<ReturnType<NodeSession['waitForExit']>>;
  try {
    end = await session.waitForExit(started, { deadline, signal: run.signal });
  } catch (e) {
    await stopQuietly(session, started);
    throw e;
  }
  const outcome = await session.stopDetached(started, { signal: 'INT' });
  run.signal?.throwIfAborted();
  // Late news of an exit is no overrun: only a tool that had to be stopped overran.
  if (end !== 'deadline' || !outcome.stopped) return outcome;
  return { ...outcome, overran: `${run.label} ran past its deadline of ${Math.round(timeoutFor(run.durationS) / 1000)} s for a ${run.durationS} s trial` };
}

async function stopQuietly(session: NodeSession, started: DetachedProcess): Promise<void> {
  try {
    await session.stopDetached(started, { signal: 'INT' });
  } catch {
    // The node's cleanup() stops it at the end of the run anyway.
  }
}
