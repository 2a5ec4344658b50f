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
    knownHostsFiles: [],
    searched: [{ path: '/home/u/.ssh/known_hosts' }, { path: '/etc/ssh/ssh_known_hosts' }],
    appendPath: undefined,
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

  it('strict: with no pin and no known_hosts entry, names the files looked in and how to add the key', () => {
    const e = rejected(decideHostKey(check({ searched: [{ path: '/home/u/.ssh/known_hosts' }, { path: '/etc/ssh/ssh_known_hosts', problem: 'unreadable: EACCES' }] })));
    expect(e.message).to.include('no host key is known for node guest (10.0.0.9:2222)').and.include(fpA);
    expect(e.message).to.include('/home/u/.ssh/known_hosts, /etc/ssh/ssh_known_hosts (unreadable: EACCES)');
    expect(e.message).to.include('ssh-keyscan -p 2222 10.0.0.9').and.include('host_key.fingerprint').and.include('accept-new');
  });

  it('strict: accepts a key the pinned known_hosts lists', () => {
    const d = decideHostKey(check({ pin: { knownHosts: '/k' }, pinKnownHosts: { path: '/k', text: lineA } }));
    expect(d.accept).to.equal(true);
  });

  it('strict: rejects a pinned known_hosts that does not list the host', () => {
    const e = rejected(decideHostKey(check({ port: 22, pin: { knownHosts: '/k' }, pinKnownHosts: { path: '/k', text: lineA } })));
    expect(e.message).to.match(/\/k .*has no entry for node guest \(10\.0\.0\.9:22\)/);
  });

  it("strict: accepts a key listed in the user's or the system's known_hosts", () => {
    for (const at of [0, 1]) {
      const files = [{ path: '/home/u/.ssh/known_hosts', text: '' }, { path: '/etc/ssh/ssh_known_hosts', text: '' }];
      (files[at] as { text: string }).text = lineA;
      expect(decideHostKey(check({ knownHostsFiles: files })).accept, files[at]?.path).to.equal(true);
    }
  });

  it('a pin wins: a stale known_hosts line for the address never breaks a pinned node', () => {
    const stale = { path: '/home/u/.ssh/known_hosts', text: `[10.0.0.9]:2222 ssh-ed25519 ${keyB.toString('base64')}` };
    expect(decideHostKey(check({ pin: { fingerprint: fpA }, knownHostsFiles: [stale] })).accept).to.equal(true);
    expect(decideHostKey(check({ pin: { knownHosts: '/lab/kh' }, pinKnownHosts: { path: '/lab/kh', text: lineA }, knownHostsFiles: [stale] })).accept).to.equal(true);
  });

  it('any policy but off: rejects a changed key loudly, with the expected and offered fingerprints and the line', () => {
    for (const policy of ['strict', 'accept-new'] as const) {
      const e = rejected(decideHostKey(check({ policy, offered: keyB, knownHostsFiles: [{ path: '/home/u/.ssh/known_hosts', text: `# x\n${lineA}` }], appendPath: '/home/u/.ssh/known_hosts' })));
      expect(e.message).to.include('has CHANGED').and.include(fpA).and.include(fpB).and.include('/home/u/.ssh/known_hosts:2');
      expect(e.message).to.include("ssh-keygen -R '[10.0.0.9]:2222'");
      expect(e.expected).to.deep.equal([fpA]);
    }
  });

  it('rejects as changed a key of a type the known_hosts does not list for the host, as OpenSSH does', () => {
    const keyC = blobOf('key-c.pub');
    const e = rejected(decideHostKey(check({ offered: keyC, policy: 'accept-new', knownHostsFiles: [{ path: '/kh', text: lineA }] })));
    expect(e.message).to.include('has CHANGED').and.include('no ecdsa-sha2-nistp256 key is listed');
  });

  it('accept-new: accepts an unknown host and returns the line to record in the first user file', () => {
    const d = decideHostKey(check({ policy: 'accept-new', appendPath: '/home/u/.ssh/known_hosts' }));
    expect(d).to.deep.include({ accept: true });
    if (!d.accept) return;
    expect(d.append).to.deep.equal({ path: '/home/u/.ssh/known_hosts', line: lineA });
    expect(d.note).to.include('permanently added');
  });

  it('accept-new: still enforces a fingerprint pin', () => {
    rejected(decideHostKey(check({ policy: 'accept-new', pin: { fingerprint: fpB }, appendPath: '/run/kh' })));
  });

  it('rejects a key that changed since the session first connected, even under accept-new', () => {
    const e = rejected(decideHostKey(check({ policy: 'accept-new', offered: keyB, remembered: keyA })));
    expect(e.message).to.include('changed during the run');
  });

  it('rejects a revoked key, naming the @revoked line, even when another line lists it', () => {
    const text = `${lineA}\n@revoked * ssh-ed25519 ${keyA.toString('base64')}`;
    for (const policy of ['strict', 'accept-new'] as const) {
      expect(rejected(decideHostKey(check({ policy, knownHostsFiles: [{ path: '/kh', text }] }))).message).to.include('REVOKED').and.include('@revoked at /kh:2');
    }
  });

  it('says that a @cert-authority line for the host is not supported', () => {
    const text = `@cert-authority *.example,10.0.0.* ssh-ed25519 ${keyB.toString('base64')}`;
    const e = rejected(decideHostKey(check({ host: '10.0.0.9', port: 22, knownHostsFiles: [{ path: '/etc/ssh/ssh_known_hosts', text }] })));
    expect(e.message).to.include('/etc/ssh/ssh_known_hosts:1 is a @cert-authority line for this host, but host certificates are not supported');
  });

  it('says when a line for the bare host lists another key, which OpenSSH ignores for another port', () => {
    const text = `10.0.0.9 ssh-ed25519 ${keyB.toString('base64')}`;
    const e = rejected(decideHostKey(check({ knownHostsFiles: [{ path: '/kh', text }] })));
    expect(e.message).to.include('no host key is known').and.include('/kh:1 lists another key for 10.0.0.9 without the port, which OpenSSH ignores for port 2222');
  });

  it('off: accepts anything but says so', () => {
    const d = decideHostKey(check({ policy: 'off', pin: { fingerprint: fpB } }));
    expect(d.accept).to.equal(true);
    if (d.accept) expect(d.note).to.include('host key checking is off');
  });
});
