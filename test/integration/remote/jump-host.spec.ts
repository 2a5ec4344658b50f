// A node reached through a jump host: two real OpenSSH servers on 127.0.0.1 (see sshd-fixture.ts),
// the first forwarding (direct-tcpip) to the second.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { HostKeyError } from '../../../lib/remote/errors.ts';
import { connectNode } from '../../../lib/remote/ssh-session.ts';
import { buildNode, canRunSshd, generateKey, makeTempDir, removeRunSshdIfOurs, startSshd, type KeyPair, type SshdHandle } from './sshd-fixture.ts';

describe('remote jump host (integration, real sshd)', function () {
  this.timeout(20_000);
  let dir = '';
  let jump: SshdHandle | undefined;
  let target: SshdHandle | undefined;
  let jumpKey: KeyPair;
  let targetKey: KeyPair;
  let client: KeyPair;

  before(async function () {
    if (!canRunSshd()) this.skip();
    dir = makeTempDir('jump');
    jumpKey = generateKey(dir, 'jump-host');
    targetKey = generateKey(dir, 'target-host');
    client = generateKey(dir, 'client');
    execFileSync('cp', [`${client.path}.pub`, join(dir, 'authorized_keys')]);
    jump = await startSshd({ dir, hostKey: jumpKey, authorizedKeys: join(dir, 'authorized_keys') });
    target = await startSshd({ dir, hostKey: targetKey, authorizedKeys: join(dir, 'authorized_keys') });
  });

  after(async () => {
    await jump?.stop();
    await target?.stop();
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const node = (jumpFingerprint: string): PodNode =>
    buildNode({
      name: 'behind-jump',
      sshPort: target?.port ?? 0,
      keyFilename: client.path,
      hostKey: { fingerprint: targetKey.fingerprint },
      jumpHost: { ip: '127.0.0.1', user: 'root', sshPort: jump?.port ?? 0, keyFilename: client.path, hostKey: { fingerprint: jumpFingerprint } },
    });

  it('reaches the node through the jump host', async () => {
    const lines: string[] = [];
    const s = await connectNode(node(jumpKey.fingerprint), { runId: 'it-jump', log: (l) => lines.push(l) });
    try {
      const r = await s.exec({ script: 'echo "$SSH_CLIENT"' });
      const [, sourcePort, port] = r.stdout.trim().split(' ');
      expect(Number(port)).to.equal(target?.port);
      // The target's peer socket belongs to the jump host's sshd, not to this process.
      const owner = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${sourcePort} )`]).toString();
      expect(owner).to.include('"sshd"');
      expect(owner).to.not.include(`pid=${process.pid},`);
      expect(lines.join('\n')).to.include(`connected to root@127.0.0.1:${target?.port} via 127.0.0.1`);
    } finally {
      await s.close();
    }
  });

  it('checks the jump host key too', async () => {
    const e = await connectNode(node(targetKey.fingerprint), { runId: 'it-jump' }).then(
      async (s) => (await s.close(), undefined),
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(HostKeyError);
    expect(String((e as Error).message)).to.include('jump host 127.0.0.1 of node behind-jump').and.include(jumpKey.fingerprint);
  });
});
