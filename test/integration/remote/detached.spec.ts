// Detached processes against a real OpenSSH server (see sshd-fixture.ts): they must survive a
// dropped connection, stop with SIGINT and full output, and be gone after cleanup.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { SshConnectError } from '../../../lib/remote/errors.ts';
import { connectNode, type SshNodeSession } from '../../../lib/remote/ssh-session.ts';
import {
  buildNode,
  canRunSshd,
  dropAllConnections,
  generateKey,
  isAlive,
  makeTempDir,
  removeRunSshdIfOurs,
  startSshd,
  type SshdHandle,
} from './sshd-fixture.ts';

// A stand-in for cyclictest: prints as it runs and a summary on SIGINT.
const TICKER = `trap 'echo "got INT after $i ticks"; exit 0' INT; i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done`;

function pgrep(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim();
  } catch {
    return ''; // exit 1: no process matched
  }
}

describe('remote detached processes (integration, real sshd)', function () {
  this.timeout(30_000);
  let dir = '';
  let sshd: SshdHandle | undefined;
  let node: PodNode;
  let restart: () => Promise<SshdHandle> = () => Promise.reject(new Error('no sshd'));
  const runId = `it-detached-${process.pid}`;
  const sessions: SshNodeSession[] = [];
  const lines: string[] = [];

  const open = async () => {
    const s = await connectNode(node, { runId, log: (l) => lines.push(l), cleanupGraceMs: 500 });
    sessions.push(s);
    return s;
  };

  before(async function () {
    if (!canRunSshd()) this.skip();
    dir = makeTempDir('detached');
    const host = generateKey(dir, 'host');
    const client = generateKey(dir, 'client');
    execFileSync('cp', [`${client.path}.pub`, join(dir, 'authorized_keys')]);
    sshd = await startSshd({ dir, hostKey: host, authorizedKeys: join(dir, 'authorized_keys') });
    const port = sshd.port;
    restart = () => startSshd({ dir, hostKey: host, authorizedKeys: join(dir, 'authorized_keys'), port });
    node = buildNode({ sshPort: sshd.port, keyFilename: client.path, hostKey: { fingerprint: host.fingerprint } });
  });

  after(async () => {
    for (const s of sessions) {
      await s.cleanup().catch(() => undefined);
      await s.close();
    }
    await sshd?.stop();
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('survives a dropped connection, then stops with SIGINT and returns all its output', async () => {
    const s = await open();
    const p = await s.startDetached({ name: 'ticker', command: { script: TICKER }, label: 'ticker' });
    expect(statSync(s.runDir).mode & 0o777).to.equal(0o700);
    expect(isAlive(p.pid)).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));

    const dropped = dropAllConnections(sshd as SshdHandle);
    expect(dropped.length).to.be.greaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(isAlive(p.pid), 'the measurement died with the SSH connection').to.equal(true);

    expect(await s.isRunning(p)).to.equal(true); // reconnects transparently
    expect(lines.join('\n')).to.include('reconnected');
    const outcome = await s.stopDetached(p, { graceMs: 3000 });
    expect(outcome.stopped).to.equal(true);
    expect(outcome.exitCode).to.equal(0);
    const out = outcome.stdout.trim().split('\n');
    expect(out[0]).to.equal('tick 0');
    expect(out.at(-1)).to.match(/^got INT after \d+ ticks$/);
    expect(out.length).to.be.greaterThan(5);
    expect(isAlive(p.pid)).to.equal(false);
  });

  it('fails a command whose connection drops as a lost connection, kills it, and reconnects for the next', async () => {
    const s = await open();
    const tag = `5${Math.floor(Math.random() * 1e6)}`;
    const pending = s.exec(['sleep', tag], { label: 'victim' }).then(() => undefined, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 400));
    dropAllConnections(sshd as SshdHandle);
    const e = await pending;
    expect(e).to.be.instanceOf(SshConnectError);
    expect((e as SshConnectError).retryable).to.equal(true);
    expect((e as Error).message).to.include('connection lost while running victim');
    expect(pgrep(`sleep ${tag}`), 'the orphaned command was left running').to.equal('');
    expect((await s.exec(['echo', 'back'])).stdout).to.equal('back\n');
  });

  it('waitDetached returns when the process ends by itself, with its exit code and stderr', async () => {
    const s = await open();
    const p = await s.startDetached({ name: 'short', command: ['sh', '-c', 'echo done; echo warn >&2; exit 2'] });
    const { window, ...outcome } = await s.waitDetached(p, { timeoutMs: 5000 });
    expect(outcome).to.deep.equal({ exitCode: 2, stdout: 'done\n', stderr: 'warn\n', stopped: false });
    // Its lifetime on the node's clock, as results.json records measurement windows.
    expect(window?.startMs).to.be.within(Date.now() - 10_000, Date.now());
    expect((window?.endMs ?? -1) - (window?.startMs ?? 0)).to.be.within(0, 2_000);
  });

  it('waitDetached stops a process that outlives its timeout: SIGINT, then SIGTERM, then SIGKILL after each grace', async () => {
    const s = await open();
    const p = await s.startDetached({ name: 'deaf', command: { script: `trap '' INT TERM; while :; do sleep 0.05; done` } });
    const started = Date.now();
    const outcome = await s.waitDetached(p, { timeoutMs: 500, stop: { graceMs: 500 } });
    expect(outcome).to.include({ stopped: true, escalatedTo: 'KILL', exitCode: 137 }); // 128 + SIGKILL, as the wrapper shell reports it
    expect(Date.now() - started).to.be.lessThan(6000);
    expect(isAlive(p.pid)).to.equal(false);
  });

  it('learns the end of a watched process from its idle channel, with no command sent meanwhile', async () => {
    const s = await open();
    const p = await s.startDetached({ name: 'watched', command: ['sh', '-c', 'sleep 1.5; echo done'], watch: true });
    const mark = lines.length;
    const began = Date.now();
    expect(await s.waitForExit(p, { deadline: Date.now() + 10_000 })).to.equal('exited');
    const tookMs = Date.now() - began;
    expect(tookMs).to.be.within(1000, 5000);
    expect(lines.slice(mark).filter((l) => l.includes('$ ')), 'a command ran while waiting').to.deep.equal([]);
    const { window: _window, ...stopped } = await s.stopDetached(p);
    expect(stopped).to.deep.equal({ exitCode: 0, stdout: 'done\n', stderr: '', stopped: false });
  });

  it('keeps waiting across a dropped connection and collects the figures of a measurement that went on', async () => {
    const s = await open();
    const p = await s.startDetached({ name: 'through', command: { script: TICKER.replace('while :', 'while [ $i -lt 30 ]') }, watch: true });
    const waiting = s.waitForExit(p, { deadline: Date.now() + 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(dropAllConnections(sshd as SshdHandle).length).to.be.greaterThan(0);
    expect(await waiting).to.equal('exited');
    const outcome = await s.stopDetached(p);
    expect(outcome).to.include({ stopped: false, exitCode: 0 });
    expect(outcome.stdout.trim().split('\n')).to.have.length(30);
    expect(lines.join('\n')).to.match(/connection lost while waiting for it/).and.include('reconnected');
  });

  it('refuses a second process with the same name', async () => {
    const s = await open();
    await s.startDetached({ name: 'once', command: ['true'] });
    await s.startDetached({ name: 'once', command: ['true'] }).then(
      () => expect.fail('duplicate accepted'),
      (e: unknown) => expect(String(e)).to.include('already started'),
    );
  });

  it('cleanup stops every process with a pid file, also ones another session started, and removes runDir', async () => {
    const a = await open();
    const b = await open(); // same runDir, as a restarted harness would have
    const p1 = await a.startDetached({ name: 'c1', command: { script: TICKER } });
    const p2 = await a.startDetached({ name: 'c2', command: { script: `trap '' INT; while :; do sleep 0.05; done` } });
    const p3 = await b.startDetached({ name: 'c3', command: ['sleep', '600'] });
    for (const p of [p1, p2, p3]) expect(isAlive(p.pid)).to.equal(true);
    await a.cleanup();
    for (const p of [p1, p2, p3]) expect(isAlive(p.pid), `pid ${p.pid} (${p.name}) survived cleanup`).to.equal(false);
    expect(existsSync(a.runDir)).to.equal(false);
    await a.cleanup(); // twice is fine
    await b.cleanup();
  });

  it('gives up on a node gone for good once the reconnect window has passed since the loss, then tries each later step once', async () => {
    const s = await connectNode(node, { runId, log: (l) => lines.push(l), reconnectWindowMs: 1500 });
    sessions.push(s);
    await s.exec(['true']);
    // The connections first (found below the listener), then the listener: nothing to reconnect to.
    dropAllConnections(sshd as SshdHandle);
    await (sshd as SshdHandle).stop();
    try {
      const began = Date.now();
      expect(await s.download('/etc/hostname').catch((e: unknown) => e)).to.be.instanceOf(SshConnectError);
      expect(Date.now() - began).to.be.within(1000, 10_000);
      expect(lines.join('\n')).to.include('giving up on it until a connection works again');
      const again = Date.now();
      expect(await s.download('/etc/hostname').catch((e: unknown) => e)).to.be.instanceOf(SshConnectError);
      expect(Date.now() - again, 'a node given up on is tried once').to.be.below(1000);
    } finally {
      sshd = await restart();
    }
    expect((await s.exec(['echo', 'back'])).stdout).to.equal('back\n');
  });
});
