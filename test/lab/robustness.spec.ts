// Aborts through every entry point, a killed harness, and hostile input, on the lab pod (issue 17):
// - SIGTERM to `npm exec -- kvmfornfv-test` and to ci/run-pod-tests.sh in the middle of a timer
//   measurement: exit 70 from the harness, no harness left after a few seconds, nothing left on
//   the lab, results.json says error;
// - SIGKILL to the harness while testpmd forwards and the links are promiscuous, then
//   `kvmfornfv-test cleanup`: no process, pod change, undo log or run folder left, and the
//   next run succeeds (the dead run's lock does not stand in its way);
// - tool paths carrying shell syntax in pod.yaml: the run fails to find the tools, and the
//   canary files a successful injection would create on the nodes never appear.
// One lab for all of it: a run that finds the lab up uses it and leaves it up.
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { dump, load } from 'js-yaml';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { DEFAULT_UNDO_ROOT } from '../../lib/undo/scripts.ts';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { ensureLabUp } from '../support/lab.ts';
import { comparePodStateSnapshots, takePodStateSnapshot, type PodStateSnapshot } from './pod-state-snapshot.ts';

const ROOT = realpathSync(REPO_ROOT);
const { prefix } = deriveLabNames(ROOT);
const BIN = join(ROOT, 'bin', 'kvmfornfv-test.js');
const folders: string[] = [];

function tempFolder(name: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `kfn-lab-${name}-`));
  folders.push(dir);
  return dir;
}

/** Every process inside this checkout's lab namespaces but their sshds: what a run may leave. */
function labProcesses(): string[] {
  const nets = new Set(readdirSync('/run/netns').filter((ns) => ns.startsWith(`${prefix}-`)).map((ns) => `net:[${statSync(`/run/netns/${ns}`).ino}]`));
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!nets.has(readlinkSync(`/proc/${pid}/ns/net`))) continue;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm !== 'sshd' && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '') out.push(`${pid} ${comm}`);
    } catch {
      // gone while read
    }
  }
  return out.sort();
}

/** Processes whose command line names `text` (a results folder unique to one test). */
function processesNaming(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .flatMap((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
        return args.includes(text) ? [`${p} ${args}`] : [];
      } catch {
        return [];
      }
    });
}

function onlyRun(results: string): { runId: string; run: RunResult } {
  const [runId = 'missing'] = readdirSync(results).filter((f) => f !== 'history.jsonl');
  return { runId, run: JSON.parse(readFileSync(join(results, runId, 'results.json'), 'utf8')) as RunResult };
}

// Resolves once `file` (a run.log somewhere under `dir`) shows `pattern`.
async function waitForLog(dir: string, pattern: RegExp, child: ResultPromise, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.then(() => (exited = true), () => (exited = true));
  while (Date.now() < deadline && !exited) {
    for (const run of existsSync(dir) ? readdirSync(dir) : []) {
      const log = join(dir, run, 'run.log');
      if (existsSync(log) && pattern.test(readFileSync(log, 'utf8'))) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // Never leave the run going: the next test would find the pod locked.
  if (!exited) {
    process.kill(child.pid as number, 'SIGTERM');
    await child;
  }
  throw new Error(`${pattern} never appeared in a run.log under ${dir}${exited ? ' (the process ended first)' : ''}`);
}

interface Aborted {
  exitCode: number | undefined;
  stdout: string;
  secondsToExit: number;
  leftAfter3s: string[];
  before: PodStateSnapshot;
  after: PodStateSnapshot;
  processesBefore: string[];
  processesAfter: string[];
}

// Starts `command`, sends `signal` to it once cyclictest measures on the host, and reads the lab
// once the harness is gone (at once for a caller that waits for it, as npm does on SIGTERM).
async function abortMidMeasurement(command: string[], env: Record<string, string>, results: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<Aborted> {
  const before = await takePodStateSnapshot(prefix, ROOT);
  const processesBefore = labProcesses();
  const [file, ...args] = command as [string, ...string[]];
  const child = execa(file, args, { cwd: ROOT, reject: false, env, stdin: 'ignore', all: true });
  await waitForLog(results, /\[host\] cyclictest: detached as pid/, child, 240_000);
  await new Promise((r) => setTimeout(r, 2_000));
  const sent = Date.now();
  process.kill(child.pid as number, signal);
  const r = await child;
  for (let i = 0; i < 120 && processesNaming(results).length > 0; i++) await new Promise((res) => setTimeout(res, 500));
  const secondsToExit = (Date.now() - sent) / 1000;
  await new Promise((res) => setTimeout(res, 3_000));
  return { exitCode: r.exitCode, stdout: String(r.all), secondsToExit, leftAfter3s: processesNaming(results), before, after: await takePodStateSnapshot(prefix, ROOT), processesBefore, processesAfter: labProcesses() };
}

function expectNothingLeft(a: Aborted, runId: string): void {
  expect(a.leftAfter3s, 'harness processes 3 s after its exit').to.deep.equal([]);
  expect(a.processesAfter, 'processes left in the lab namespaces').to.deep.equal(a.processesBefore);
  expect(comparePodStateSnapshots(a.before, a.after, { runIds: [runId] })).to.deep.equal([]);
  expect(existsSync(`/tmp/kfn-${runId}`), 'the run folder on the nodes').to.equal(false);
  expect(existsSync(join(DEFAULT_UNDO_ROOT, runId)), 'the undo log on the nodes').to.equal(false);
}

describe('lab: every entry point aborts the run, cleanup undoes a killed one, hostile input stays inert (issue 17)', function () {
  this.timeout(1_200_000);
  let broughtUp = false;

  before(async () => {
    broughtUp = await ensureLabUp('namespace');
  });

  after(async () => {
    if (broughtUp) await runCliProcess(['lab', 'down'], { timeoutMs: 300_000 });
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM to `npm exec -- kvmfornfv-test run`: npm exits 70 soon, the harness is gone, the lab is as it was, results.json says error', async () => {
    const results = tempFolder('npm-sigterm');
    const a = await abortMidMeasurement(['npm', 'exec', '--offline', '--', 'kvmfornfv-test', 'run', '-t', 'timer', '--duration', '120', '--results', results], {}, results);
    expect(a.exitCode, a.stdout).to.equal(70);
    expect(a.secondsToExit).to.be.below(60);
    const { runId, run } = onlyRun(results);
    expect([run.status, run.exitCode]).to.deep.equal(['error', 70]);
    expect(run.notes).to.include('aborted by SIGTERM');
    expectNothingLeft(a, runId);
  });

  it('SIGHUP to `npm exec`: npm dies at once (129), the harness sees its caller gone, aborts and cleans up', async () => {
    const results = tempFolder('npm-sighup');
    const a = await abortMidMeasurement(['npm', 'exec', '--offline', '--', 'kvmfornfv-test', 'run', '-t', 'timer', '--duration', '120', '--results', results], {}, results, 'SIGHUP');
    expect(a.exitCode, a.stdout).to.equal(undefined);
    expect(a.secondsToExit, 'until the harness was gone').to.be.below(60);
    const { runId, run } = onlyRun(results);
    expect([run.status, run.exitCode]).to.deep.equal(['error', 70]);
    expect(run.notes.join('\n')).to.match(/aborted by the loss of its caller \(pid \d+\)/);
    expectNothingLeft(a, runId);
  });

  it('SIGTERM to ci/run-pod-tests.sh: the suite is told, cleans up, and the script reports its 70', async () => {
    const store = tempFolder('ci-store');
    // The script empties RESULTS_DIR every build and wants it inside the workspace.
    const jenkinsCopy = tempFolder('ci-results', ROOT);
    const env = { POD_FILE: join(ROOT, '.lab', 'pod.yaml'), TEST_SELECTION: 'timer', THRESHOLDS: 'lab', BASELINE: '', PUSH_RESULTS: 'false', KFN_RESULTS_STORE: store, RESULTS_DIR: jenkinsCopy, CI_LOOP: 'daily' };
    const a = await abortMidMeasurement([join(ROOT, 'ci', 'run-pod-tests.sh'), '--mode', 'nightly'], env, store);
    expect(a.exitCode, a.stdout).to.equal(70);
    expect(a.stdout).to.include('SIGTERM received; passing SIGTERM to the suite').and.include('kvmfornfv-test exited 70 (something could not be measured)');
    expect(a.secondsToExit).to.be.below(60);
    const { runId, run } = onlyRun(store);
    expect([run.status, run.exitCode]).to.deep.equal(['error', 70]);
    expect(JSON.parse(readFileSync(join(jenkinsCopy, runId, 'results.json'), 'utf8'))).to.include({ status: 'error', exitCode: 70 });
    expectNothingLeft(a, runId);
  });

  it('SIGKILL to the harness while testpmd forwards, then cleanup: nothing left, and the next run succeeds', async () => {
    const results = tempFolder('sigkill');
    const before = await takePodStateSnapshot(prefix, ROOT);
    const processesBefore = labProcesses();
    const child = execa(process.execPath, [BIN, 'run', '-t', 'baremetal_forwarding', '--duration', '2', '--results', results], { cwd: ROOT, reject: false, stdin: 'ignore', all: true });
    await waitForLog(results, /\[host\] dpdk-testpmd: detached as pid/, child, 300_000);
    await new Promise((r) => setTimeout(r, 3_000));
    process.kill(child.pid as number, 'SIGKILL');
    await child;
    const { runId, run } = onlyRun(results);
    // What the killed run left: its verdict never reached, its forwarder running, its links changed.
    expect([run.status, run.exitCode]).to.deep.equal(['running', 70]);
    expect(labProcesses().join('\n')).to.match(/dpdk-testpmd/);
    expect(comparePodStateSnapshots(before, await takePodStateSnapshot(prefix, ROOT), { runIds: [runId] }).join('\n')).to.match(/promisc false -> true/);
    expect(readdirSync(join(DEFAULT_UNDO_ROOT, runId)).sort()).to.deep.equal(['guest', 'host', 'tgen']);

    const cleanup = await runCliProcess(['cleanup', '--pod', join(ROOT, '.lab', 'pod.yaml')], { timeoutMs: 300_000 });
    expect(cleanup.exitCode, `${cleanup.stdout}\n${cleanup.stderr}`).to.equal(0);
    expect(cleanup.stdout).to.match(new RegExp(`pod lock .*held by run ${runId}.*no longer runs: breaking it`));
    expect(cleanup.stdout).to.match(new RegExp(`host: run ${runId} \\(log of host\\): stopped 1 process\\(es\\) \\(\\d+ baremetal_forwarding-testpmd\\); undid .*restore link flags of h0, h1 on host`));
    expect(cleanup.stdout).to.include('cleanup: done');
    expect(labProcesses()).to.deep.equal(processesBefore);
    expect(comparePodStateSnapshots(before, await takePodStateSnapshot(prefix, ROOT), { runIds: [runId] })).to.deep.equal([]);
    expect(existsSync(join(DEFAULT_UNDO_ROOT, runId)) || existsSync(`/tmp/kfn-${runId}`)).to.equal(false);

    const next = await runCliProcess(['run', '-t', 'timer', '--duration', '2', '--results', results], { timeoutMs: 300_000 });
    expect([0, 68], `${next.stdout}\n${next.stderr}`).to.include(next.exitCode);
  });

  it('tool paths with shell syntax in pod.yaml: refused as not executable, and no canary appears on the nodes', async () => {
    const results = tempFolder('hostile');
    const canary = (n: number) => join(results, `kfn-canary-${n}`);
    const pod = load(readFileSync(join(ROOT, '.lab', 'pod.yaml'), 'utf8')) as { nodes: Array<{ name: string; tools: Record<string, string> }> };
    const tools = (name: string) => pod.nodes.find((n) => n.name === name)!.tools;
    tools('host').cyclictest = `/usr/bin/cyclictest;touch ${canary(1)}`;
    tools('host')['stress-ng'] = `/usr/bin/stress-ng$(touch ${canary(2)})`;
    tools('guest').cyclictest = `/usr/bin/cyclictest\`touch ${canary(3)}\`'"\ntouch ${canary(4)}`;
    const podFile = join(results, 'hostile-pod.yaml');
    writeFileSync(podFile, dump(pod));
    const run = await runCliProcess(['run', '-t', 'timer', '--duration', '1', '--pod', podFile, '--thresholds', 'lab', '--results', results], { timeoutMs: 300_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(70);
    expect(run.stdout).to.match(/the configured path \/usr\/bin\/cyclictest;touch .* is not an executable file/);
    expect([1, 2, 3, 4].filter((n) => existsSync(canary(n)))).to.deep.equal([]);
  });
});
