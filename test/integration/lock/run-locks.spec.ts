// A run's locks per compute group, against a real shell, flock and file system (LocalSession),
// in temporary lock folders: one per "machine", or one shared by all as on the lab.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPod } from '../../../lib/cli/pod-lock.ts';
import { buildPod } from '../../../lib/config/pod.ts';
import type { Pod, PodNode } from '../../../lib/config/pod-model.ts';
import type { NodeSessions } from '../../../lib/harness/node-sessions.ts';
import { acquirePodLock, PodLockError, type PodLock } from '../../../lib/lock/pod-lock.ts';
import { LocalSession } from '../../support/local-session.ts';

const cpus = { rt_cpus: '1', housekeeping_cpus: '0' };
const POD: Pod = buildPod(
  {
    pod_name: 'two',
    nodes: [
      { name: 'c0', role: 'Compute', ip: '192.0.2.10', ...cpus },
      { name: 'g0', role: 'vnf', ip: '192.0.2.20', host_node: 'c0', ...cpus },
      { name: 'c1', role: 'Compute', ip: '192.0.2.11', ...cpus },
      { name: 'g1', role: 'vnf', ip: '192.0.2.21', host_node: 'c1', ...cpus },
      { name: 'tg', role: 'TrafficGen', ip: '192.0.2.9' },
    ],
  },
  { file: 'pod.yaml', env: {} },
);

let root: string;
const others: PodLock[] = [];

function fakeSessions() {
  const unavailable = new Map<string, Error>();
  const sessions = {
    session: async (node: PodNode) => new LocalSession(node, `/tmp/kfn-lock-${node.name}`),
    markUnavailable: (node: PodNode, error: Error) => void unavailable.set(node.name, error),
  } as unknown as NodeSessions;
  return { sessions, unavailable };
}

const perMachine = (node: PodNode) => join(root, node.name);
const node = (name: string) => POD.nodes.find((n) => n.name === name) as PodNode;

describe('cli/pod-lock: a lock per compute group', function () {
  this.timeout(60_000);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kfn-run-locks-'));
  });
  afterEach(async () => {
    for (const lock of others.splice(0)) await lock.release().catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it('leaves alone a group another run holds, names the holder for its nodes, and measures the rest', async () => {
    others.push(await acquirePodLock([new LocalSession(node('c1'))], { runId: 'gate-7', buildTag: 'jenkins-gate-7' }, { lockDir: perMachine, schedule: () => () => {} }));
    const { sessions, unavailable } = fakeSessions();
    const { lock: locks } = await lockPod({ pod: POD, sessions, runId: 'nightly-1', buildTag: 'jenkins-nightly-1', log: () => {}, onLost: () => {}, lockOptions: { lockDir: perMachine }, undoRoot: join(root, 'undo') });
    expect(locks?.refused.map((r) => r.unit)).to.deep.equal(['c1']);
    expect(locks?.refused[0]?.reason).to.include('gate-7');
    expect([...unavailable.keys()]).to.deep.equal(['c1', 'g1']);
    expect(unavailable.get('g1')).to.be.instanceOf(PodLockError);
    expect(unavailable.get('g1')?.message).to.match(/^not measured by this run: .*gate-7/);
    for (const n of ['c0', 'g0', 'tg']) expect(existsSync(join(root, n, 'pod.lock')), n).to.equal(true);
    await locks?.release();
    for (const n of ['c0', 'g0', 'tg']) expect(existsSync(join(root, n, 'pod.lock')), n).to.equal(false);
    expect(existsSync(join(root, 'c1', 'pod.lock')), 'the other run keeps its lock').to.equal(true);
  });

  it('fails fast naming the holder when another run holds every group', async () => {
    const all = POD.nodes.map((n) => new LocalSession(n));
    others.push(await acquirePodLock(all, { runId: 'gate-7' }, { lockDir: perMachine, schedule: () => () => {} }));
    const error = await lockPod({ pod: POD, sessions: fakeSessions().sessions, runId: 'nightly-1', buildTag: 'none', log: () => {}, onLost: () => {}, lockOptions: { lockDir: perMachine }, undoRoot: join(root, 'undo') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PodLockError);
    expect((error as Error).message).to.include('gate-7');
  });

  it('is one owner across its groups: on one machine (the lab), one lock file covers every group', async () => {
    const shared = () => join(root, 'machine');
    const { sessions, unavailable } = fakeSessions();
    const { lock: locks } = await lockPod({ pod: POD, sessions, runId: 'lab-1', buildTag: 'none', log: () => {}, onLost: () => {}, lockOptions: { lockDir: shared }, undoRoot: join(root, 'undo') });
    expect(locks?.refused).to.deep.equal([]);
    expect(unavailable.size).to.equal(0);
    const second = await lockPod({ pod: POD, sessions: fakeSessions().sessions, runId: 'lab-2', buildTag: 'none', log: () => {}, onLost: () => {}, lockOptions: { lockDir: shared }, undoRoot: join(root, 'undo') }).then(
      () => 'locked',
      (e: unknown) => (e as Error).message,
    );
    expect(second).to.include('lab-1');
    await locks?.release();
    expect(existsSync(join(root, 'machine', 'pod.lock'))).to.equal(false);
  });
});
