// One session per node for the whole run, opened on first use, so that cases share
// connections, and one unreachable node fails only the cases that need it.
import type { PodNode } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { NodeSession } from './types.ts';

export interface SessionPoolOptions {
  /** Opens a session: connectNode for real runs, a DryRunSession for --dry-run, a fake in tests. */
  open: (node: PodNode) => Promise<NodeSession>;
  log?: (line: string) => void;
}

export interface NodeTeardown {
  node: string;
  /** Absent when the step worked. */
  error?: string;
}

export class SessionPool {
  readonly #open: (node: PodNode) => Promise<NodeSession>;
  readonly #log: (line: string) => void;
  /** A failed connect stays cached, so every case on a dead node fails at once, not after a timeout each. */
  readonly #sessions = new Map<string, Promise<NodeSession>>();

  constructor(options: SessionPoolOptions) {
    this.#open = options.open;
    this.#log = options.log ?? (() => undefined);
  }

  // The node's session, connecting it on first use.
  get(node: PodNode): Promise<NodeSession> {
    let session = this.#sessions.get(node.name);
    if (!session) {
      session = this.#open(node);
      // Mark the rejection handled here; each caller of get() still sees it.
      session.catch((e: unknown) => this.#log(`[${node.name}] cannot open a session: ${describeError(e)}`));
      this.#sessions.set(node.name, session);
    }
    return session;
  }

  /** Names of the nodes a session was requested for. */
  get nodes(): string[] {
    return [...this.#sessions.keys()];
  }

  // Cleans up and closes one node's session and forgets it, before the node itself goes away
  // (a launched guest before its VM stops); never throws, returns the error if a step failed.
  async retire(name: string): Promise<string | undefined> {
    const pending = this.#sessions.get(name);
    this.#sessions.delete(name);
    if (!pending) return undefined;
    let session: NodeSession;
    try {
      session = await pending;
    } catch {
      return undefined;
    }
    try {
      await session.cleanup();
      return undefined;
    } catch (e) {
      const error = describeError(e);
      this.#log(`[${name}] cleanup failed: ${error}`);
      return error;
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  // Stop detached processes and remove run directories on every node; never throws.
  cleanupAll(): Promise<NodeTeardown[]> {
    return this.#forEach('cleanup', (s) => s.cleanup());
  }

  // Close every connection; never throws.
  async closeAll(): Promise<NodeTeardown[]> {
    const outcome = await this.#forEach('close', (s) => s.close());
    this.#sessions.clear();
    return outcome;
  }

  async #forEach(step: string, fn: (session: NodeSession) => Promise<void>): Promise<NodeTeardown[]> {
    const entries = [...this.#sessions.entries()];
    return Promise.all(
      entries.map(async ([node, pending]): Promise<NodeTeardown> => {
        let session: NodeSession;
        try {
          session = await pending;
        } catch {
          return { node }; // never connected: nothing to clean or close
        }
        try {
          await fn(session);
          return { node };
        } catch (e) {
          const error = describeError(e);
          this.#log(`[${node}] ${step} failed: ${error}`);
          return { node, error };
        }
      }),
    );
  }
}
