import { expect } from 'chai';
import { watchDetached } from '../../../lib/remote/watch-detached.ts';
import type { DetachedProcess, NodeSession } from '../../../lib/remote/types.ts';

const proc: DetachedProcess = { node: 'n', name: 'p', pid: 1, stdoutPath: '/o', stderrPath: '/e', exitCodePath: '/rc' };
const sessionRunningFor = (polls: number) => {
  let n = 0;
  return { isRunning: async () => ++n <= polls } as unknown as NodeSession;
};

describe('watchDetached', () => {
  it('ends with exited once the process stops, ticking while it runs', async () => {
    let ticks = 0;
    const end = await watchDetached(sessionRunningFor(3), proc, { deadline: Date.now() + 10_000, pollMs: 1, onTick: () => ticks++ });
    expect(end).to.equal('exited');
    expect(ticks).to.equal(3);
  });

  it('ends with deadline when the process outlives it', async () => {
    expect(await watchDetached(sessionRunningFor(1e9), proc, { deadline: Date.now() + 30, pollMs: 5 })).to.equal('deadline');
  });

  it('ends with aborted at once when the signal aborts, even mid-sleep', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    const end = await watchDetached(sessionRunningFor(1e9), proc, { deadline: Date.now() + 60_000, signal: controller.signal, pollMs: 30_000 });
    expect(end).to.equal('aborted');
    expect(Date.now() - started).to.be.below(5_000);
  });
});
