import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { decideHostKey } from '../../../lib/remote/host-key.ts';
import { buildSituations, readSuiteVerdict, type RecordedTools, type Verdict } from '../../support/openssh-known-hosts.ts';

// Verdicts of the real ssh client (OpenSSH 9.2p1) on known_hosts lines written by ssh-keyscan and
// ssh-keygen -H: see fixtures/openssh-verdicts.source.md. The integration test asks ssh again, live.
const recorded = JSON.parse(readFileSync(new URL('./fixtures/openssh-verdicts.json', import.meta.url), 'utf8')) as RecordedTools & { verdicts: Record<string, Verdict> };
const offered = Buffer.from(recorded.keyscan.trim().split(' ')[2] ?? '', 'base64');

describe(`remote/host-key against ${recorded.openssh.split(',')[0]}'s verdicts`, () => {
  const situations = buildSituations(recorded);

  it('has a recorded verdict for every situation, and every kind of verdict', () => {
    expect(Object.keys(recorded.verdicts)).to.have.members(situations.map((s) => s.name));
    expect(new Set(Object.values(recorded.verdicts))).to.have.keys('accepted', 'unknown', 'changed', 'revoked');
  });

  for (const situation of situations) {
    it(`${recorded.verdicts[situation.name]}: ${situation.name}`, () => {
      const decision = decideHostKey({
        subject: 'node n',
        node: 'n',
        host: situation.host,
        port: recorded.port,
        offered,
        policy: 'strict',
        pin: undefined,
        pinKnownHosts: undefined,
        knownHostsFiles: [
          { path: '/home/u/.ssh/known_hosts', text: situation.user },
          { path: '/etc/ssh/ssh_known_hosts', text: situation.system },
        ],
        searched: [{ path: '/home/u/.ssh/known_hosts' }, { path: '/etc/ssh/ssh_known_hosts' }],
        appendPath: '/home/u/.ssh/known_hosts',
        remembered: undefined,
      });
      expect(readSuiteVerdict(decision.accept ? undefined : decision.error)).to.equal(recorded.verdicts[situation.name]);
    });
  }
});
