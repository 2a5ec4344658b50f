// The pod lock: a run locks every node it uses before measuring, so that a nightly run
// and a gate job never measure the same pod at once. A second run fails fast with who
// holds the pod and since when. The holder renews a lease by heartbeat; a lock whose lease
// ran out, or whose owner process on this machine is gone, is broken (see owner.ts).
//
// Why a lease and not a holder process on the node: a process on the node cannot tell
// whether the harness is alive (it is not tied to an SSH channel that NodeSession.exec keeps
// open), and tying it to one would drop the lock on every transient SSH failure. The lease
// is judged on the node's own clock, so clock skew between harness and node cannot break it.
import { randomBytes } from 'node:crypto';
import type { PodNode } from '../config/pod-model.ts';
import { KfnError } from '../errors.ts';
import type { NodeSession } from '../remote/types.ts';
import { describeHolder, isLocalProcessAlive, judgeStaleness, parseLockReport, readHarnessIdentity, type HarnessIdentity, type LockOwner, type LockReport } from './owner.ts';
import { buildAcquireScript, buildHeartbeatScript, buildLockPaths, buildReleaseScript, DEFAULT_LOCK_DIR, type LockPaths } from './scripts.ts';

/** The pod is busy (held by another run) or the lock could not be handled: the run measures nothing. */
export class PodLockError extends KfnError {
  readonly node: string;
  readonly holder: LockOwner | null;

  constructor(node: string, message: string, options?: { holder?: LockOwner | null; cause?: unknown }) {
    super('measurement', message, { cause: options?.cause });
    this.node = node;
    this.holder = options?.holder ?? null;
  }
}

export interface PodLockOptions {
  /** Default /run/kvmfornfv; a function gives each node its own (tests, nodes without /run access). */
  lockDir?: string | ((node: PodNode) => string);
  /** Default `pod`: the lock is `<lockDir>/<name>.lock`. */
  name?: string;
  /** Default 300 s. A holder that has not renewed for this long has forfeited the lock. */
  leaseS?: number;
  /** Default 60 s; must leave room for several missed beats within the lease. */
  heartbeatS?: number;
  log?: (line: string) => void;
  /** Called once per node whose lock was taken away (lease expired and broken by another run). */
  onLost?: (node: string, detail: string) => void;
  /** Injected for tests; default: this process. */
  identity?: HarnessIdentity;
  isProcessAlive?: (pid: number) => boolean;
  /**
   * The owner record (and token) of an earlier acquisition by this run: a run that locks its
   * compute groups one by one is one owner, so nodes that share one lock file (the lab's
   * namespaces on one machine) find it already theirs.
   */
  owner?: LockOwner;
  /** Injected for tests; default setInterval, unref'd so it never keeps the harness alive. */
  schedule?: (tick: () => void, everyMs: number) => () => void;
  now?: () => Date;
}

export interface PodLock {
  readonly owner: LockOwner;
  /** Nodes locked, in the order they were locked. */
  readonly nodes: readonly string[];
  /** Nodes whose lock was lost: the run is no longer exclusive there. */
  lost(): string[];
  /** Renews every node's lease now (the schedule calls this). */
  heartbeat(): Promise<void>;
  /** Idempotent; stops the heartbeat and removes every lock still ours. Throws after trying all nodes. */
  release(): Promise<void>;
}

interface Held {
  session: NodeSession;
  paths: LockPaths;
}

// The heartbeat may come in the middle of a measurement: it runs on the housekeeping CPUs.
const EXEC = { reject: false, timeoutMs: 30_000, label: 'pod lock', privileged: true, housekeeping: true } as const;

function defaultSchedule(tick: () => void, everyMs: number): () => void {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function runLockScript(session: NodeSession, script: string): Promise<LockReport> {
  const result = await session.exec({ script }, EXEC);
  try {
    return parseLockReport(result.stdout);
  } catch (error) {
    const detail = result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode}`;
    throw new PodLockError(session.node.name, `the pod lock script failed on ${session.node.name}: ${detail.slice(0, 500)}`, { cause: error });
  }
}

async function lockOne(session: NodeSession, owner: LockOwner, paths: LockPaths, options: PodLockOptions, log: (l: string) => void): Promise<void> {
  const node = session.node.name;
  const ownerJson = JSON.stringify(owner);
  let report = await runLockScript(session, buildAcquireScript({ paths, token: owner.token, ownerJson }));
  if (report.state === 'held') {
    const staleness = judgeStaleness({ report, self: owner, defaultLeaseS: owner.leaseS, isProcessAlive: options.isProcessAlive ?? isLocalProcessAlive });
    if (!staleness.stale) throw new PodLockError(node, describeHolder(node, paths.lock, report, staleness.why), { holder: report.owner });
    log(`${describeHolder(node, paths.lock, report, staleness.why)}: breaking it`);
    const breakStale = { token: report.token ?? '', rule: staleness.rule, leaseS: report.owner?.leaseS ?? owner.leaseS };
    report = await runLockScript(session, buildAcquireScript({ paths, token: owner.token, ownerJson, breakStale }));
    // Held again: another run broke it first, or the holder renewed in between; it is live.
    if (report.state === 'held') throw new PodLockError(node, describeHolder(node, paths.lock, report, 'it changed while this run was breaking it'), { holder: report.owner });
  }
  if (report.state === 'error') throw new PodLockError(node, `cannot take the pod lock ${paths.lock} on ${node} (${report.reason ?? 'error'}): ${report.text}`);
  if (report.state !== 'acquired' && report.state !== 'ours') throw new PodLockError(node, `unexpected pod lock state "${report.state}" on ${node}`);
  log(`pod lock ${paths.lock} on ${node}: ${report.state}${report.broken ? ' (stale lock broken)' : ''}`);
}

// The CLI takes this before the first case and registers release() as a cleanup step.
export async function acquirePodLock(sessions: readonly NodeSession[], owner: { runId: string; buildTag?: string }, options: PodLockOptions = {}): Promise<PodLock> {
  const leaseS = options.leaseS ?? 300;
  const heartbeatS = options.heartbeatS ?? 60;
  if (!Number.isInteger(leaseS) || leaseS < 2) throw new TypeError(`leaseS must be an integer >= 2, got ${leaseS}`);
  if (!(heartbeatS > 0 && heartbeatS * 2 <= leaseS)) throw new TypeError(`heartbeatS must be > 0 and at most half of leaseS (${leaseS}), got ${heartbeatS}`);
  const log = options.log ?? (() => {});
  const full: LockOwner = options.owner ?? {
    runId: owner.runId,
    buildTag: owner.buildTag ?? 'none',
    ...(options.identity ?? readHarnessIdentity()),
    acquiredAt: (options.now?.() ?? new Date()).toISOString(),
    leaseS,
    token: randomBytes(16).toString('hex'),
  };
  const pathsFor = (node: PodNode) => buildLockPaths(typeof options.lockDir === 'function' ? options.lockDir(node) : (options.lockDir ?? DEFAULT_LOCK_DIR), options.name);
  // A fixed order means two runs contend on the same first node instead of each holding half the pod.
  const ordered = [...sessions].sort((a, b) => a.node.name.localeCompare(b.node.name));
  const held: Held[] = [];
  try {
    for (const session of ordered) {
      const paths = pathsFor(session.node);
      await lockOne(session, full, paths, options, log);
      held.push({ session, paths });
    }
  } catch (error) {
    await releaseAll(held, full.token, log).catch((e: unknown) => log(`pod lock: rollback failed: ${e instanceof Error ? e.message : String(e)}`));
    throw error;
  }
  return createHandle(held, full, heartbeatS, options, log);
}

async function releaseAll(held: readonly Held[], token: string, log: (l: string) => void): Promise<void> {
  const problems: string[] = [];
  // Reverse order, and every node is tried even when one fails.
  for (const { session, paths } of [...held].reverse()) {
    try {
      const report = await runLockScript(session, buildReleaseScript(paths, token));
      if (report.state === 'not-ours') log(`pod lock ${paths.lock} on ${session.node.name} is now held by another run; left in place`);
      else if (report.state === 'error') problems.push(`${session.node.name}: ${report.text}`);
    } catch (error) {
      problems.push(`${session.node.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    throw new PodLockError(problems[0]?.split(':')[0] ?? '', `the pod lock could not be released on every node (it expires with its lease): ${problems.join('; ')}`);
  }
}

function createHandle(held: Held[], owner: LockOwner, heartbeatS: number, options: PodLockOptions, log: (l: string) => void): PodLock {
  const lost = new Set<string>();
  let released = false;
  let inFlight: Promise<void> | undefined;

  const beatOnce = async () => {
    for (const { session, paths } of held) {
      const node = session.node.name;
      if (lost.has(node)) continue;
      try {
        const report = await runLockScript(session, buildHeartbeatScript(paths, owner.token));
        if (report.state === 'lost') {
          lost.add(node);
          const detail = report.owner ? `now held by run ${report.owner.runId} since ${report.owner.acquiredAt}` : 'the lock is gone';
          log(`pod lock on ${node} was lost: ${detail}`);
          options.onLost?.(node, detail);
        }
      } catch (error) {
        // A missed beat is not a lost lock: the lease allows several.
        log(`pod lock heartbeat on ${node} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const heartbeat = () => {
    if (released) return Promise.resolve();
    inFlight ??= beatOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const cancel = (options.schedule ?? defaultSchedule)(() => void heartbeat(), heartbeatS * 1000);

  return {
    owner,
    nodes: held.map((h) => h.session.node.name),
    lost: () => [...lost],
    heartbeat,
    async release() {
      if (released) return;
      released = true;
      cancel();
      await inFlight;
      await releaseAll(held, owner.token, log);
    },
  };
}
