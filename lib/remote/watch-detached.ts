// Waiting on a detached process is one mechanism for every caller (a latency measurement, a
// traffic trial), and it runs nothing on the node: a process started with `watch` holds its
// start channel open until it exits (see buildWatchedStartScript), so its end arrives as the
// channel's close. Only when that connection is lost does the watcher run a command, the
// wait script, after reconnecting. The caller decides what each ending means and stops the
// process itself.
import { SshConnectError } from './errors.ts';
import type { RawExecOptions } from './ssh-session.ts';
import type { DetachedProcess, RemoteCommand, RemoteResult, WatchEnd } from './types.ts';
import { buildWaitScript, EXITED_MARKER } from './watch-scripts.ts';

export interface WatchHost {
  node: string;
  runDir: string;
  run(command: RemoteCommand, options: RawExecOptions): Promise<{ result: RemoteResult; stdout: Buffer }>;
  log(line: string): void;
}

interface Held {
  closed: Promise<{ lost: boolean }>;
  release(): void;
}

export class ExitWatcher {
  readonly #host: WatchHost;
  readonly #held = new Map<string, Held>();

  constructor(host: WatchHost) {
    this.#host = host;
  }

  /** Keeps the channel a watched start left open; it closes when the process exits. */
  hold(name: string, held: Held): void {
    this.#held.set(name, held);
  }

  /** Lets go of a held channel (the process was stopped, or the run is cleaning up). */
  release(name?: string): void {
    for (const [key, held] of this.#held) {
      if (name !== undefined && key !== name) continue;
      held.release();
      this.#held.delete(key);
    }
  }

  async waitForExit(process: DetachedProcess, options: { privileged: boolean; deadline: number; signal?: AbortSignal | undefined }): Promise<WatchEnd> {
    const h = this.#host;
    const now = Date.now;
    let attempt = 0;
    for (;;) {
      if (options.signal?.aborted) return 'aborted';
      if (now() >= options.deadline) return 'deadline';
      const held = this.#held.get(process.name);
      if (held) {
        const end = await untilDeadline(held.closed, options.deadline - now(), options.signal);
        if (end === 'deadline' || end === 'aborted') return end;
        this.#held.delete(process.name);
        if (!end.lost) return 'exited';
        h.log(`[${h.node}] ${process.name}: connection lost while waiting for it (it goes on on the node); reconnecting`);
        continue;
      }
      try {
        const waiting = h.run({ script: buildWaitScript({ runDir: h.runDir, name: process.name, pid: process.pid }) }, {
          privileged: options.privileged,
          housekeeping: true,
          reject: false,
          timeoutMs: Math.max(1_000, options.deadline - now()),
          label: process.name,
          logAs: `(wait ${process.name}) tail --pid=${process.pid} -f /dev/null`,
        });
        // An abort leaves the wait script behind, to end by itself once the process is stopped.
        waiting.catch(() => undefined);
        const end = await untilDeadline(waiting, Number.POSITIVE_INFINITY, options.signal);
        if (end === 'aborted') return end;
        if (end !== 'deadline' && end.result.stdout.includes(EXITED_MARKER)) return 'exited';
        if (end !== 'deadline' && !end.result.timedOut) {
          throw new Error(`waiting for ${process.name} on ${h.node} failed: ${end.result.stderr.trim() || `exit ${end.result.exitCode}`}`);
        }
        // Timed out: the deadline has come; the loop says so.
      } catch (error) {
        if (!(error instanceof SshConnectError) || !error.retryable) throw error;
        attempt += 1;
        const pause = Math.min(500 * attempt, 5_000, Math.max(0, options.deadline - now()));
        h.log(`[${h.node}] ${process.name}: node unreachable (${error.message}); trying again in ${pause} ms until the measurement's deadline`);
        await sleepUnlessAborted(pause, options.signal);
      }
    }
  }
}

/** The promise's value, or 'deadline' after ms, or 'aborted' at once when the signal aborts. */
export function untilDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T | 'deadline' | 'aborted'> {
  if (signal?.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const done = (value: T | 'deadline' | 'aborted') => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done('aborted');
    const timer = Number.isFinite(ms) ? setTimeout(() => done('deadline'), Math.max(0, ms)) : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(done, (error: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return untilDeadline(new Promise<void>(() => undefined), ms, signal).then(() => undefined);
}
