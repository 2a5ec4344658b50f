// A measurement as the node sees it, on the lab pod: the kernel's own process record says
// nothing is started on any node while cyclictest measures, and that the harness's read-backs
// run on the housekeeping CPU; a tool that hangs is stopped and named within its stated
// bound; a node whose sshd goes away for 10 s still gives its figures; one whose sshd never
// comes back gives errors, never a pass. Issues 18 and 17 (items 4 and 5). The lab's guest is a
// namespace here: its sshd and tools then run on the kernel whose process events are traced.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';
import { loadPod } from '../../lib/config/pod.ts';
import { buildLabPaths } from '../../lib/lab/plan.ts';
import { readLabState, type LabState } from '../../lib/lab/state.ts';
import { startNodeSshd, stopNodeSshd } from '../../lib/lab/sshd-control.ts';
import type { CaseResult, RunResult } from '../../lib/results/model.ts';
import { ProcessTree, type TaskLife } from '../../lib/tools/ftrace/process-tree.ts';
import { REPO_ROOT, runCliProcess, startCliProcess } from '../support/cli.ts';
import { startProcessTrace, type ProcessTrace } from '../support/process-trace.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readRun(resultsRoot: string): { run: RunResult; dir: string; log: string } {
  const [id] = readdirSync(resultsRoot).filter((f) => f !== 'history.jsonl');
  const dir = join(resultsRoot, id ?? 'missing');
  return { run: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult, dir, log: readFileSync(join(dir, 'run.log'), 'utf8') };
}

const timerOf = (run: RunResult): CaseResult => run.cases.find((c) => c.caseName === 'timer') as CaseResult;
const samplesOf = (c: CaseResult, node: string) => (c.details[node] as { overall?: { summary: { samples: number } } } | undefined)?.overall?.summary.samples ?? 0;

async function noCyclictestLeft(): Promise<void> {
  const { stdout } = await execa('ps', ['-eo', 'args']);
  expect(stdout).not.to.match(/cyclictest .*kfn-|kfn-hang-/);
}

describe('lab: a measurement as the node sees it', function () {
  this.timeout(900_000);
  const root = mkdtempSync(join(tmpdir(), 'kfn-lab-measurement-'));
  let state: LabState;

  before(async () => {
    const up = await runCliProcess(['lab', 'up', '--guest', 'namespace'], { timeoutMs: 240_000 });
    expect(up.exitCode, up.stderr).to.equal(0);
    state = (await readLabState(buildLabPaths(realpathSync(REPO_ROOT)).stateFile)) as LabState;
  });

  after(async () => {
    await runCliProcess(['lab', 'down'], { timeoutMs: 180_000 });
    rmSync(root, { recursive: true, force: true });
  });

  describe('a quiet 10 s measurement, from the kernel\'s process events', () => {
    const results = join(root, 'quiet');
    let trace: ProcessTrace | undefined;
    let tree: ProcessTree;
    let exitCode: number;
    let listeners: Set<number>;
    let sshds: Set<number>;

    before(async () => {
      listeners = new Set(state.nodes.map((n) => n.sshdPid as number));
      trace = await startProcessTrace();
      try {
        exitCode = (await runCliProcess(['run', '-t', 'timer', '--duration', '10', '--results', results], { timeoutMs: 240_000 })).exitCode;
      } finally {
        tree = new ProcessTree(await trace.stop());
      }
      // Every sshd of the lab: the listeners and the processes they fork per connection.
      sshds = new Set([...listeners, ...[...tree.tasks.values()].filter((t) => tree.isUnder(t.pid, listeners) && tree.image(t.pid) === 'sshd').map((t) => t.pid)]);
    });

    after(() => rmSync(results, { recursive: true, force: true }));

    const windowOf = (node: string) => {
      const listener = new Set([state.nodes.find((n) => n.name === node)?.sshdPid as number]);
      const [measured] = tree.execsOf(/\/cyclictest$/, listener);
      if (!measured?.exitedAt) throw new Error(`the trace holds no finished cyclictest under ${node}'s sshd`);
      const start = tree.commandRoot(measured.pid, sshds);
      const startExit = start === undefined ? undefined : tree.tasks.get(start)?.exitedAt;
      if (startExit === undefined) throw new Error(`the command that started cyclictest on ${node} was not found in the trace`);
      return { measured, listener, from: startExit, to: measured.exitedAt };
    };
    const describeTask = (t: TaskLife) => `pid ${t.pid} ${tree.image(t.pid)} (parents ${tree.ancestors(t.pid).map((p) => tree.image(p)).join(' < ')})`;

    it('measured on both nodes', () => {
      expect([0, 68]).to.include(exitCode);
    });

    for (const node of ['host', 'guest']) {
      it(`${node}: no process is started on any node while cyclictest measures (keepalives need none; the 60 s lock heartbeat falls outside this run)`, () => {
        const w = windowOf(node);
        expect(w.to - w.from, 'the window').to.be.within(9, 12);
        const started = tree.forkedDuring({ from: w.from, to: w.to }, listeners, new Set([w.measured.pid]));
        expect(started.map(describeTask)).to.deep.equal([]);
        // The record is not blind: it saw the start before the window and the stop after it.
        expect(tree.forkedDuring({ from: w.from - 30, to: w.from }, w.listener).length, 'processes of the start').to.be.greaterThan(0);
        expect(tree.forkedDuring({ from: w.to, to: w.to + 30 }, w.listener).length, 'processes of the stop').to.be.greaterThan(0);
      });
    }

    it('runs the stop and read-back, the shell sshd started included, on the housekeeping CPU once pinned', () => {
      const w = windowOf('guest');
      const hk = new Set(loadPod(state.podYaml).nodes.find((n) => n.name === 'guest')?.housekeepingCpus);
      const roots = [...tree.tasks.values()].filter((t) => t.forkedAt !== undefined && t.forkedAt > w.to && t.forkedAt < w.to + 5 && sshds.has(t.parent ?? -1));
      const pinned = roots.filter((r) => r.execs.some((x) => x.filename.endsWith('/taskset')));
      expect(pinned.length, 'pinned commands after the measurement').to.be.greaterThan(0);
      for (const r of pinned) {
        const at = r.execs.find((x) => x.filename.endsWith('/taskset'))!.at;
        const cpus = [...tree.tasks.values()].filter((t) => tree.isUnder(t.pid, new Set([r.pid]))).flatMap((t) => t.seenOn.filter((s) => s.at > at).map((s) => s.cpu));
        expect(cpus.length).to.be.greaterThan(0);
        expect([...new Set(cpus)].filter((c) => !hk.has(c)), `CPUs of ${describeTask(r)}`).to.deep.equal([]);
      }
    });

    it('records the time of each phase, and the harness\'s overhead beside the 2 x 10 s measured', () => {
      const timer = timerOf(readRun(results).run);
      expect(timer.phasesMs?.measure).to.be.at.least(20_000);
      expect(Object.values(timer.phasesMs ?? {}).reduce((a, b) => a + b, 0)).to.be.closeTo(timer.durationMs, 50);
    });
  });

  describe('a tool that hangs (pod.yaml tools: override that ignores SIGINT and SIGTERM)', () => {
    const results = join(root, 'hang');
    let exitCode: number;
    let tookMs: number;
    const hang = join(root, 'kfn-hang-cyclictest');

    before(async () => {
      writeFileSync(hang, `#!/bin/sh\n# answers --help as rt-tests 2.4 does, then never ends\ncase "$1" in --help) echo "cyclictest V 2.40"; exit 0;; esac\ntrap '' INT TERM\nwhile :; do sleep 1; done\n`, { mode: 0o755 });
      const pod = load(readFileSync(state.podYaml, 'utf8')) as { nodes: Array<{ name: string; tools?: Record<string, string> }> };
      for (const n of pod.nodes) if (n.name === 'guest') n.tools = { cyclictest: hang };
      writeFileSync(join(root, 'hang-pod.yaml'), dump(pod));
      const began = Date.now();
      exitCode = (await runCliProcess(['run', '-t', 'timer', '--duration', '2', '--pod', join(root, 'hang-pod.yaml'), '--thresholds', 'lab', '--results', results], { timeoutMs: 240_000 })).exitCode;
      tookMs = Date.now() - began;
    });

    it('is an error naming the command, reached at its duration plus the stated grace, never a hang', async () => {
      expect(exitCode).to.equal(70);
      const timer = timerOf(readRun(results).run);
      const guest = timer.testcases.filter((t) => t.title.startsWith('guest:'));
      expect(guest.length).to.be.greaterThan(0);
      expect(guest.every((t) => t.status === 'error')).to.equal(true);
      expect(guest[0]?.message).to.include('did not end by itself within its 2 s duration plus 11 s').and.include('SIGKILL').and.include(hang);
      // 2 s + 11 s slack + 5 s after SIGINT + 5 s after SIGTERM, the host's 2 s run, and the CLI's own start and end.
      expect(tookMs).to.be.below(75_000);
      await noCyclictestLeft();
    });
  });

  describe('the guest\'s sshd stopped for 10 s during its measurement, then started again', () => {
    const results = join(root, 'transient');
    let exitCode: number;
    let log: string;
    let timer: CaseResult;

    before(async () => {
      const cli = startCliProcess(['run', '-t', 'timer', '--duration', '12', '--results', results]);
      await cli.waitFor('cyclictest on guest: started', 180_000);
      await pause(2_000);
      await stopNodeSshd({ root: REPO_ROOT, node: 'guest' });
      await pause(10_000);
      await startNodeSshd({ root: REPO_ROOT, node: 'guest' });
      exitCode = (await cli.done).exitCode;
      const r = readRun(results);
      log = r.log;
      timer = timerOf(r.run);
    });

    it('collects the figures of the measurement that went on, and says it reconnected', async () => {
      expect([0, 68], log.slice(-3000)).to.include(exitCode);
      expect(samplesOf(timer, 'guest')).to.be.at.least(11_000);
      expect(timer.testcases.filter((t) => t.status === 'error')).to.deep.equal([]);
      expect(log).to.include('connection lost while waiting for it').and.include('[guest] reconnected');
      await noCyclictestLeft();
    });
  });

  describe('the guest\'s sshd killed for good during its measurement', () => {
    const results = join(root, 'killed');
    let exitCode: number;
    let run: RunResult;

    before(async () => {
      const cli = startCliProcess(['run', '-t', 'timer', '--duration', '3', '--results', results]);
      await cli.waitFor('cyclictest on guest: started', 180_000);
      await pause(1_000);
      await stopNodeSshd({ root: REPO_ROOT, node: 'guest' });
      try {
        exitCode = (await cli.done).exitCode;
      } finally {
        await startNodeSshd({ root: REPO_ROOT, node: 'guest' });
      }
      run = readRun(results).run;
      // The guest's run directory could not be removed by a harness that lost the node.
      rmSync(`/tmp/kfn-${run.runId}`, { recursive: true, force: true });
    });

    it('ends in errors for the guest, never a pass', () => {
      expect(exitCode).to.equal(70);
      expect(run.status).to.equal('error');
      const guest = timerOf(run).testcases.filter((t) => t.title.startsWith('guest:'));
      expect(guest.length).to.be.greaterThan(0);
      expect(guest.map((t) => t.status)).to.not.include('pass');
      expect(guest[0]?.message).to.match(/guest/);
    });
  });
});
