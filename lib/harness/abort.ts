// Ctrl-C and a Jenkins abort (SIGTERM) must leave nothing running on any node. The first
// signal aborts the run gracefully: measurements stop early and keep what they measured,
// undo steps run, reports are written. A second signal, or a graceful stop that takes
// too long, runs the emergency cleanup at once and exits.
//
// Two facts of how the harness is started shape this:
// - One keypress or one Jenkins abort can reach the harness twice within milliseconds: a
//   terminal signals the whole foreground group, npm forwards SIGINT/SIGTERM to its child as
//   well, and Jenkins signals every process of the build. The same signal again within
//   `duplicateWindowMs` is that same abort, not the operator asking to force.
// - A caller that dies without passing a signal on (a shell between npm and node, a CI runner
//   that kills only its direct child, a lost terminal) leaves the harness with a new parent:
//   that is an abort too, or the harness would go on measuring, holding the pod lock, with
//   nobody reading its exit code.

export interface AbortHandlers {
  readonly signal: AbortSignal;
  /** The signal that aborted the run, if any. */
  readonly received: () => NodeJS.Signals | undefined;
  /** Why the run was aborted from outside (a signal, its caller gone), if it was: exit code 70. */
  readonly abortedBy: () => string | undefined;
  /** Aborts the run gracefully from inside, e.g. when its pod lock was lost; no grace timer. */
  abortFromWithin(reason: string): void;
  dispose(): void;
}

export interface AbortOptions {
  log: (line: string) => void;
  /** Stops every remote process and undoes pod changes; must be quick and never throw. */
  emergencyCleanup: () => Promise<void>;
  /** How long the graceful path may take after the first signal. */
  graceMs?: number;
  /** The same signal again within this long is the same abort delivered twice. Default 2 s. */
  duplicateWindowMs?: number;
  /** How often the parent is looked at; 0 turns the watch off. Default 1 s. */
  parentPollMs?: number;
  exit?: (code: number) => void;
  processLike?: Pick<NodeJS.Process, 'on' | 'off'> & { readonly ppid?: number };
  now?: () => number;
}

export const ABORT_EXIT_CODE = 70;
export const DEFAULT_GRACE_MS = 90_000;

export function installAbortHandlers(options: AbortOptions): AbortHandlers {
  const controller = new AbortController();
  const proc = options.processLike ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const duplicateWindowMs = options.duplicateWindowMs ?? 2_000;
  let received: { signal: NodeJS.Signals; at: number } | undefined;
  let abortedBy: string | undefined;
  let forcing = false;
  let graceTimer: NodeJS.Timeout | undefined;

  const force = async (why: string) => {
    if (forcing) return;
    forcing = true;
    options.log(`${why}: stopping remote processes and undoing pod changes now`);
    try {
      await options.emergencyCleanup();
    } finally {
      exit(ABORT_EXIT_CODE);
    }
  };

  // The first abort from outside: stop gracefully, and force once the grace is spent.
  const abortFromOutside = (why: string, reason: string) => {
    abortedBy = why;
    options.log(`${reason}: stopping the measurement, keeping what was measured, cleaning up (send the signal again to force)`);
    if (!controller.signal.aborted) controller.abort(new Error(`aborted: ${why}`));
    graceTimer = setTimeout(() => void force(`graceful stop took over ${Math.round(graceMs / 1000)} s`), graceMs);
    graceTimer.unref();
  };

  // Only a second signal forces: a hangup that comes with the loss of the caller is one abort.
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      if (received.signal === signal && now() - received.at < duplicateWindowMs) {
        options.log(`${signal} again within ${duplicateWindowMs} ms: the same abort delivered twice (terminal, npm or CI), not a request to force`);
        return;
      }
      void force(`second ${signal}`);
      return;
    }
    received = { signal, at: now() };
    if (abortedBy) options.log(`${signal} received: already stopping (${abortedBy}); send it again to force`);
    else abortFromOutside(signal, `${signal} received`);
  };

  const parentAtStart = proc.ppid;
  const pollMs = options.parentPollMs ?? 1_000;
  const parentWatch =
    pollMs > 0 && parentAtStart !== undefined
      ? setInterval(() => {
          const parent = proc.ppid;
          if (parent === parentAtStart || abortedBy) return;
          abortFromOutside(`the loss of its caller (pid ${parentAtStart})`, `the harness's caller (pid ${parentAtStart}) is gone, its parent is now pid ${parent}`);
        }, pollMs)
      : undefined;
  parentWatch?.unref();

  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  proc.on('SIGHUP', onSignal);
  return {
    signal: controller.signal,
    received: () => received?.signal,
    abortedBy: () => abortedBy,
    abortFromWithin(reason: string) {
      if (controller.signal.aborted) return;
      options.log(`${reason}: stopping the measurement, keeping what was measured, cleaning up`);
      controller.abort(new Error(reason));
    },
    dispose() {
      clearTimeout(graceTimer);
      clearInterval(parentWatch);
      proc.off('SIGINT', onSignal);
      proc.off('SIGTERM', onSignal);
      proc.off('SIGHUP', onSignal);
    },
  };
}
