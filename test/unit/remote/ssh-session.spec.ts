import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { SshConnectError } from '../../../lib/remote/errors.ts';
import { SshNodeSession, connectNode, timeoutFor } from '../../../lib/remote/ssh-session.ts';

// Port 1 on loopback: nothing listens, so connecting fails at once without touching any network.
const unreachable: PodNode = {
  name: 'down', role: 'host', declaredRole: 'Compute', ip: '127.0.0.1', user: 'root', sshPort: 1, password: 'pw-1234',
  hostKey: { fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, rtCpus: [], housekeepingCpus: [], ports: [], tools: {}, extra: {},
};

describe('remote/ssh-session lifecycle without a server', () => {
  it('names runDir after the run id and refuses an unsafe one', () => {
    expect(new SshNodeSession(unreachable, { runId: 'r42' }).runDir).to.equal('/tmp/kfn-r42');
    expect(() => new SshNodeSession(unreachable, { runId: 'x', runDir: '/' })).to.throw(TypeError, /kfn-/);
    expect(() => new SshNodeSession(unreachable, { runId: '../../etc' })).to.throw(TypeError);
  });

  it('reports an unreachable node by name, and cleanup and close stay safe afterwards', async () => {
    const lines: string[] = [];
    const s = new SshNodeSession(unreachable, { runId: 'unit', log: (l) => lines.push(l) });
    const e = await s.connect().then(() => undefined, (err: unknown) => err);
    expect(e).to.be.instanceOf(SshConnectError);
    expect((e as Error).message).to.include('node down (root@127.0.0.1:1)');
    await s.cleanup();
    await s.cleanup();
    await s.close();
    await s.close();
    const afterClose = await s.exec(['true']).then(() => undefined, (err: unknown) => err);
    expect(afterClose).to.be.instanceOf(SshConnectError);
    expect((afterClose as Error).message).to.include('closed');
    expect(lines.join('\n')).to.include('cleanup: nothing to do');
  });

  it('connectNode rejects too', async () => {
    const e = await connectNode(unreachable, { runId: 'unit' }).then(() => undefined, (err: unknown) => err);
    expect(e).to.be.instanceOf(SshConnectError);
  });

  it('re-exports timeoutFor for callers', () => {
    expect(timeoutFor(60)).to.equal(150_000);
  });
});
