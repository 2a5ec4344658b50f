import { expect } from 'chai';
import { installAbortHandlers, ABORT_EXIT_CODE } from '../../../lib/harness/abort.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import { FakeProcess } from '../../support/fake-process.ts';


describe('abort handling', () => {
  it('aborts gracefully on the first SIGTERM and forces cleanup and exit on the second', async () => {
    const proc = new FakeProcess();
    const calls: string[] = [];
    let exited: number | undefined;
    let clock = 1_000;
    const handlers = installAbortHandlers({
      log: (l) => calls.push(`log:${l.split(' ')[0]}`),
      emergencyCleanup: async () => {
        calls.push('cleanup');
      },
      exit: (code) => {
        exited = code;
      },
      processLike: proc.asProcess(),
      now: () => clock,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(handlers.signal.aborted).to.equal(true);
    expect(handlers.received()).to.equal('SIGTERM');
    expect(handlers.abortedBy()).to.equal('SIGTERM');
    expect(calls).to.deep.equal(['log:SIGTERM']);
    clock += 5_000;
    proc.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(calls).to.include('cleanup');
    expect(exited).to.equal(ABORT_EXIT_CODE);
    handlers.dispose();
    expect(proc.listenerCount('SIGINT')).to.equal(0);
  });

  it('takes the same signal again within the window as one abort delivered twice (terminal + npm), and forces after it', async () => {
    const proc = new FakeProcess();
    const lines: string[] = [];
    let exited: number | undefined;
    let clock = 0;
    const handlers = installAbortHandlers({ log: (l) => lines.push(l), emergencyCleanup: async () => {}, exit: (code) => (exited = code), processLike: proc.asProcess(), now: () => clock });
    proc.emit('SIGINT', 'SIGINT');
    clock = 30;
    proc.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(exited).to.equal(undefined);
    expect(lines[1]).to.include('SIGINT again within 2000 ms: the same abort delivered twice');
    clock = 2_500;
    proc.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(exited).to.equal(ABORT_EXIT_CODE);
    handlers.dispose();
  });

  it('treats a new parent (the caller died, no signal reached the harness) as an abort; a hangup after it is the same abort', async () => {
    const proc = new FakeProcess();
    const lines: string[] = [];
    let exited: number | undefined;
    const handlers = installAbortHandlers({ log: (l) => lines.push(l), emergencyCleanup: async () => {}, exit: (code) => (exited = code), processLike: proc.asProcess(), parentPollMs: 5 });
    await new Promise((r) => setTimeout(r, 20));
    expect(handlers.signal.aborted).to.equal(false);
    proc.ppid = 1;
    await new Promise((r) => setTimeout(r, 20));
    expect(handlers.signal.aborted).to.equal(true);
    expect(handlers.abortedBy()).to.equal('the loss of its caller (pid 4242)');
    expect(handlers.received()).to.equal(undefined);
    expect(lines).to.deep.equal(["the harness's caller (pid 4242) is gone, its parent is now pid 1: stopping the measurement, keeping what was measured, cleaning up (send the signal again to force)"]);
    proc.emit('SIGHUP', 'SIGHUP');
    await new Promise((r) => setImmediate(r));
    expect(exited).to.equal(undefined);
    expect(lines[1]).to.include('SIGHUP received: already stopping');
    handlers.dispose();
  });

  it('forces the emergency cleanup and exit 70 when the graceful stop takes longer than the grace', async () => {
    const proc = new FakeProcess();
    const calls: string[] = [];
    let exited: number | undefined;
    const handlers = installAbortHandlers({ log: (l) => calls.push(l), emergencyCleanup: async () => void calls.push('cleanup'), exit: (code) => (exited = code), processLike: proc.asProcess(), graceMs: 20 });
    proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 60));
    expect(calls.slice(1)).to.deep.equal(['graceful stop took over 0 s: stopping remote processes and undoing pod changes now', 'cleanup']);
    expect(exited).to.equal(ABORT_EXIT_CODE);
    handlers.dispose();
  });

  it('aborts from within (a lost pod lock) with the reason, once, without forcing an exit', async () => {
    const proc = new FakeProcess();
    const lines: string[] = [];
    let exited: number | undefined;
    const handlers = installAbortHandlers({ log: (l) => lines.push(l), emergencyCleanup: async () => {}, exit: (code) => (exited = code), processLike: proc.asProcess() });
    handlers.abortFromWithin('pod lock on host lost');
    handlers.abortFromWithin('pod lock on guest lost');
    expect(handlers.signal.aborted).to.equal(true);
    expect((handlers.signal.reason as Error).message).to.equal('pod lock on host lost');
    expect(handlers.received()).to.equal(undefined);
    expect(lines).to.deep.equal(['pod lock on host lost: stopping the measurement, keeping what was measured, cleaning up']);
    await new Promise((r) => setTimeout(r, 10));
    expect(exited).to.equal(undefined);
    handlers.dispose();
  });
});

describe('CleanupStack', () => {
  it('unwinds newest first and keeps going past a failing or hanging step', async () => {
    const ran: string[] = [];
    const stack = new CleanupStack({ stepTimeoutMs: 50 });
    stack.push('a', () => {
      ran.push('a');
    });
    stack.push('hangs', () => new Promise(() => {}));
    stack.push('throws', () => {
      throw new Error('no such bridge');
    });
    const removeMe = stack.push('removed', () => {
      ran.push('removed');
    });
    removeMe();
    const reports = await stack.unwind();
    expect(ran).to.deep.equal(['a']);
    expect(reports.map((r) => [r.label, r.ok])).to.deep.equal([
      ['throws', false],
      ['hangs', false],
      ['a', true],
    ]);
    expect(reports[1]?.error).to.match(/did not finish within/);
    expect(stack.size).to.equal(0);
  });
});
