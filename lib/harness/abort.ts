// Ctrl-C and a Jenkins abort (SIGTERM) must leave nothing running on any node. The first
// signal aborts the run gracefully: measurements stop early and keep what they measured,
// undo steps run, reports are written. A second signal, or a graceful stop that takes
// too long, runs the emergency cleanup at once and exits.

export interface AbortHandlers {
  readonly signal: AbortSignal;
  /** The signal that aborted the run, if any. */
  readonly received: () => NodeJS.Signals | undefined;
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
  exit?: (code: number) => void;
  processLike?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export const ABORT_EXIT_CODE = 70;

export function installAbortHandlers(options: AbortOptions): AbortHandlers {
  const controller = new AbortController();
  const proc = options.processLike ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let received: NodeJS.Signals | undefined;
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

  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      void force(`second ${signal}`);
      return;
    }
    received = signal;
    options.log(`${signal} received: stopping the measurement, keeping what was measured, cleaning up (send it again to force)`);
    controller.abort(new Error(`aborted by ${signal}`));
    graceTimer = setTimeout(() => void force(`graceful stop took over ${Math.round((options.graceMs ?? 90_000) / 1000)} s`), options.graceMs ?? 90_000);
    graceTimer.unref();
  };

  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  proc.on('SIGHUP', onSignal);
  return {
    signal: controller.signal,
    received: () => received,
    abortFromWithin(reason: string) {
      if (controller.signal.aborted) return;
      options.log(`${reason}: stopping the measurement, keeping what was measured, cleaning up`);
      controller.abort(new Error(reason));
    },
    dispose() {
      clearTimeout(graceTimer);
      proc.off('SIGINT', onSignal);
      proc.off('SIGTERM', onSignal);
      proc.off('SIGHUP', onSignal);
    },
  };
}
