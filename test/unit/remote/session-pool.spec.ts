import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { DryRunSession } from '../../../lib/remote/dry-run.ts';
import { SshConnectError } from '../../../lib/remote/errors.ts';
import { SessionPool } from '../../../lib/remote/session-pool.ts';
import type { NodeSession } from '../../../lib/remote/types.ts';

function node(name: string): PodNode {
  return { name, role: 'host', declaredRole: 'Compute', ip: '192.0.2.1', user: 'root', sshPort: 22, rtCpus: [], housekeepingCpus: [], ports: [], tools: {}, extra: {} };
}

// A session that records teardown calls and can be told to fail them.
class FakeSession extends DryRunSession {
  calls: string[] = [];
  failCleanup = false;
  constructor(n: PodNode) {
    super(n, { runId: 't', log: () => undefined });
  }
  override async cleanup(): Promise<void> {
    this.calls.push('cleanup');
    if (this.failCleanup) throw new Error('cleanup broke');
  }
  override async close(): Promise<void> {
    this.calls.push('close');
  }
}

describe('remote/session-pool', () => {
  it('opens one session per node, lazily, and reuses it', async () => {
    const opened: string[] = [];
    const pool = new SessionPool({ open: async (n) => (opened.push(n.name), new FakeSession(n)) });
    expect(opened).to.deep.equal([]);
    const [a1, a2, b] = await Promise.all([pool.get(node('a')), pool.get(node('a')), pool.get(node('b'))]);
    expect(a1).to.equal(a2);
    expect(b).to.not.equal(a1);
    expect(opened).to.deep.equal(['a', 'b']);
  });

  it('keeps an unreachable node from breaking the others, and fails it fast afterwards', async () => {
    const lines: string[] = [];
    let attempts = 0;
    const pool = new SessionPool({
      log: (l) => lines.push(l),
      open: async (n): Promise<NodeSession> => {
        if (n.name === 'dead') {
          attempts++;
          throw new SshConnectError('dead', 'cannot connect to node dead');
        }
        return new FakeSession(n);
      },
    });
    await pool.get(node('dead')).then(() => expect.fail('should reject'), (e) => expect(e).to.be.instanceOf(SshConnectError));
    await pool.get(node('dead')).catch(() => undefined);
    expect(attempts).to.equal(1);
    expect((await pool.get(node('ok'))).node.name).to.equal('ok');
    expect(lines.join('\n')).to.include('[dead] cannot open a session: cannot connect to node dead');
  });

  it('cleans up and closes every node in parallel, never throwing, reporting failures per node', async () => {
    const sessions: FakeSession[] = [];
    const lines: string[] = [];
    const pool = new SessionPool({
      log: (l) => lines.push(l),
      open: async (n) => {
        if (n.name === 'dead') throw new Error('unreachable');
        const s = new FakeSession(n);
        s.failCleanup = n.name === 'bad';
        sessions.push(s);
        return s;
      },
    });
    await Promise.allSettled(['a', 'bad', 'dead'].map((n) => pool.get(node(n))));
    const cleaned = await pool.cleanupAll();
    expect(cleaned).to.deep.equal([{ node: 'a' }, { node: 'bad', error: 'Error: cleanup broke' }, { node: 'dead' }]);
    expect(lines.some((l) => l.includes('[bad] cleanup failed'))).to.equal(true);
    const closed = await pool.closeAll();
    expect(closed.every((c) => c.error === undefined)).to.equal(true);
    expect(sessions.map((s) => s.calls)).to.deep.equal([['cleanup', 'close'], ['cleanup', 'close']]);
    expect(pool.nodes).to.deep.equal([]);
  });
});
