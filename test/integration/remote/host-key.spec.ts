// Host-key policies and credential errors against a real OpenSSH server (see sshd-fixture.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { HostKeyError, SshConnectError } from '../../../lib/remote/errors.ts';
import { connectNode, type SshSessionOptions } from '../../../lib/remote/ssh-session.ts';
import { buildNode, canRunSshd, generateKey, makeTempDir, removeRunSshdIfOurs, startSshd, type KeyPair, type SshdHandle } from './sshd-fixture.ts';

async function connectError(node: PodNode, options: Partial<SshSessionOptions> = {}): Promise<SshConnectError> {
  try {
    const s = await connectNode(node, { runId: 'it-hostkey', readyTimeoutMs: 5000, ...options });
    await s.close();
  } catch (e) {
    expect(e).to.be.instanceOf(SshConnectError);
    return e as SshConnectError;
  }
  throw new Error('expected the connection to be refused');
}

describe('remote host keys and credentials (integration, real sshd)', function () {
  this.timeout(20_000);
  let dir = '';
  let sshd: SshdHandle | undefined;
  let hostA: KeyPair;
  let hostB: KeyPair;
  let client: KeyPair;
  let authorizedKeys = '';

  before(async function () {
    if (!canRunSshd()) this.skip();
    dir = makeTempDir('hostkey');
    hostA = generateKey(dir, 'host-a');
    hostB = generateKey(dir, 'host-b');
    client = generateKey(dir, 'client');
    authorizedKeys = join(dir, 'authorized_keys');
    execFileSync('cp', [`${client.path}.pub`, authorizedKeys]);
    sshd = await startSshd({ dir, hostKey: hostA, authorizedKeys });
  });

  after(async () => {
    await sshd?.stop();
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const node = (over: Partial<PodNode> = {}) => buildNode({ sshPort: sshd?.port ?? 0, keyFilename: client.path, ...over });
  // OpenSSH's files stand in temp files here, so that the machine's own ~/.ssh/known_hosts plays no part.
  const openSshFiles = (name: string) => ({ user: [join(dir, `${name}-user`)], system: [join(dir, `${name}-system`)] });

  it('strict: connects with the right fingerprint pin', async () => {
    const s = await connectNode(node({ hostKey: { fingerprint: hostA.fingerprint } }), { runId: 'it-hostkey' });
    expect((await s.exec(['echo', 'ok'])).stdout).to.equal('ok\n');
    await s.close();
  });

  it('strict: rejects a mismatching pin and shows both fingerprints', async () => {
    const e = await connectError(node({ hostKey: { fingerprint: hostB.fingerprint } }));
    expect(e).to.be.instanceOf(HostKeyError);
    expect(e.message).to.include(`expected ${hostB.fingerprint}`).and.include(`offered ssh-ed25519 ${hostA.fingerprint}`);
  });

  it('strict: refuses a node that is neither pinned nor in known_hosts, and says how to add it', async () => {
    const files = openSshFiles('none');
    const e = await connectError(node(), { knownHostsFiles: files });
    expect(e).to.be.instanceOf(HostKeyError);
    expect(e.message).to.include('no host key is known for node it-node').and.include(files.user[0]).and.include('ssh-keyscan').and.include('accept-new');
  });

  it("strict: accepts a node the user's known_hosts lists (written by ssh-keyscan), with no pin", async () => {
    const files = openSshFiles('keyscan');
    execFileSync('sh', ['-c', `ssh-keyscan -p ${sshd?.port} 127.0.0.1 > ${files.user[0]} 2>/dev/null`]);
    const s = await connectNode(node(), { runId: 'it-hostkey', knownHostsFiles: files });
    await s.close();
  });

  it("a pin wins: a stale known_hosts line for the node's address does not stop it (the lab pins its keys)", async () => {
    const files = openSshFiles('stale');
    writeFileSync(files.user[0] as string, `[127.0.0.1]:${sshd?.port} ${hostB.publicLine.split(' ').slice(0, 2).join(' ')}\n`);
    const pinned = await connectNode(node({ hostKey: { fingerprint: hostA.fingerprint } }), { runId: 'it-hostkey', knownHostsFiles: files });
    await pinned.close();
    const e = await connectError(node(), { knownHostsFiles: files });
    expect(e.message, 'without the pin, the same stale line is a changed key').to.include('has CHANGED');
  });

  it('strict: accepts a node its known_hosts pin lists, hashed by ssh-keygen -H', async () => {
    const kh = join(dir, 'pinned_known_hosts');
    execFileSync('sh', ['-c', `echo "[127.0.0.1]:${sshd?.port} $(cut -d' ' -f1,2 ${hostA.path}.pub)" > ${kh} && ssh-keygen -q -H -f ${kh} 2>/dev/null`]);
    expect(readFileSync(kh, 'utf8')).to.match(/^\|1\|/);
    const s = await connectNode(node({ hostKey: { knownHosts: kh } }), { runId: 'it-hostkey' });
    await s.close();
  });

  it('asks a server with several host keys for the type known_hosts lists', async () => {
    const ecdsa = generateKey(dir, 'host-ecdsa', 'ecdsa');
    const multi = await startSshd({ dir, hostKey: [hostA, ecdsa], authorizedKeys });
    try {
      const kh = join(dir, 'ecdsa_known_hosts');
      writeFileSync(kh, `[127.0.0.1]:${multi.port} ${readFileSync(`${ecdsa.path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      const s = await connectNode(node({ sshPort: multi.port, hostKey: { knownHosts: kh } }), { runId: 'it-hostkey' });
      await s.close();
      const e = await connectError(node({ sshPort: multi.port, hostKey: { fingerprint: ecdsa.fingerprint } }));
      expect(e.message, 'a fingerprint pin cannot steer the algorithm: the error must say which key to pin').to.include('ssh_host_ed25519_key.pub');
    } finally {
      await multi.stop();
    }
  });

  it('accept-new: records an unknown host, then rejects its changed key', async () => {
    const knownHostsFile = join(dir, 'run', 'known_hosts');
    const files = { user: [knownHostsFile], system: [] };
    // A last line without its newline (hand-edited) must not be glued to the new entry (hostfile.c add_host_to_hostfile).
    const otherHost = `node9 ${hostB.publicLine.split(' ').slice(0, 2).join(' ')}`;
    execFileSync('sh', ['-c', `mkdir -p ${join(dir, 'run')} && printf '%s' '${otherHost}' > ${knownHostsFile}`]);
    const lines: string[] = [];
    const first = await connectNode(node(), { runId: 'it-hostkey', hostKeyPolicy: 'accept-new', knownHostsFiles: files, log: (l) => lines.push(l) });
    await first.close();
    const pub = readFileSync(`${hostA.path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(knownHostsFile, 'utf8')).to.equal(`${otherHost}\n[127.0.0.1]:${sshd?.port} ${pub}\n`);
    expect(lines.join('\n')).to.include('permanently added');

    // Same address, new host key: a man in the middle or a reinstall; never accepted silently.
    const port = sshd?.port;
    await sshd?.stop();
    sshd = await startSshd({ dir, hostKey: hostB, authorizedKeys, port });
    const e = await connectError(node(), { hostKeyPolicy: 'accept-new', knownHostsFiles: files });
    expect(e).to.be.instanceOf(HostKeyError);
    expect(e.message).to.include('CHANGED').and.include(hostA.fingerprint).and.include(hostB.fingerprint);
    expect(readFileSync(knownHostsFile, 'utf8').trim().split('\n')).to.have.length(2);
    await sshd.stop();
    sshd = await startSshd({ dir, hostKey: hostA, authorizedKeys, port });
  });

  it('names the node and the path of a missing key file, before any network step', async () => {
    const missing = join(dir, 'no-such-key');
    const e = await connectError(node({ keyFilename: missing, hostKey: { fingerprint: hostA.fingerprint } }));
    expect(e.message).to.include('node it-node').and.include(missing);
  });

  it("logs in with an inline PEM key (Yardstick's pkey, as paramiko's RSAKey.from_private_key reads it)", async () => {
    const pem = join(dir, 'client-pem');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', pem]);
    execFileSync('sh', ['-c', `cat ${pem}.pub >> ${authorizedKeys}`]);
    const s = await connectNode(node({ keyFilename: undefined, privateKey: readFileSync(pem, 'utf8'), hostKey: { fingerprint: hostA.fingerprint } }), { runId: 'it-hostkey' });
    expect((await s.exec(['echo', 'pkey'])).stdout).to.equal('pkey\n');
    await s.close();
  });

  it('says which node refused authentication', async () => {
    const other = generateKey(dir, 'stranger');
    const e = await connectError(node({ keyFilename: other.path, hostKey: { fingerprint: hostA.fingerprint } }));
    expect(e.message).to.match(/node it-node \(root@127\.0\.0\.1:\d+\) refused authentication/);
    expect(e.retryable).to.equal(false);
  });

  it('says which node is unreachable', async () => {
    const e = await connectError(node({ sshPort: 1, hostKey: { fingerprint: hostA.fingerprint } }));
    expect(e.message).to.include('cannot connect to node it-node (root@127.0.0.1:1)').and.include('ECONNREFUSED');
  });
});
