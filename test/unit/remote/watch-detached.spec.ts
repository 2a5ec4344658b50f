import { expect } from 'chai';
import { SshConnectError } from '../../../lib/remote/errors.ts';
import type { RawExecOptions } from '../../../lib/remote/ssh-session.ts';
import type { DetachedProcess, RemoteCommand, RemoteResult } from '../../../lib/remote/types.ts';
import { ExitWatcher, untilDeadline } from '../../../lib/remote/watch-detached.ts';
import { EXITED_MARKER } from '../../../lib/remote/watch-scripts.ts';

const proc: DetachedProcess = { node: 'n', name: 'p', pid: 4242, stdoutPath: '/o', stderrPath: '/e', exitCodePath: '/rc' };

function result(stdout: string, extra: Partial<RemoteResult> = {}): { result: RemoteResult; stdout: Buffer } {
  const r: RemoteResult = { node: 'n', command: 'wait', escapedCommand: 'wait', exitCode: 0, signal: null, stdout, stderr: '', durationMs: 1, timedOut: false, failed: false, ...extra };
  return { result: r, stdout: Buffer.from(stdout) };
}

/** A host whose run() answers from a list, in order, recording each call's options. */
function host(answers: Array<() => Promise<{ result: RemoteResult; stdout: Buffer }>>) {
  const calls: RawExecOptions[] = [];
  const lines: string[] = [];
  return {
    calls,
    lines,
    watcher: new ExitWatcher({
      node: 'n',
      runDir: '/tmp/kfn-unit',
      log: (l) => lines.push(l),
      run: (_command: RemoteCommand, options: RawExecOptions) => {
        calls.push(options);
        const next = answers.shift();
        if (!next) throw new Error('unexpected run');
        return next();
      },
    }),
  };
}

const held = (closed: Promise<{ lost: boolean }>) => {
  let released = false;
  return { closed, release: () => void (released = true), released: () => released };
};

describe('remote/watch-detached', () => {
  it('learns the end of a watched process from its channel alone, running nothing on the node', async () => {
    const h = host([]);
    h.watcher.hold('p', held(new Promise((r) => setTimeout(() => r({ lost: false }), 20))));
    expect(await h.watcher.waitForExit(proc, { privileged: true, deadline: Date.now() + 5_000 })).to.equal('exited');
    expect(h.calls).to.deep.equal([]);
  });

  it('after a lost connection, reconnects and waits with the wait script on the housekeeping CPUs', async () => {
    const h = host([
      () => Promise.reject(new SshConnectError('n', 'connection refused', { retryable: true })),
      () => Promise.resolve(result(`${EXITED_MARKER}\n`)),
    ]);
    h.watcher.hold('p', held(Promise.resolve({ lost: true })));
    expect(await h.watcher.waitForExit(proc, { privileged: false, deadline: Date.now() + 10_000 })).to.equal('exited');
    expect(h.calls.map((c) => [c.housekeeping, c.privileged, c.reject])).to.deep.equal([
      [true, false, false],
      [true, false, false],
    ]);
    expect(h.lines.join('\n')).to.match(/connection lost while waiting.*goes on/).and.match(/trying again/);
  });

  it('ends with deadline when the process outlives it, leaving the channel held', async () => {
    const h = host([]);
    const channel = held(new Promise(() => undefined));
    h.watcher.hold('p', channel);
    expect(await h.watcher.waitForExit(proc, { privileged: true, deadline: Date.now() + 30 })).to.equal('deadline');
    expect(channel.released()).to.equal(false);
    h.watcher.release('p');
    expect(channel.released()).to.equal(true);
  });

  it('ends with aborted at once when the signal aborts', async () => {
    const h = host([]);
    h.watcher.hold('p', held(new Promise(() => undefined)));
    const controller = new AbortController();
    const began = Date.now();
    setTimeout(() => controller.abort(), 20);
    expect(await h.watcher.waitForExit(proc, { privileged: true, deadline: Date.now() + 60_000, signal: controller.signal })).to.equal('aborted');
    expect(Date.now() - began).to.be.below(5_000);
  });

  it('throws what is not a lost connection: a failed wait script, a refused key', async () => {
    const failing = host([() => Promise.resolve(result('', { exitCode: 2, failed: true, stderr: 'kill: bad pid' }))]);
    const e = await failing.watcher.waitForExit(proc, { privileged: true, deadline: Date.now() + 5_000 }).catch((error: unknown) => error);
    expect(String(e)).to.include('kill: bad pid');
    const refused = host([() => Promise.reject(new SshConnectError('n', 'host key mismatch', { retryable: false }))]);
    const e2 = await refused.watcher.waitForExit(proc, { privileged: true, deadline: Date.now() + 5_000 }).catch((error: unknown) => error);
    expect(String(e2)).to.include('host key mismatch');
  });

  it('untilDeadline passes a value through, or says deadline or aborted', async () => {
    expect(await untilDeadline(Promise.resolve(3), 1_000, undefined)).to.equal(3);
    expect(await untilDeadline(new Promise(() => undefined), 5, undefined)).to.equal('deadline');
    expect(await untilDeadline(Promise.resolve(3), 1_000, AbortSignal.abort())).to.equal('aborted');
  });
});
