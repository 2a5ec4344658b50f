// Who holds a pod lock, read back from the node, and whether that holder is provably gone.
// Pure except readHarnessIdentity. The rule it implements: never break a live lock; break
// one only when its lease ran out, or when its owner ran on this very machine and its
// process no longer exists.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import * as z from 'zod';
import { ToolOutputParseError } from '../errors.ts';
import { LOCK_MARKER } from './scripts.ts';

/** What the lock records about the run holding it. */
export interface LockOwner {
  runId: string;
  /** Jenkins BUILD_TAG, or `none` outside Jenkins. */
  buildTag: string;
  /** Host name of the machine running the harness. */
  host: string;
  pid: number;
  /** When the harness process started (ISO 8601). */
  harnessStartedAt: string;
  /** When the lock was taken (ISO 8601, harness clock). */
  acquiredAt: string;
  /** A holder that has not renewed for this long has forfeited the lock. */
  leaseS: number;
  /** Random per acquisition: the only proof of ownership the scripts accept. */
  token: string;
  /** /proc/sys/kernel/random/boot_id of the harness machine: tells "same machine" reliably. */
  bootId: string | null;
  /** /proc/self/ns/pid of the harness: a pid means something only inside its namespace. */
  pidNamespace: string | null;
}

export type HarnessIdentity = Pick<LockOwner, 'host' | 'pid' | 'harnessStartedAt' | 'bootId' | 'pidNamespace'>;

function readOrNull(read: () => string): string | null {
  try {
    const v = read().trim();
    return v === '' ? null : v;
  } catch {
    return null;
  }
}

// The harness's own identity, recorded in the lock so a later run on this machine can tell it died.
export function readHarnessIdentity(): HarnessIdentity {
  return {
    host: hostname(),
    pid: process.pid,
    harnessStartedAt: new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString(),
    bootId: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
  };
}

const ownerSchema = z.object({
  runId: z.string().min(1),
  buildTag: z.string().default('none'),
  host: z.string().min(1),
  pid: z.number().int().positive(),
  harnessStartedAt: z.string().default('unknown'),
  acquiredAt: z.string().min(1),
  leaseS: z.number().int().positive(),
  token: z.string().min(1),
  bootId: z.string().nullable().default(null),
  pidNamespace: z.string().nullable().default(null),
});

// An owner record another harness version wrote may lack fields; an unreadable one is null, never guessed.
export function parseLockOwner(text: string): LockOwner | null {
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export type LockState = 'acquired' | 'ours' | 'held' | 'renewed' | 'lost' | 'released' | 'absent' | 'not-ours' | 'error';
const STATES: readonly LockState[] = ['acquired', 'ours', 'held', 'renewed', 'lost', 'released', 'absent', 'not-ours', 'error'];

export interface LockReport {
  state: LockState;
  /** Node clock, seconds since the epoch. */
  now: number | null;
  /** Node clock: last heartbeat (or the lock's creation), seconds since the epoch. */
  heartbeat: number | null;
  token: string | null;
  /** True when the acquire script broke a stale lock first. */
  broken: boolean;
  owner: LockOwner | null;
  /** The lines after the status line: the owner record as written, or an error explanation. */
  text: string;
  reason?: string;
}

// The scripts' single status line is the contract; anything else is a broken node, not a state.
export function parseLockReport(stdout: string): LockReport {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${LOCK_MARKER} `));
  const line = lines[at];
  if (at < 0 || line === undefined) throw new ToolOutputParseError('pod lock script', `expected a "${LOCK_MARKER} <state>" line`, { line: stdout.slice(0, 200) });
  const [, state, ...pairs] = line.trim().split(/\s+/);
  if (!STATES.includes(state as LockState)) throw new ToolOutputParseError('pod lock script', `unknown state "${state}"`, { lineNumber: at + 1, line });
  const kv = new Map(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const num = (k: string) => (kv.get(k) && /^\d+$/.test(kv.get(k) as string) ? Number(kv.get(k)) : null);
  const text = lines.slice(at + 1).join('\n').trim();
  const report: LockReport = {
    state: state as LockState,
    now: num('now'),
    heartbeat: num('heartbeat'),
    token: kv.get('token') || null,
    broken: kv.get('broken') === '1',
    owner: state === 'held' || state === 'not-ours' || state === 'lost' ? parseLockOwner(text) : null,
    text,
  };
  const reason = kv.get('reason');
  if (reason !== undefined) report.reason = reason;
  return report;
}

export type Staleness = { stale: false; why: string } | { stale: true; rule: 'lease-expired' | 'owner-dead'; why: string };

export interface JudgeInput {
  report: LockReport;
  self: HarnessIdentity;
  /** Used when the owner record is unreadable. */
  defaultLeaseS: number;
  /** Whether a pid is alive on THIS machine (process.kill(pid, 0)). */
  isProcessAlive: (pid: number) => boolean;
}

// Lease first (node clock against node clock, so clock skew with the harness cannot matter),
// then the owner-process check, which is only sound for an owner in our own pid namespace.
export function judgeStaleness(input: JudgeInput): Staleness {
  const { report, self } = input;
  const owner = report.owner;
  const leaseS = owner?.leaseS ?? input.defaultLeaseS;
  if (report.now === null || report.heartbeat === null) return { stale: false, why: 'its heartbeat cannot be read, so it is treated as live' };
  const age = report.now - report.heartbeat;
  if (age > leaseS) return { stale: true, rule: 'lease-expired', why: `its last heartbeat was ${age} s ago, beyond its ${leaseS} s lease` };
  const sameMachine = owner !== null && owner.bootId !== null && owner.bootId === self.bootId && owner.pidNamespace !== null && owner.pidNamespace === self.pidNamespace;
  if (owner && sameMachine && owner.pid !== self.pid && !input.isProcessAlive(owner.pid)) {
    return { stale: true, rule: 'owner-dead', why: `its harness (pid ${owner.pid} on this machine, ${owner.host}) no longer runs` };
  }
  return { stale: false, why: `last heartbeat ${age} s ago, lease ${leaseS} s (breakable in ${leaseS - age + 1} s if its holder is dead)` };
}

// process.kill(pid, 0) throws ESRCH for no such process; EPERM means it exists.
export function isLocalProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// The one sentence a second run prints: who holds the pod, since when, and when it frees up.
export function describeHolder(node: string, lockPath: string, report: LockReport, why: string): string {
  const o = report.owner;
  if (!o) {
    const raw = report.text === '' ? 'no owner record' : `an unreadable owner record: ${JSON.stringify(report.text.slice(0, 200))}`;
    return `the pod lock ${lockPath} on ${node} is held, with ${raw}; ${why}`;
  }
  return `the pod lock ${lockPath} on ${node} is held by run ${o.runId} (BUILD_TAG ${o.buildTag}, harness ${o.host} pid ${o.pid} started ${o.harnessStartedAt}) since ${o.acquiredAt}; ${why}`;
}
