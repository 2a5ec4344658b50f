// How `run` is aborted from outside, from its very start: a signal (to the harness, or passed on
// by npm, the ci/ script or a terminal) or the loss of its caller. The handlers are installed
// before anything else so that no entry point can kill the harness with the pod half set up; the
// pieces they act on (the run log, the sessions, the lock, the lab, the reports) are handed to
// them as the run creates them.
import { describeError } from '../errors.ts';
import { installAbortHandlers, type AbortHandlers, type AbortOptions } from '../harness/abort.ts';
import { ReporterMultiplexer, type Reporter } from '../report/reporter.ts';
import { EXIT } from '../results/exit-codes.ts';
import type { RunResult } from '../results/model.ts';

/** How long the forced path may spend on the nodes before it writes the reports and exits. */
const EMERGENCY_LIMIT_MS = 120_000;

export interface RunAbort {
  readonly handlers: AbortHandlers;
  /** Where abort lines go once the run log and the progress line exist (before: stderr). */
  setLog(log: (line: string) => void): void;
  /** What the forced path does first: stop remote processes, undo, release the lock, remove the lab. */
  setEmergencyCleanup(cleanup: () => Promise<void>): void;
  /** The reports a forced exit still writes (results.json, junit.xml), with the run as it stood. */
  setFinalReporters(reporters: readonly Reporter[]): void;
  /** A reporter that follows the run as it grows, for the forced path. */
  readonly tracker: Reporter;
}

export function createRunAbort(options: Pick<AbortOptions, 'graceMs' | 'duplicateWindowMs' | 'exit' | 'processLike'> = {}): RunAbort {
  let log: (line: string) => void = (line) => void process.stderr.write(`kvmfornfv-test: ${line}\n`);
  let cleanup = async () => {};
  let finalReporters: readonly Reporter[] = [];
  let current: RunResult | undefined;

  // The forced path: whatever the graceful one had not done yet, and a results.json that says
  // error (never running, never pass) for the cases that had ended.
  const emergencyCleanup = async () => {
    // Bounded, so that a node that no longer answers cannot keep the harness from exiting.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log(`emergency cleanup still busy after ${Math.round(EMERGENCY_LIMIT_MS / 1000)} s: exiting; kvmfornfv-test cleanup --pod FILE undoes what is left`);
        resolve();
      }, EMERGENCY_LIMIT_MS);
    });
    await Promise.race([cleanup().catch((e: unknown) => log(`emergency cleanup failed: ${describeError(e)}`)), deadline]);
    clearTimeout(timer);
    const run = current;
    if (!run) return;
    run.status = 'error';
    run.exitCode = EXIT.notMeasured;
    run.stoppedAt = new Date().toISOString();
    run.notes.push(`aborted by ${handlers.abortedBy() ?? 'a second signal'}; the graceful stop did not finish, so the emergency cleanup ran and the harness exited`);
    await new ReporterMultiplexer(finalReporters, log).onEnd(run);
  };

  const handlers = installAbortHandlers({
    log: (line) => log(line),
    emergencyCleanup,
    ...options,
  });
  const follow = (run: RunResult) => {
    current = run;
  };
  return {
    handlers,
    setLog: (l) => (log = l),
    setEmergencyCleanup: (c) => (cleanup = c),
    setFinalReporters: (r) => (finalReporters = r),
    tracker: { name: 'abort tracker', onBegin: follow, onCaseEnd: (_c, run) => follow(run), onEnd: follow },
  };
}
