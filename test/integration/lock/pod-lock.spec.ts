// The pod lock against a real shell, flock and file system on this machine (LocalSession),
// in a temporary lock directory, never /run itself.
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquirePodLock, PodLockError, type PodLock, type PodLockOptions } from '../../../lib/lock/pod-lock.ts';
import { readHarnessIdentity } from '../../../lib/lock/owner.ts';
import { buildLocalNode, LocalSession } from '../../support/local-session.ts';

let dir: string;
const locks: PodLock[] = [];
const host = new LocalSession(buildLocalNode('host'));
const guest = new LocalSession(buildLocalNode('guest', 'guest'));

/** Options for one "run": its own log, no timer (the test calls heartbeat() itself). */
function runOptions(extra: Partial<PodLockOptions> = {}): PodLockOptions & { lines: string[] } {
  const lines: string[] = [];
  return { lockDir: dir, leaseS: 300, heartbeatS: 60, log: (l) => lines.push(l), schedule: () => () => {}, lines, ...extra };
}

async function take(runId: string, options: PodLockOptions, sessions = [host]): Promise<PodLock> {
  const lock = await acquirePodLock(sessions, { runId, buildTag: `jenkins-kvmfornfv-${runId}` }, options);
  locks.push(lock);
  return lock;
}

async function expectHeld(promise: Promise<unknown>): Promise<PodLockError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).to.be.instanceOf(PodLockError);
  return error as PodLockError;
}

/** A pid that existed and is gone: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = execa('true');
  const pid = child.pid as number;
  await child;
  return pid;
}

describe('lock/pod-lock (local shell)', function () {
  this.timeout(60_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kfn-lock-'));
  });
  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.release().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the lock with an owner record, and a second run fails fast naming the holder', async () => {
    const first = await take('nightly-1', runOptions());
    const owner = JSON.parse(await readFile(join(dir, 'pod.lock', 'owner.json'), 'utf8'));
    expect(owner).to.include({ runId: 'nightly-1', buildTag: 'jenkins-kvmfornfv-nightly-1', pid: process.pid, token: first.owner.token });
    const started = Date.now();
    const error = await expectHeld(take('gate-7', runOptions()));
    expect(Date.now() - started).to.be.below(10_000);
    expect(error.message).to.include('held by run nightly-1 (BUILD_TAG jenkins-kvmfornfv-nightly-1').and.include(`since ${first.owner.acquiredAt}`);
    expect(error.holder?.runId).to.equal('nightly-1');
  });

  it('lets exactly one of several runs racing for a free pod win', async () => {
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => take(`racer-${i}`, runOptions())));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).to.be.instanceOf(PodLockError);
  });

  it('locks several nodes that share one machine as one run, and releases them all', async () => {
    const lock = await take('nightly-2', runOptions(), [host, guest]);
    expect(lock.nodes).to.deep.equal(['guest', 'host']);
    await lock.release();
    expect(existsSync(join(dir, 'pod.lock'))).to.equal(false);
    await lock.release(); // idempotent
    await take('gate-8', runOptions());
  });

  it('rolls back the nodes it locked when a later node is held', async () => {
    const perNode = (node: { name: string }) => join(dir, node.name);
    await take('holder', runOptions({ lockDir: perNode }), [host]);
    const error = await expectHeld(take('late', runOptions({ lockDir: perNode }), [host, guest]));
    expect(error.node).to.equal('host');
    expect(existsSync(join(dir, 'guest', 'pod.lock'))).to.equal(false);
  });

  it('never breaks a live lock whose owner process exists, even one on this machine', async () => {
    await take('alive', runOptions());
    const error = await expectHeld(take('gate-9', runOptions()));
    expect(error.message).to.include('lease 300 s');
  });

  it('breaks a lock whose owner on this machine is gone', async () => {
    const identity = { ...readHarnessIdentity(), pid: await deadPid() };
    await take('crashed', runOptions({ identity }));
    const next = runOptions();
    const lock = await take('nightly-3', next);
    expect(JSON.parse(await readFile(join(dir, 'pod.lock', 'owner.json'), 'utf8')).runId).to.equal('nightly-3');
    expect(next.lines.join('\n')).to.include(`its harness (pid ${identity.pid} on this machine`).and.include('(stale lock broken)');
    expect(lock.lost()).to.deep.equal([]);
  });

  it('does not trust a dead pid recorded by another machine', async () => {
    const identity = { ...readHarnessIdentity(), pid: await deadPid(), bootId: 'another-machine' };
    await take('elsewhere', runOptions({ identity }));
    await expectHeld(take('nightly-4', runOptions()));
  });

  it('breaks a lock whose lease expired; the old holder then finds it lost and its release leaves the new lock alone', async () => {
    const lost: string[] = [];
    const old = await take('stalled', runOptions({ leaseS: 10, heartbeatS: 5, onLost: (node) => lost.push(node) }));
    const past = Date.now() / 1000 - 60;
    await utimes(join(dir, 'pod.lock', 'heartbeat'), past, past);
    const fresh = await take('nightly-5', runOptions());
    await old.heartbeat();
    expect(old.lost()).to.deep.equal(['host']);
    expect(lost).to.deep.equal(['host']);
    await old.release();
    expect(JSON.parse(await readFile(join(dir, 'pod.lock', 'owner.json'), 'utf8')).token).to.equal(fresh.owner.token);
  });

  it('renews the lease with each heartbeat, so a renewed lock is not expired', async () => {
    const lock = await take('renewing', runOptions({ leaseS: 10, heartbeatS: 5 }));
    const past = Date.now() / 1000 - 60;
    await utimes(join(dir, 'pod.lock', 'heartbeat'), past, past);
    const before = host.options.length;
    await lock.heartbeat();
    await expectHeld(take('gate-10', runOptions()));
    // A heartbeat may come during a measurement: it asks for the housekeeping CPUs.
    expect(host.options.slice(before).map((o) => o.housekeeping)).to.include(true).and.not.include(undefined);
  });

  it('reports an unusable lock directory as a PodLockError, not a hang', async () => {
    const error = await expectHeld(take('nowhere', runOptions({ lockDir: '/proc/kfn-lock-test' })));
    expect(error.message).to.include('cannot take the pod lock /proc/kfn-lock-test/pod.lock on host (mkdir)');
  });
});
