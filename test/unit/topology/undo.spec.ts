import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { TopologyError } from '../../../lib/errors.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import { applyWithUndo, buildLinkRestoreScript, describeLinkChanges, parseLinkStates, registerUndo, saveLinkStates } from '../../../lib/topology/undo.ts';
import type { RecordUndo } from '../../../lib/undo/journal.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('topology/undo applyWithUndo', () => {
  it('records the undo on the node and registers it before apply runs, keeps it when apply throws, and runs it on the node', async () => {
    const cleanup = new CleanupStack();
    const events: string[] = [];
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }), { exec: (command) => void events.push(`exec ${command}`) });
    const recordUndo: RecordUndo = async (s, label, command) => {
      events.push(`record ${s.node.name} ${label}: ${command}`);
      return { done: async () => void events.push(`done ${label}`) };
    };
    const failing = applyWithUndo({ cleanup, recordUndo }, {
      label: 'x on host',
      session,
      apply: async () => {
        events.push(`apply with ${cleanup.size} undo registered`);
        throw new Error('halfway');
      },
      undoScript: 'echo put x back',
    });
    const error = await failing.then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.equal('halfway');
    await cleanup.unwind();
    expect(events).to.deep.equal([
      'record host restore x on host: echo put x back',
      'apply with 1 undo registered',
      'exec echo put x back',
      'done restore x on host',
    ]);
  });

  it('makes no change when its undo cannot be recorded on the node', async () => {
    const cleanup = new CleanupStack();
    let applied = false;
    const recordUndo: RecordUndo = async () => {
      throw new Error('cannot record');
    };
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }));
    const error = await applyWithUndo({ cleanup, recordUndo }, { label: 'x', session, apply: async () => void (applied = true), undoScript: 'true' }).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.equal('cannot record');
    expect([applied, cleanup.size]).to.deep.equal([false, 0]);
  });

  it('keeps the node\'s entry when the undo fails in the harness, for the next run to try again', async () => {
    const cleanup = new CleanupStack();
    const done: string[] = [];
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }), { exec: () => ({ exitCode: 1, stderr: 'pages in use' }) });
    await registerUndo({ cleanup, recordUndo: async (_s, label) => ({ done: async () => void done.push(label) }) }, { label: 'restore hugepages', session, script: 'echo 0 > nr_hugepages' });
    const [report] = await cleanup.unwind();
    expect(report?.error).to.include('pages in use');
    expect(done).to.deep.equal([]);
  });
});

describe('topology/undo link flags', () => {
  it('reads PROMISC left behind by testpmd (recorded) and writes it back off', () => {
    const [h0, h1] = parseLinkStates(fixture('ip-link-promisc.json'), ['kbh0', 'kbh1']);
    expect(h0).to.deep.equal({ ifname: 'kbh0', up: true, promisc: true, allmulti: false, mtu: 1500 });
    expect(h1?.promisc).to.equal(true);
    const script = buildLinkRestoreScript([{ ...h0!, promisc: false }]);
    expect(script).to.include('ip link set dev kbh0 promisc off allmulticast off mtu 1500 up || rc=1');
  });

  it('names what is still different after a restore (recorded before and after)', () => {
    const before = parseLinkStates(fixture('ip-link-promisc.json'), ['kbh0', 'kbh1']).map((l) => ({ ...l, promisc: false }));
    const after = parseLinkStates(fixture('ip-link-restored.json'), ['kbh0', 'kbh1']);
    expect(describeLinkChanges(before, after)).to.deep.equal(['kbh1: promisc false -> true']);
    expect(describeLinkChanges(before, after.slice(0, 1))).to.include('kbh1: gone');
  });

  it('rejects output that is not the interface list and an interface that is not there', () => {
    expect(() => parseLinkStates('Device "x" does not exist.', ['x'])).to.throw(TopologyError, /expected a JSON list/);
    expect(() => parseLinkStates('[{"ifname":"lo"}]', ['lo'])).to.throw(TopologyError, /expected \[\{ifname, flags, mtu\}\]/);
    expect(() => parseLinkStates(fixture('ip-link-promisc.json'), ['h9'])).to.throw(TopologyError, /interface h9 not found/);
  });

  it('registers a restore that fails when the flags did not come back', async () => {
    const cleanup = new CleanupStack();
    let reads = 0;
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }), {
      exec: (command) => {
        if (command === 'ip -j link show') {
          reads += 1;
          // Before the change: not promiscuous; after the restore: still promiscuous.
          return { stdout: reads === 1 ? fixture('ip-link-promisc.json').replaceAll('"PROMISC",', '') : fixture('ip-link-promisc.json') };
        }
        return {};
      },
    });
    const saved = await saveLinkStates({ cleanup, dryRun: false }, session, ['kbh0', 'kbh1']);
    expect(saved.map((s) => s.promisc)).to.deep.equal([false, false]);
    const [report] = await cleanup.unwind();
    expect(report?.ok).to.equal(false);
    expect(report?.error).to.match(/not restored: kbh0: promisc false -> true; kbh1: promisc false -> true/);
    expect(session.callsOf('exec').map((c) => c.command)).to.include('rc=0\nip link set dev kbh0 promisc off allmulticast off mtu 1500 up || rc=1\nip link set dev kbh1 promisc off allmulticast off mtu 1500 up || rc=1\nexit $rc');
  });
});
