// exec against a real OpenSSH server on 127.0.0.1 (see sshd-fixture.ts): output, exit codes,
// stdin, quoting, timeouts, binary transfers and redaction.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { RemoteCommandError } from '../../../lib/remote/errors.ts';
import { connectNode, type SshNodeSession } from '../../../lib/remote/ssh-session.ts';
import { buildNode, canRunSshd, generateKey, makeTempDir, removeRunSshdIfOurs, startSshd, type SshdHandle } from './sshd-fixture.ts';

const HOSTILE = ['', ' ', "it's", '"q"', '$(touch /tmp/kfn-remote-pwned)', '`id`', '$HOME', 'a;b|c&d', '*', '~', 'l1\nl2', 'tab\t', '\\', '!x', 'ünï ✓', '-n'];
const SECRET = "it's-S3cr3t$(x)";

async function commandError(p: Promise<unknown>): Promise<RemoteCommandError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(RemoteCommandError);
    return e as RemoteCommandError;
  }
  throw new Error('expected RemoteCommandError');
}

function pgrep(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim();
  } catch {
    return ''; // exit 1: no process matched
  }
}

describe('remote/ssh-session exec (integration, real sshd)', function () {
  this.timeout(20_000);
  let dir = '';
  let sshd: SshdHandle | undefined;
  let session: SshNodeSession;
  const lines: string[] = [];

  before(async function () {
    if (!canRunSshd()) this.skip();
    dir = makeTempDir('exec');
    const host = generateKey(dir, 'host');
    const client = generateKey(dir, 'client');
    execFileSync('cp', [`${client.path}.pub`, join(dir, 'authorized_keys')]);
    sshd = await startSshd({ dir, hostKey: host, authorizedKeys: join(dir, 'authorized_keys') });
    const node = buildNode({ sshPort: sshd.port, keyFilename: client.path, password: SECRET, hostKey: { fingerprint: host.fingerprint } });
    session = await connectNode(node, { runId: `it-exec-${process.pid}`, log: (l) => lines.push(l) });
  });

  after(async () => {
    await session?.cleanup();
    await session?.close();
    await sshd?.stop();
    removeRunSshdIfOurs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('returns stdout, stderr and the exit code', async () => {
    const r = await session.exec({ script: 'echo out; echo err >&2; exit 3' }, { reject: false, label: 'probe' });
    expect(r).to.deep.include({ node: 'it-node', stdout: 'out\n', stderr: 'err\n', exitCode: 3, signal: null, timedOut: false, failed: true });
    const ok = await session.exec(['true']);
    expect(ok).to.deep.include({ exitCode: 0, failed: false, stderr: '' });
  });

  it('throws RemoteCommandError with the result fields by default', async () => {
    const e = await commandError(session.exec(['sh', '-c', 'echo broken >&2; exit 5'], { label: 'tool' }));
    expect(e.exitCode).to.equal(5);
    expect(e.shortMessage).to.match(/^tool on it-node exited 5: sh -c /);
    expect(e.message).to.include('broken');
  });

  it('passes hostile arguments through unchanged and runs none of them', async () => {
    rmSync('/tmp/kfn-remote-pwned', { force: true });
    const r = await session.exec(['printf', '%s\\0', ...HOSTILE]);
    expect(r.stdout.split('\0').slice(0, -1)).to.deep.equal(HOSTILE);
    expect(() => statSync('/tmp/kfn-remote-pwned')).to.throw();
  });

  it('feeds stdin', async () => {
    const r = await session.exec(['wc', '-c'], { input: 'hello\nwörld\n' });
    expect(r.stdout.trim()).to.equal(String(Buffer.byteLength('hello\nwörld\n')));
    expect((await session.exec(['cat'], { timeoutMs: 5000 })).stdout).to.equal(''); // EOF even without input
  });

  it('runs builtins given as argv', async () => {
    expect((await session.exec(['command', '-v', 'sh'])).stdout.trim()).to.match(/\/sh$/);
  });

  it('times out, kills the whole remote process group and says so', async () => {
    const tag = `3${Math.floor(Math.random() * 1e6)}`;
    const started = Date.now();
    const r = await session.exec({ script: `sleep ${tag} & sleep ${tag}; echo never` }, { timeoutMs: 1000, reject: false, label: 'sleeper' });
    expect(r.timedOut).to.equal(true);
    expect(r.failed).to.equal(true);
    expect(r.stdout).to.equal('');
    expect(Date.now() - started).to.be.lessThan(6000);
    const left = pgrep(`sleep ${tag}`);
    expect(left, 'remote processes left after the timeout').to.equal('');
    const e = await commandError(session.exec(['sleep', tag], { timeoutMs: 500, label: 'sleeper' }));
    expect(e).to.be.instanceOf(RemoteCommandError);
    expect(e.shortMessage).to.equal(`sleeper on it-node timed out after 0.5 s: sleep ${tag}`);
    expect(lines.some((l) => l.includes('sleeper: timed out after 500 ms, killed'))).to.equal(true);
  });

  it('uploads and downloads binary content exactly, with a mode', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
    const path = join(dir, 'blob bin');
    await session.upload(data, path, { mode: 0o640 });
    expect(statSync(path).mode & 0o7777).to.equal(0o640);
    expect((await session.download(path)).equals(data)).to.equal(true);
    await session.upload('text ✓\n', path);
    expect((await session.download(path)).toString()).to.equal('text ✓\n');
    const missing = await session.download(join(dir, 'missing')).catch((err: unknown) => err);
    expect(missing).to.be.instanceOf(RemoteCommandError);
  });

  it('never writes a secret to the log or an error, while the caller still gets its output', async () => {
    const r = await session.exec(['echo', SECRET], { label: 'leak' });
    expect(r.stdout).to.equal(`${SECRET}\n`);
    expect(r.command).to.not.include(SECRET);
    expect(r.escapedCommand).to.not.include('S3cr3t');
    const e = await commandError(session.exec({ script: `echo '${SECRET.replaceAll("'", `'\\''`)}' >&2; exit 4` }));
    expect(e.message).to.not.include('S3cr3t');
    expect(e.stderr).to.equal('***\n');
    const all = lines.join('\n');
    expect(all).to.include('leak$ echo ***');
    expect(all).to.not.include('S3cr3t');
  });
});
