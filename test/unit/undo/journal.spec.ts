// A run's undo logs over a NodeSession that runs a real shell on this machine: what a killed
// run leaves, and what the next run's recovery makes of it.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { TopologyError } from '../../../lib/errors.ts';
import { UndoLogs } from '../../../lib/undo/journal.ts';
import { describeRecovery, hasLeftovers, recoverNode } from '../../../lib/undo/recover.ts';
import { buildLocalNode, LocalSession } from '../../support/local-session.ts';

describe('undo/journal and recover', function () {
  this.timeout(20_000);
  let work = '';
  let root = '';
  beforeEach(() => {
    work = mkdtempSync('/tmp/kfn-unit-journal-');
    root = join(work, 'undo');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('writes each undo before the change, removes it once done, and leaves only what was not undone', async () => {
    const session = new LocalSession(buildLocalNode('host'), join(work, 'kfn-run1'));
    const lines: string[] = [];
    const logs = new UndoLogs({ runId: 'run1', root, log: (l) => lines.push(l) });
    const flags = await logs.record(session, 'restore link flags of h0 on host', `echo flags >> ${join(work, 'order')}`);
    await logs.record(session, "restore hugepages on host (2048 kB pages 0 -> 1024)", `echo 'pages' >> ${join(work, 'order')}`);
    const dir = join(root, 'run1', 'host', 'undo');
    expect(readdirSync(dir)).to.deep.equal(['000001.sh', '000002.sh']);
    await flags.done();
    expect(readdirSync(dir)).to.deep.equal(['000002.sh']);
    await logs.closeAll();
    expect(lines).to.deep.equal(['undo log on host: 1 change(s) could not be undone and stay recorded for the next run or kvmfornfv-test cleanup']);

    // The next run on the node undoes what was left, and says so.
    const next = await recoverNode(session, { ownRunId: 'run2', root, graceMs: 100 });
    expect(next.logs.map((l) => [l.runId, l.undone, l.removed])).to.deep.equal([['run1', ['restore hugepages on host (2048 kB pages 0 -> 1024)'], true]]);
    expect(hasLeftovers(next)).to.equal(false);
    expect(describeRecovery(next)).to.deep.equal(['host: run run1 (log of host): no process left running; undid restore hugepages on host (2048 kB pages 0 -> 1024)']);
    expect(readFileSync(join(work, 'order'), 'utf8')).to.equal('pages\n');
    expect(existsSync(join(root, 'run1'))).to.equal(false);
  });

  it('refuses to record, and so to change, where the log cannot be written', async () => {
    const session = new LocalSession(buildLocalNode('host'));
    const logs = new UndoLogs({ runId: 'run1', root: '/proc/kfn-no-such-place' });
    const error = await logs.record(session, 'restore x', 'true').then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TopologyError);
    expect((error as Error).message).to.include('cannot open the undo log /proc/kfn-no-such-place/run1/host on host');
  });

  it('reports an undo that still fails, and keeps it', async () => {
    const session = new LocalSession(buildLocalNode('host'), join(work, 'kfn-run1'));
    const logs = new UndoLogs({ runId: 'run1', root });
    await logs.record(session, 'restore hugepages on host', 'echo "nr_hugepages: expected 0, found 512 (pages in use?)" >&2; exit 1');
    const next = await recoverNode(session, { ownRunId: 'run2', root, graceMs: 100 });
    expect(hasLeftovers(next)).to.equal(true);
    expect(describeRecovery(next)[0]).to.include('could not undo restore hugepages on host (nr_hugepages: expected 0, found 512 (pages in use?))').and.include('still recorded');
  });
});
