// The node-side undo log, run by a real /bin/sh on this machine: a dead run's processes
// (started by the real detached-start script) and its recorded undo commands, replayed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildCommandString } from '../../../lib/remote/command.ts';
import { buildCleanupScript, buildEnsureRunDirScript, buildStartScript, parseStartedPid } from '../../../lib/remote/detached-scripts.ts';
import {
  buildCloseJournalScript,
  buildEntryContent,
  buildEntryDoneScript,
  buildJournalPaths,
  buildOpenJournalScript,
  buildRecordEntryScript,
  buildRecoverScript,
  parseRecoverReport,
} from '../../../lib/undo/scripts.ts';
import { isAlive, runLocalSh } from '../../support/local-shell.ts';

const sh = runLocalSh;
const alive = isAlive;

describe('undo/scripts', () => {
  it('refuses roots, run ids and node names that could escape the log folder', () => {
    expect(buildJournalPaths('/run/kvmfornfv/undo/', '20261125-020000-ab12', 'compute-0').dir).to.equal('/run/kvmfornfv/undo/20261125-020000-ab12/compute-0');
    for (const [root, run, node] of [['run/x', 'r', 'n'], ['/run/../etc', 'r', 'n'], ['/run/x', '..', 'n'], ['/run/x', 'r', 'a/b'], ['/run/x', 'r', 'n;rm -rf /'], ['/run/x y', 'r', 'n'], ['/run/x', 'r', '']]) {
      expect(() => buildJournalPaths(root as string, run as string, node as string), `${root} ${run} ${node}`).to.throw(TypeError);
    }
  });

  it('keeps the label of an entry on one line and refuses a NUL in the command', () => {
    expect(buildEntryContent('restore a\nb', 'x')).to.equal('# restore a b\nx\n');
    expect(() => buildEntryContent('l', 'a\0b')).to.throw(TypeError);
  });

  it('reads a recovery report; a report without its end line is incomplete', () => {
    const text = ['noise', 'KFN-UNDO journal r1 host', 'KFN-UNDO stopped 42 timer-cyclictest-host', 'KFN-UNDO killed 42', 'KFN-UNDO undone 000002 restore link flags of h0 on host', 'KFN-UNDO failed 000001 restore hugepages on host :: pages in use', 'KFN-UNDO kept r1 host 1', 'KFN-UNDO end'].join('\n');
    expect(parseRecoverReport(text)).to.deep.equal({
      complete: true,
      logs: [{ runId: 'r1', node: 'host', stopped: ['42 timer-cyclictest-host'], killed: ['42'], undone: ['restore link flags of h0 on host'], failed: [{ label: 'restore hugepages on host', why: 'pages in use' }], removed: false }],
    });
    expect(parseRecoverReport('KFN-UNDO journal r1 host\n').complete).to.equal(false);
  });

  describe('run by a local shell', function () {
    this.timeout(20_000);
    let root = '';
    let runDir = '';
    let work = '';
    const started: number[] = [];
    beforeEach(() => {
      work = mkdtempSync('/tmp/kfn-unit-undo-');
      root = join(work, 'undo');
      runDir = join(work, 'kfn-deadrun');
    });
    afterEach(() => {
      for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
      // The pid file that names this test's own process must not reach the run's plain cleanup.
      rmSync(join(runDir, 'reused.pid'), { force: true });
      if (existsSync(runDir)) sh(buildCleanupScript({ runDir, graceMs: 200 }));
      rmSync(work, { recursive: true, force: true });
    });

    const record = (runId: string, node: string, seq: number, label: string, command: string) => {
      const paths = buildJournalPaths(root, runId, node);
      sh(buildRecordEntryScript(paths, seq), buildEntryContent(label, command));
    };
    const startDetached = (name: string, script: string) => {
      const pid = parseStartedPid(sh(buildStartScript({ runDir, name, commandString: buildCommandString({ script }) })));
      if (pid === undefined) throw new Error('no pid');
      started.push(pid);
      return pid;
    };

    it('records, marks done and closes: an empty log goes, one with an entry left stays', () => {
      const paths = buildJournalPaths(root, 'r1', 'host');
      expect(sh(buildOpenJournalScript(paths, runDir))).to.include(`KFN-UNDO opened ${paths.dir}`);
      expect(readFileSync(join(paths.dir, 'rundir'), 'utf8')).to.equal(`${runDir}\n`);
      expect(readFileSync(join(paths.dir, 'context'), 'utf8')).to.match(/^\S+ net:\[\d+\]\n$/);
      record('r1', 'host', 1, 'restore x', "echo 'it''s back' > /dev/null");
      expect(readFileSync(join(paths.dir, 'undo', '000001.sh'), 'utf8')).to.equal("# restore x\necho 'it''s back' > /dev/null\n");
      record('r1', 'host', 2, 'restore y', 'true');
      sh(buildEntryDoneScript(paths, 2));
      expect(readdirSync(join(paths.dir, 'undo'))).to.deep.equal(['000001.sh']);
      expect(sh(buildCloseJournalScript(paths))).to.include(`KFN-UNDO kept ${paths.dir} 1`);
      sh(buildEntryDoneScript(paths, 1));
      expect(sh(buildCloseJournalScript(paths))).to.include('KFN-UNDO closed');
      expect(existsSync(join(root, 'r1'))).to.equal(false);
      expect(() => sh(buildRecordEntryScript(paths, 3))).to.throw(/no undo log/);
    });

    it('undoes a dead run: stops its processes, replays its undo commands newest first, keeps what failed, and leaves other logs alone', () => {
      const order = join(work, 'order');
      const dead = buildJournalPaths(root, 'dead-run', 'host');
      sh(buildOpenJournalScript(dead, runDir));
      sh(buildEnsureRunDirScript(runDir));
      const stubborn = startDetached('stubborn-load', `trap '' INT; while :; do sleep 0.05; done`);
      const polite = startDetached('cyclictest-host', `trap 'exit 0' INT; while :; do sleep 0.05; done`);
      // A pid file naming a process older than the log (here: this test's own process) is not the run's.
      writeFileSync(join(runDir, 'reused.pid'), `${process.pid}\n`);
      record('dead-run', 'host', 1, 'restore first', `echo first >> ${order}`);
      record('dead-run', 'host', 2, 'restore hugepages on host', 'echo "pages in use" >&2; exit 1');
      record('dead-run', 'host', 3, 'restore third', `echo third >> ${order}`);
      // The live run's own log, and a log of another node (another network namespace).
      const own = buildJournalPaths(root, 'live-run', 'host');
      sh(buildOpenJournalScript(own, join(work, 'kfn-live')));
      record('live-run', 'host', 1, 'mine', `echo mine >> ${order}`);
      const other = buildJournalPaths(root, 'dead-run', 'guest');
      sh(buildOpenJournalScript(other, runDir));
      writeFileSync(join(other.dir, 'context'), 'another-boot net:[1]\n');
      record('dead-run', 'guest', 1, 'guest change', `echo guest >> ${order}`);

      const first = parseRecoverReport(sh(buildRecoverScript({ root, ownRunId: 'live-run', which: 'others', graceMs: 500 })));
      expect(first.complete).to.equal(true);
      expect(first.logs).to.have.length(1);
      const log = first.logs[0]!;
      expect([log.runId, log.node, log.removed]).to.deep.equal(['dead-run', 'host', false]);
      expect(log.stopped.sort()).to.deep.equal([`${polite} cyclictest-host`, `${stubborn} stubborn-load`].sort());
      expect(log.killed).to.deep.equal([String(stubborn)]);
      expect(log.undone).to.deep.equal(['restore third', 'restore first']);
      expect(log.failed).to.deep.equal([{ label: 'restore hugepages on host', why: 'pages in use' }]);
      expect(alive(stubborn) || alive(polite)).to.equal(false);
      expect(alive(process.pid)).to.equal(true);
      expect(readFileSync(order, 'utf8')).to.equal('third\nfirst\n');
      // What failed stays recorded, and so does the run folder its undo may still need.
      expect(readdirSync(join(dead.dir, 'undo'))).to.deep.equal(['000002.sh']);
      expect(existsSync(runDir)).to.equal(true);

      // Once the cause is gone, the next recovery finishes the log and removes the run folder.
      writeFileSync(join(dead.dir, 'undo', '000002.sh'), '# restore hugepages on host\ntrue\n');
      const second = parseRecoverReport(sh(buildRecoverScript({ root, ownRunId: 'live-run', which: 'others', graceMs: 500 })));
      expect(second.logs.map((l) => [l.runId, l.undone, l.removed])).to.deep.equal([['dead-run', ['restore hugepages on host'], true]]);
      expect(existsSync(dead.dir)).to.equal(false);
      // The guest's log (another namespace) still names the folder: it stays for that node's recovery.
      expect(existsSync(runDir)).to.equal(true);
      expect(existsSync(other.dir) && existsSync(own.dir)).to.equal(true);
      expect(readFileSync(order, 'utf8')).to.equal('third\nfirst\n');

      // The forced exit replays the run's own log, and only it.
      const mine = parseRecoverReport(sh(buildRecoverScript({ root, ownRunId: 'live-run', which: 'own', graceMs: 500 })));
      expect(mine.logs.map((l) => [l.runId, l.undone])).to.deep.equal([['live-run', ['mine']]]);
      expect(readFileSync(order, 'utf8')).to.equal('third\nfirst\nmine\n');
      expect(existsSync(other.dir)).to.equal(true);
    });

    it('acts on plain names only, and does nothing with no log at all', () => {
      expect(parseRecoverReport(sh(buildRecoverScript({ root, ownRunId: 'live-run', which: 'others', graceMs: 100 })))).to.deep.equal({ logs: [], complete: true });
      const odd = join(root, 'run$(touch x)', 'host');
      mkdirSync(join(odd, 'undo'), { recursive: true });
      sh(`${buildOpenJournalScript(buildJournalPaths(root, 'plain', 'host'), runDir)} && cp ${buildJournalPaths(root, 'plain', 'host').dir}/context '${odd}/context'`);
      writeFileSync(join(odd, 'undo', '000001.sh'), `# odd\ntouch ${join(work, 'canary')}\n`);
      const report = parseRecoverReport(sh(buildRecoverScript({ root, ownRunId: 'live-run', which: 'others', graceMs: 100 })));
      expect(report.logs.map((l) => l.runId)).to.deep.equal(['plain']);
      expect(existsSync(join(work, 'canary'))).to.equal(false);
    });
  });
});
