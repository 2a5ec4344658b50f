import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { HostKeyError } from '../../../lib/remote/errors.ts';
import { decideHostKey, type HostKeyCheck, type HostKeyDecision } from '../../../lib/remote/host-key.ts';
import { fingerprintKey } from '../../../lib/remote/known-hosts.ts';

// Keys from fixtures/ (see known_hosts.source.md).
const FIXTURES = new URL('./fixtures/', import.meta.url);
const blobOf = (name: string) => Buffer.from(readFileSync(new URL(name, FIXTURES), 'utf8').split(' ')[1] ?? '', 'base64');
const keyA = blobOf('key-a.pub');
const keyB = blobOf('key-b.pub');
const fpA = fingerprintKey(keyA);
const fpB = fingerprintKey(keyB);
const lineA = `[10.0.0.9]:2222 ssh-ed25519 ${keyA.toString('base64')}`;

function check(over: Partial<HostKeyCheck>): HostKeyCheck {
  return {
    subject: 'node guest',
    node: 'guest',
    host: '10.0.0.9',
    port: 2222,
    offered: keyA,
    policy: 'strict',
    pin: undefined,
    pinKnownHosts: undefined,
    runKnownHosts: undefined,
    runKnownHostsPath: undefined,
    remembered: undefined,
    ...over,
  };
}

function rejected(d: HostKeyDecision): HostKeyError {
  if (d.accept) throw new Error('expected the key to be rejected');
  expect(d.error).to.be.instanceOf(HostKeyError);
  return d.error;
}

describe('remote/host-key decideHostKey', () => {
  it('strict: accepts a matching fingerprint pin', () => {
    expect(decideHostKey(check({ pin: { fingerprint: fpA } })).accept).to.equal(true);
  });

  it('strict: rejects a mismatching fingerprint and shows both fingerprints', () => {
    const e = rejected(decideHostKey(check({ pin: { fingerprint: fpB } })));
    expect(e.message).to.include(`expected ${fpB}`).and.include(`offered ssh-ed25519 ${fpA}`).and.include('ssh_host_ed25519_key.pub');
    expect(e.expected).to.deep.equal([fpB]);
    expect(e.offered).to.equal(fpA);
    expect(e.kind).to.equal('remote');
  });

  it('strict: rejects a pin that is not a SHA256 fingerprint', () => {
    expect(rejected(decideHostKey(check({ pin: { fingerprint: 'aa:bb:cc' } }))).message).to.match(/not a SHA256 fingerprint/);
  });

  it('strict: with no pin at all, says how to pin and shows the offered key', () => {
    const e = rejected(decideHostKey(check({})));
    expect(e.message).to.include('no host key is pinned').and.include('hostKey.fingerprint').and.include('accept-new').and.include(fpA);
  });

  it('strict: accepts a key the pinned known_hosts lists', () => {
    const d = decideHostKey(check({ pin: { knownHosts: '/k' }, pinKnownHosts: { path: '/k', text: lineA } }));
    expect(d.accept).to.equal(true);
  });

  it('strict: rejects a pinned known_hosts that does not list the host', () => {
    const e = rejected(decideHostKey(check({ port: 22, pin: { knownHosts: '/k' }, pinKnownHosts: { path: '/k', text: lineA } })));
    expect(e.message).to.match(/\/k .*has no entry for node guest \(10\.0\.0\.9:22\)/);
  });

  it('any policy but off: rejects a changed key with the expected and offered fingerprints', () => {
    for (const policy of ['strict', 'accept-new'] as const) {
      const e = rejected(decideHostKey(check({ policy, offered: keyB, runKnownHosts: { path: '/run/kh', text: lineA }, runKnownHostsPath: '/run/kh' })));
      expect(e.message).to.include('CHANGED').and.include(fpA).and.include(fpB);
      expect(e.expected).to.deep.equal([fpA]);
    }
  });

  it('rejects a key of a type the known_hosts does not list for the host, naming the types it does', () => {
    const keyC = blobOf('key-c.pub');
    const e = rejected(decideHostKey(check({ offered: keyC, policy: 'accept-new', runKnownHosts: { path: '/kh', text: lineA } })));
    expect(e.message).to.include('lists only ssh-ed25519 keys').and.include('ecdsa-sha2-nistp256');
  });

  it('accept-new: accepts an unknown host and returns the line to record', () => {
    const d = decideHostKey(check({ policy: 'accept-new', runKnownHostsPath: '/run/kh' }));
    expect(d).to.deep.include({ accept: true });
    if (!d.accept) return;
    expect(d.append).to.deep.equal({ path: '/run/kh', line: lineA });
    expect(d.note).to.include('permanently added');
  });

  it('accept-new: still enforces a fingerprint pin', () => {
    rejected(decideHostKey(check({ policy: 'accept-new', pin: { fingerprint: fpB }, runKnownHostsPath: '/run/kh' })));
  });

  it('rejects a key that changed since the session first connected, even under accept-new', () => {
    const e = rejected(decideHostKey(check({ policy: 'accept-new', offered: keyB, remembered: keyA })));
    expect(e.message).to.include('changed during the run');
  });

  it('rejects a revoked key', () => {
    const text = `${lineA}\n@revoked [10.0.0.9]:2222 ssh-ed25519 ${keyA.toString('base64')}`;
    expect(rejected(decideHostKey(check({ runKnownHosts: { path: '/kh', text } }))).message).to.include('@revoked');
  });

  it('off: accepts anything but says so', () => {
    const d = decideHostKey(check({ policy: 'off', pin: { fingerprint: fpB } }));
    expect(d.accept).to.equal(true);
    if (d.accept) expect(d.note).to.include('host key checking is off');
  });
});
