// A non-root node user that reaches root through `sudo -n`, against a real sshd. Creates the
// throwaway user kfntest and a sudoers drop-in, and removes both in after(). Skipped when sudo
// is not installed or a user kfntest already exists.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { SudoError } from '../../../lib/remote/errors.ts';
import { connectNode, type SshNodeSession } from '../../../lib/remote/ssh-session.ts';
import { buildNode, canRunSshd, generateKey, isAlive, makeTempDir, removeRunSshdIfOurs, startSshd, type SshdHandle } from './sshd-fixture.ts';

const USER = 'kfntest';
const SUDOERS = '/etc/sudoers.d/kfntest-remote-it';

function run(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('remote sudo -n for a non-root user (integration, real sshd and sudo)', function () {
  this.timeout(20_000);
  let dir = '';
  let sshd: SshdHandle | undefined;
  let session: SshNodeSession | undefined;
  let createdUser = false;

  before(async function () {
    if (!canRunSshd() || !existsSync('/usr/bin/sudo') || !existsSync('/usr/sbin/useradd') || run('id', [USER])) this.skip();
    dir = makeTempDir('sudo');
    chmodSync(dir, 0o755); // sshd reads authorized_keys as the user
    const host = generateKey(dir, 'host');
    const client = generateKey(dir, 'client');
    const authorizedKeys = join(dir, 'authorized_keys');
    execFileSync('cp', [`${client.path}.pub`, authorizedKeys]);
    chmodSync(authorizedKeys, 0o644);
    const home = join(dir, 'home');
    execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', USER]);
    createdUser = true;
    execFileSync('usermod', ['-p', '*', USER]); // not locked, no password: key login only
    mkdirSync(home);
    execFileSync('chown', [USER, home]);
    writeFileSync(SUDOERS, `${USER} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    sshd = await startSshd({ dir, hostKey: host, authorizedKeys });
    const node = buildNode({ name: 'nonroot', user: USER, sshPort: sshd.port, keyFilename: client.path, hostKey: { fingerprint: host.fingerprint }, housekeepingCpus: [0] });
    session = await connectNode(node, { runId: `it-sudo-${process.pid}`, cleanupGraceMs: 500 });
  });

  after(async () => {
    await session?.cleanup().catch(() => undefined);
    await session?.close();
    await sshd?.stop();
    rmSync(SUDOERS, { force: true });
    if (createdUser) execFileSync('userdel', [USER]);
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs privileged commands and scripts as root through sudo -n, others as the user', async () => {
    const s = session as SshNodeSession;
    const r = await s.exec(['id', '-u']);
    expect(r.escapedCommand).to.equal('sudo -n id -u');
    expect(r.stdout).to.equal('0\n');
    expect((await s.exec({ script: `id -u; printf '%s\\n' "it's"` })).stdout).to.equal("0\nit's\n");
    expect((await s.exec(['id', '-un'], { privileged: false })).stdout).to.equal(`${USER}\n`);
  });

  it('kills a timed-out command that runs as root under sudo', async () => {
    const s = session as SshNodeSession;
    const tag = `4${Math.floor(Math.random() * 1e6)}`;
    const r = await s.exec(['sleep', tag], { timeoutMs: 800, reject: false });
    expect(r.timedOut).to.equal(true);
    expect(run('pgrep', ['-f', `sleep ${tag}`]), 'sleep survived the timeout').to.equal(false);
  });

  it('starts a root measurement in a runDir owned by the user, stops it and cleans up', async () => {
    const s = session as SshNodeSession;
    const p = await s.startDetached({ name: 'rooted', command: { script: `trap 'echo bye; exit 0' INT; while :; do sleep 0.05; done` } });
    expect(statSync(s.runDir).uid).to.equal(Number(execFileSync('id', ['-u', USER]).toString()));
    expect(readFileSync(`/proc/${p.pid}/status`, 'utf8')).to.match(/^Uid:\s+0\s/m);
    const outcome = await s.stopDetached(p, { graceMs: 2000 });
    expect(outcome).to.deep.include({ stopped: true, exitCode: 0, stdout: 'bye\n' });
    const q = await s.startDetached({ name: 'left', command: ['sleep', '600'] });
    await s.cleanup();
    expect(isAlive(q.pid)).to.equal(false);
    expect(existsSync(s.runDir)).to.equal(false);
  });

  it('watches a root measurement under sudo through its idle channel, and runs read-backs on the housekeeping CPUs', async () => {
    const s = session as SshNodeSession;
    const p = await s.startDetached({ name: 'rooted-watched', command: ['sh', '-c', 'sleep 1; echo fin'], watch: true });
    expect(await s.waitForExit(p, { deadline: Date.now() + 10_000 })).to.equal('exited');
    expect(await s.stopDetached(p)).to.deep.include({ stopped: false, exitCode: 0, stdout: 'fin\n' });
    const pinned = await s.exec({ script: `grep Cpus_allowed_list /proc/$$/status` }, { housekeeping: true, privileged: false });
    expect(pinned.stdout.trim()).to.match(new RegExp(`:\\s+${s.node.housekeepingCpus.join(',')}$`));
  });

  it('says the user needs NOPASSWD when sudo asks for a password, even with reject: false', async () => {
    const s = session as SshNodeSession;
    rmSync(SUDOERS);
    try {
      const e = await s.exec(['true'], { reject: false }).then(() => undefined, (err: unknown) => err);
      expect(e).to.be.instanceOf(SudoError);
      expect((e as SudoError).problem).to.equal('password-required');
      expect((e as SudoError).message).to.include('NOPASSWD').and.include(USER).and.include('nonroot');
    } finally {
      writeFileSync(SUDOERS, `${USER} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    }
  });
});
