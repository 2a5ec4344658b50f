// Runs one long measurement detached on a node and waits for it with progress. Nothing runs
// on the node while it measures: the end arrives on the idle channel of its watched start,
// and the progress line is computed here from the start time. An abort or an overrun stops
// it with SIGINT (then SIGTERM, then SIGKILL), so a tool that can still prints what it
// measured; the stop is registered as an undo step before the start, so no path leaves it running.
import type { CaseContext } from './case-context.ts';
import type { DetachedOutcome, NodeSession, RemoteCommand, WatchEnd } from '../remote/types.ts';
import { MeasurementError } from '../errors.ts';

export interface DetachedMeasurement {
  name: string;
  command: RemoteCommand;
  /** How long the tool measures by itself. */
  durationS: number;
  /** Extra time allowed for start-up and the tool's own summary; default measurementSlackS. */
  slackS?: number;
  label: string;
}

export interface MeasurementOutcome extends DetachedOutcome {
  /** Why the measurement ended early or had to be stopped, when it did. */
  interrupted?: string;
  /** The command as given, for messages. */
  command: string;
}

/** The time a tool may run past its duration before it counts as hung: 10 s plus 10 %. */
export function measurementSlackS(durationS: number): number {
  return 10 + Math.ceil(durationS * 0.1);
}

// Start, wait without polling, stop and collect: the whole life of one measurement.
export async function runDetachedMeasurement(ctx: CaseContext, session: NodeSession, m: DetachedMeasurement): Promise<MeasurementOutcome> {
  let started: Awaited<ReturnType<NodeSession['startDetached']>> | undefined;
  let collected = false;
  const unregister = ctx.cleanup.push(`stop ${m.name} on ${session.node.name}`, async () => {
    if (started && !collected) await session.stopDetached(started, { signal: 'INT' });
  });
  const command = Array.isArray(m.command) ? m.command.join(' ') : (m.command as { script: string }).script;
  const slackS = m.slackS ?? measurementSlackS(m.durationS);
  const task = await ctx.phase('measure', async () => {
    started = await session.startDetached({ name: m.name, command: m.command, label: m.label, watch: true });
    return ctx.progress.start(`${m.label} on ${session.node.name}`, m.durationS);
  });
  const process = started!;
  const begin = Date.now();
  const ticker = setInterval(() => task.update((Date.now() - begin) / 1000), 1000);
  let end: WatchEnd;
  try {
    end = await ctx.phase('measure', () => session.waitForExit(process, { deadline: begin + (m.durationS + slackS) * 1000, signal: ctx.signal }));
  } finally {
    clearInterval(ticker);
  }
  const outcome = await ctx.phase('collect', () => session.stopDetached(process, { signal: 'INT' }));
  collected = true;
  unregister();
  if (outcome.window) ctx.recordWindow(session.node.name, m.label, outcome.window);
  let interrupted: string | undefined;
  if (end === 'aborted') interrupted = 'the run was aborted';
  // A tool whose end arrived late but that had exited by itself measured in full.
  if (end === 'deadline' && outcome.stopped) {
    const how = outcome.escalatedTo ? `it ignored SIGINT and was stopped with SIG${outcome.escalatedTo}` : 'it was stopped with SIGINT';
    interrupted = `it did not end by itself within its ${m.durationS} s duration plus ${slackS} s; ${how}`;
  }
  task.done(interrupted ? `stopped early: ${interrupted}` : undefined);
  return { ...outcome, command, ...(interrupted ? { interrupted } : {}) };
}

/** Throws when the outcome cannot be trusted as a full measurement; keeps the cause readable. */
export function requireCompleteMeasurement(outcome: MeasurementOutcome, what: string): void {
  if (outcome.interrupted) {
    throw new MeasurementError(`${what} was stopped before the end: ${outcome.interrupted}; its partial output is kept in the raw outputs; command: ${outcome.command}`);
  }
  if (outcome.exitCode !== 0) {
    const tail = outcome.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new MeasurementError(`${what} exited with ${outcome.exitCode ?? 'no exit code'}${tail ? `: ${tail}` : ''}`);
  }
}
