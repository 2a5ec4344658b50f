import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { installAbortHandlers, ABORT_EXIT_CODE } from '../../../lib/harness/abort.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';

describe('abort handling', () => {
  it('aborts gracefully on the first SIGTERM and forces cleanup and exit on the second', async () => {
    const proc = new EventEmitter();
    const calls: string[] = [];
    let exited: number | undefined;
    const handlers = installAbortHandlers({
      log: (l) => calls.push(`log:${l.split(' ')[0]}`),
      emergencyCleanup: async () => {
        calls.push('cleanup');
      },
      exit: (code) => {
        exited = code;
      },
      processLike: proc as unknown as NodeJS.Process,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(handlers.signal.aborted).to.equal(true);
    expect(handlers.received()).to.equal('SIGTERM');
    expect(calls).to.deep.equal(['log:SIGTERM']);
    proc.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(calls).to.include('cleanup');
    expect(exited).to.equal(ABORT_EXIT_CODE);
    handlers.dispose();
    expect(proc.listenerCount('SIGINT')).to.equal(0);
  });

  it('aborts from within (a lost pod lock) with the reason, once, without forcing an exit', async () => {
    const proc = new EventEmitter();
    const lines: string[] = [];
    let exited: number | undefined;
    const handlers = installAbortHandlers({ log: (l) => lines.push(l), emergencyCleanup: async () => {}, exit: (code) => (exited = code), processLike: proc as unknown as NodeJS.Process });
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
