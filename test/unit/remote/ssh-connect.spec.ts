import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { SshConnectError } from '../../../lib/remote/errors.ts';
import { buildTargets, resolveAuth } from '../../../lib/remote/ssh-connect.ts';

function node(over: Partial<PodNode>): PodNode {
  return {
    name: 'host1', role: 'host', declaredRole: 'Compute', ip: '192.0.2.10', user: 'root', sshPort: 22,
    rtCpus: [], housekeepingCpus: [], ports: [], tools: {}, extra: {}, ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<SshConnectError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(SshConnectError);
    return e as SshConnectError;
  }
  throw new Error('expected a rejection');
}

describe('remote/ssh-connect resolveAuth', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kfn-remote-auth-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the node and the path of a missing key file', async () => {
    const { target } = buildTargets(node({ keyFilename: join(dir, 'nope') }));
    const e = await rejection(resolveAuth(target, {}));
    expect(e.message).to.include('node host1').and.include(join(dir, 'nope')).and.include('ENOENT');
    expect(e.retryable).to.equal(false);
  });

  it('names the variable, never a value, when passwordRef is unset', async () => {
    const { target } = buildTargets(node({ passwordRef: { env: 'KFN_TEST_PW' } }));
    const e = await rejection(resolveAuth(target, { OTHER: 'x' }));
    expect(e.message).to.include('KFN_TEST_PW').and.include('not set');
    expect(await resolveAuth(target, { KFN_TEST_PW: 'pw-value' })).to.deep.equal({ password: 'pw-value' });
  });

  it('reads and checks a key now, and asks for the passphrase of an encrypted one', async function () {
    const plain = join(dir, 'plain');
    const locked = join(dir, 'locked');
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', plain]);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass-phrase', '-f', locked]);
    } catch {
      this.skip();
    }
    const ok = await resolveAuth(buildTargets(node({ keyFilename: plain })).target, {});
    expect(ok.privateKey).to.be.instanceOf(Buffer);
    const e = await rejection(resolveAuth(buildTargets(node({ keyFilename: locked })).target, {}));
    expect(e.message).to.include('encrypted').and.include('keyPassphraseRef');
    const ref = node({ keyFilename: locked, keyPassphraseRef: { env: 'KFN_TEST_PP' } });
    const bad = await rejection(resolveAuth(buildTargets(ref).target, { KFN_TEST_PP: 'wrong' }));
    expect(bad.message).to.include(locked).and.not.include('wrong');
    const good = await resolveAuth(buildTargets(ref).target, { KFN_TEST_PP: 'pass-phrase' });
    expect(good.passphrase).to.equal('pass-phrase');
  });

  it('refuses a key file that is not a key', async () => {
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'not a key');
    chmodSync(junk, 0o600);
    const e = await rejection(resolveAuth(buildTargets(node({ keyFilename: junk })).target, {}));
    expect(e.message).to.include(`cannot use key file ${junk} of node host1`);
  });

  // yardstick/ssh.py passes pkey to paramiko's RSAKey.from_private_key: a PEM key as text.
  it('logs in with an inline key (Yardstick pkey) instead of the key file, and never prints it', async function () {
    const pem = join(dir, 'pem');
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', pem]);
    } catch {
      this.skip();
    }
    const text = readFileSync(pem, 'utf8');
    const auth = await resolveAuth(buildTargets(node({ privateKey: text, keyFilename: join(dir, 'nope') })).target, {});
    expect(auth.privateKey?.toString()).to.equal(text);
    const broken = text.replace(/^(-----BEGIN [A-Z ]+-----\n)[^\n]+/, '$1AAAA');
    const e = await rejection(resolveAuth(buildTargets(node({ privateKey: broken })).target, {}));
    expect(e.message).to.include('cannot use the inline key (pkey) of node host1');
    for (const line of broken.split('\n').filter((l) => l.length > 16)) expect(e.message).not.to.include(line);
  });

  it('falls back to the ssh-agent, or says there is nothing to log in with', async () => {
    const { target } = buildTargets(node({}));
    expect(await resolveAuth(target, { SSH_AUTH_SOCK: '/run/agent' })).to.deep.equal({ agent: '/run/agent' });
    expect((await rejection(resolveAuth(target, {}))).message).to.match(/no key_filename, no password and no ssh-agent/);
  });

  it('describes a jump host as the jump host of the node', async () => {
    const { jump } = buildTargets(node({ jumpHost: { ip: '192.0.2.1', user: 'jump', sshPort: 2200, passwordRef: { env: 'KFN_JUMP_PW' } } }));
    expect(jump).to.include({ host: '192.0.2.1', port: 2200, subject: 'jump host 192.0.2.1 of node host1' });
    if (!jump) return;
    expect((await rejection(resolveAuth(jump, {}))).message).to.include('jump host 192.0.2.1 of node host1').and.include('KFN_JUMP_PW');
  });
});
