// known_hosts read as OpenSSH reads them: for each situation of test/support/openssh-known-hosts.ts,
// the installed ssh client (StrictHostKeyChecking=yes) and this suite (strict, no pin) must reach
// the same verdict against one real sshd. The known_hosts lines come from ssh-keyscan and
// ssh-keygen -H run here. With KFN_RECORD_OPENSSH_VERDICTS=FILE, the tools' output and ssh's
// verdicts are written to FILE (how test/unit/remote/fixtures/openssh-verdicts.json was made).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { connectNode } from '../../../lib/remote/ssh-session.ts';
import { buildSituations, readSshVerdict, readSuiteVerdict, type RecordedTools, type Verdict } from '../../support/openssh-known-hosts.ts';
import { buildNode, canRunSshd, generateKey, makeTempDir, removeRunSshdIfOurs, startSshd, type KeyPair, type SshdHandle } from './sshd-fixture.ts';

const pub = (key: KeyPair) => key.publicLine.split(' ').slice(0, 2).join(' ');

describe('known_hosts as OpenSSH reads them (integration, real ssh, ssh-keyscan, ssh-keygen -H)', function () {
  this.timeout(60_000);
  let dir = '';
  let sshd: SshdHandle | undefined;
  let client: KeyPair;
  let tools: RecordedTools;
  const verdicts: Record<string, Verdict | undefined> = {};

  before(async function () {
    if (!canRunSshd()) this.skip();
    dir = makeTempDir('openssh-kh');
    const host = generateKey(dir, 'host-ed25519');
    client = generateKey(dir, 'client');
    execFileSync('cp', [`${client.path}.pub`, join(dir, 'authorized_keys')]);
    sshd = await startSshd({ dir, hostKey: host, authorizedKeys: join(dir, 'authorized_keys') });
    const port = sshd.port;
    const scan = (extra: string[]) => execFileSync('ssh-keyscan', [...extra, '-t', 'ed25519', '-p', String(port), '127.0.0.1'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const toHash = join(dir, 'to-hash');
    writeFileSync(toHash, `127.0.0.1,localhost ${pub(host)}\n[localhost]:${port} ${pub(host)}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', toHash], { stdio: 'ignore' });
    tools = {
      openssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
      port,
      keyscan: scan([]),
      keyscanHashed: scan(['-H']),
      keygenHashed: readFileSync(toHash, 'utf8'),
      otherEd25519: pub(generateKey(dir, 'other-ed25519')),
      otherEcdsa: pub(generateKey(dir, 'other-ecdsa', 'ecdsa')),
    };
  });

  after(async () => {
    await sshd?.stop();
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
    const record = process.env.KFN_RECORD_OPENSSH_VERDICTS;
    if (record && tools) writeFileSync(record, `${JSON.stringify({ ...tools, verdicts }, null, 2)}\n`);
  });

  it('the tools wrote what the situations are built from', () => {
    expect(tools.keyscan).to.match(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${tools.port} ssh-ed25519 `));
    expect(tools.keyscanHashed).to.match(/^\|1\|[^ |]+\|[^ ]+ ssh-ed25519 /);
    expect(tools.keygenHashed.trim().split('\n')).to.have.length(3);
  });

  // One test per situation, named when the tests are declared (the port is only known later).
  for (const [index, name] of buildSituations(placeholderTools()).map((s, i) => [i, s.name] as const)) {
    it(`ssh and this suite agree: ${name}`, async () => {
      const situation = buildSituations(tools)[index];
      if (!situation) throw new Error(`no situation ${index}`);
      const userFile = join(dir, `user-${index}`);
      const systemFile = join(dir, `system-${index}`);
      writeFileSync(userFile, situation.user);
      writeFileSync(systemFile, situation.system);
      const ssh = spawnSync(
        'ssh',
        ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${userFile}`, '-o', `GlobalKnownHostsFile=${systemFile}`]
          .concat(['-o', 'ConnectTimeout=10', '-i', client.path, '-p', String(tools.port), `root@${situation.host}`, 'true']),
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 },
      );
      const sshVerdict = readSshVerdict(ssh.status ?? -1, ssh.stderr);
      expect(sshVerdict, `ssh said: ${ssh.stderr}`).to.not.equal(undefined);
      verdicts[situation.name] = sshVerdict;

      let error: Error | undefined;
      try {
        const node = buildNode({ sshPort: tools.port, ip: situation.host, keyFilename: client.path });
        const session = await connectNode(node, { runId: 'it-openssh-kh', readyTimeoutMs: 10_000, knownHostsFiles: { user: [userFile], system: [systemFile] } });
        await session.close();
      } catch (e) {
        error = e as Error;
      }
      expect(readSuiteVerdict(error), error?.message).to.equal(sshVerdict);
    });
  }
});

// Names only: the situations' names do not depend on the tools' output.
function placeholderTools(): RecordedTools {
  return { openssh: '', port: 2222, keyscan: '[127.0.0.1]:2222 ssh-ed25519 AAAA\n', keyscanHashed: '', keygenHashed: '', otherEd25519: '', otherEcdsa: '' };
}
