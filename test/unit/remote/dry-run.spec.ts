import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { DryRunSession } from '../../../lib/remote/dry-run.ts';

const guest: PodNode = {
  name: 'guest', role: 'guest', declaredRole: 'Guest', ip: '192.0.2.5', user: 'opnfv', sshPort: 22,
  keyFilename: '/nonexistent/key', password: 'guest-pass-1', rtCpus: [1], housekeepingCpus: [0], ports: [], tools: {}, extra: {},
};

describe('remote/dry-run', () => {
  it('prints and records each command escaped, with sudo, and never reads the key', async () => {
    const lines: string[] = [];
    const s = new DryRunSession(guest, { runId: 'r1', log: (l) => lines.push(l) });
    const r = await s.exec(['cyclictest', '-m', '--json=/tmp/a b.json'], { label: 'cyclictest' });
    expect(r).to.deep.include({ exitCode: 0, failed: false, stdout: '', escapedCommand: "sudo -n cyclictest -m '--json=/tmp/a b.json'" });
    expect(s.commands).to.deep.equal(["sudo -n cyclictest -m '--json=/tmp/a b.json'"]);
    expect(lines).to.deep.equal(["[guest] (dry-run) cyclictest$ sudo -n cyclictest -m '--json=/tmp/a b.json'"]);
  });

  it('redacts the node password in what it prints and records', async () => {
    const lines: string[] = [];
    const s = new DryRunSession(guest, { runId: 'r1', log: (l) => lines.push(l) });
    await s.exec(['echo', 'guest-pass-1']);
    expect(lines.join('\n') + s.commands.join('\n')).to.not.include('guest-pass-1');
  });

  it('returns a fake detached process and an outcome that was not stopped', async () => {
    const s = new DryRunSession(guest, { runId: 'r1', log: () => undefined });
    const p = await s.startDetached({ name: 'cyclictest-guest', command: ['cyclictest', '-q'] });
    expect(p).to.include({ node: 'guest', stdoutPath: '/tmp/kfn-r1/cyclictest-guest.out', exitCodePath: '/tmp/kfn-r1/cyclictest-guest.rc' });
    expect(await s.waitDetached(p)).to.deep.equal({ exitCode: 0, stdout: '', stderr: '', stopped: false });
    await s.startDetached({ name: '../x', command: ['true'] }).then(() => expect.fail('bad name accepted'), () => undefined);
  });

  it('answers with canned output when asked to', async () => {
    const s = new DryRunSession(guest, { runId: 'r1', log: () => undefined, respond: (c) => (c.includes('uname') ? { stdout: '6.1.0-rt\n' } : undefined) });
    expect((await s.exec(['uname', '-r'])).stdout).to.equal('6.1.0-rt\n');
    expect((await s.exec(['false'])).stdout).to.equal('');
  });
});
