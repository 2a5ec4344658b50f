// Waiting on a detached process is one mechanism for every caller (a latency measurement,
// a traffic trial): poll until it exits by itself, a deadline passes, or an abort arrives.
// The caller decides what each ending means and stops the process itself.
import type { DetachedProcess, NodeSession } from './types.ts';

export type WatchEnd = 'exited' | 'aborted' | 'deadline';

export interface WatchOptions {
  /** Epoch ms after which waiting stops with 'deadline'. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** Poll interval; tests shorten it. */
  pollMs?: number | undefined;
  /** Called after each poll while the process still runs, e.g. to show progress. */
  onTick?: () => void;
}

export async function watchDetached(session: NodeSession, process: DetachedProcess, options: WatchOptions): Promise<WatchEnd> {
  for (;;) {
    if (options.signal?.aborted) return 'aborted';
    if (Date.now() > options.deadline) return 'deadline';
    if (!(await session.isRunning(process))) return 'exited';
    options.onTick?.();
    await sleepUnlessAborted(options.pollMs ?? 1000, options.signal);
  }
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
