import { expect } from 'chai';
import { ToolOutputParseError } from '../../../lib/errors.ts';
import { describeHolder, judgeStaleness, parseLockOwner, parseLockReport, type HarnessIdentity, type LockOwner } from '../../../lib/lock/owner.ts';

const OWNER: LockOwner = {
  runId: '20261125-020000-ab12',
  buildTag: 'jenkins-kvmfornfv-daily-intel-pod10-42',
  host: 'jenkins-slave-3',
  pid: 4242,
  harnessStartedAt: '2026-11-25T01:59:58.000Z',
  acquiredAt: '2026-11-25T02:00:00.000Z',
  leaseS: 300,
  token: '0123456789abcdef0123456789abcdef',
  bootId: 'boot-a',
  pidNamespace: 'pid:[4026531836]',
};
const SELF: HarnessIdentity = { host: 'jenkins-slave-3', pid: 9999, harnessStartedAt: '2026-11-25T03:00:00.000Z', bootId: 'boot-a', pidNamespace: 'pid:[4026531836]' };

const held = (age: number, owner: LockOwner | null = OWNER) =>
  parseLockReport(`KFN-LOCK held now=${1_800_000_000 + age} heartbeat=1800000000 token=${owner?.token ?? ''}\n${owner ? JSON.stringify(owner) : ''}\n`);

describe('lock/owner: reports', () => {
  it('parses a held report with its owner record', () => {
    const r = held(12);
    expect(r).to.include({ state: 'held', now: 1_800_000_012, heartbeat: 1_800_000_000, token: OWNER.token, broken: false });
    expect(r.owner).to.deep.equal(OWNER);
  });

  it('parses acquired-after-break and error reports', () => {
    expect(parseLockReport('KFN-LOCK acquired now=5 broken=1\n')).to.include({ state: 'acquired', broken: true, owner: null });
    const e = parseLockReport('KFN-LOCK error reason=mkdir\ncannot create /run/kvmfornfv as ci\n');
    expect(e).to.include({ state: 'error', reason: 'mkdir', text: 'cannot create /run/kvmfornfv as ci' });
  });

  it('keeps an unreadable owner record as null, never guessed', () => {
    expect(parseLockOwner('{"runId":"x"}')).to.equal(null);
    expect(parseLockOwner('not json')).to.equal(null);
    expect(parseLockOwner(JSON.stringify({ ...OWNER, pid: -1 }))).to.equal(null);
    expect(parseLockOwner(JSON.stringify({ ...OWNER, bootId: undefined, buildTag: undefined }))).to.include({ bootId: null, buildTag: 'none' });
  });

  for (const [what, text] of [['no status line', 'sudo: unable to resolve host\n'], ['an unknown state', 'KFN-LOCK stolen now=1\n'], ['empty output', '']]) {
    it(`rejects ${what}`, () => {
      expect(() => parseLockReport(text as string)).to.throw(ToolOutputParseError, 'pod lock script');
    });
  }
});

describe('lock/owner: staleness', () => {
  const judge = (age: number, options: { owner?: LockOwner | null; alive?: boolean; self?: HarnessIdentity } = {}) =>
    judgeStaleness({ report: held(age, options.owner === undefined ? OWNER : options.owner), self: options.self ?? SELF, defaultLeaseS: 120, isProcessAlive: () => options.alive ?? true });

  it('keeps a lock within its lease whose owner process lives', () => {
    expect(judge(299)).to.deep.include({ stale: false });
    expect(judge(300).stale).to.equal(false);
  });

  it('breaks a lock past its own lease (node clock), whatever the owner process', () => {
    expect(judge(301)).to.deep.equal({ stale: true, rule: 'lease-expired', why: 'its last heartbeat was 301 s ago, beyond its 300 s lease' });
    expect(judge(121, { owner: null })).to.include({ stale: true, rule: 'lease-expired' });
    expect(judge(119, { owner: null }).stale).to.equal(false);
  });

  it('breaks a lock early only when its owner ran in this pid namespace on this boot and is gone', () => {
    expect(judge(5, { alive: false })).to.include({ stale: true, rule: 'owner-dead' });
    expect(judge(5, { alive: false, self: { ...SELF, bootId: 'boot-b' } }).stale).to.equal(false);
    expect(judge(5, { alive: false, self: { ...SELF, pidNamespace: 'pid:[4026532200]' } }).stale).to.equal(false);
    expect(judge(5, { alive: false, owner: { ...OWNER, bootId: null } }).stale).to.equal(false);
  });

  it('treats an unreadable heartbeat as live', () => {
    const r = parseLockReport('KFN-LOCK held now=100 heartbeat= token=\n');
    expect(judgeStaleness({ report: r, self: SELF, defaultLeaseS: 1, isProcessAlive: () => false }).stale).to.equal(false);
  });

  it('describes the holder: run, BUILD_TAG, harness host and pid, and since when', () => {
    expect(describeHolder('host', '/run/kvmfornfv/pod.lock', held(10), 'last heartbeat 10 s ago')).to.equal(
      'the pod lock /run/kvmfornfv/pod.lock on host is held by run 20261125-020000-ab12 (BUILD_TAG jenkins-kvmfornfv-daily-intel-pod10-42, ' +
        'harness jenkins-slave-3 pid 4242 started 2026-11-25T01:59:58.000Z) since 2026-11-25T02:00:00.000Z; last heartbeat 10 s ago',
    );
    expect(describeHolder('host', '/x/pod.lock', held(10, null), 'why')).to.include('with no owner record');
  });
});
