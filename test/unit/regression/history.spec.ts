import { expect } from 'chai';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../lib/errors.ts';
import { appendHistory, buildHistoryEntry, findBaseline, HISTORY_FILE, parseHistory } from '../../../lib/regression/history.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { withRun } from './runs.ts';

let root: string;

/** A run of the given day (2026-11-<day>), written to <root>/<runId>/results.json and the history. */
async function record(day: number, change: (run: RunResult) => void = () => {}): Promise<RunResult> {
  const run = withRun((r) => {
    r.runId = `202611${String(day).padStart(2, '0')}-020000-run${day}`;
    r.startedAt = `2026-11-${String(day).padStart(2, '0')}T02:00:00.000Z`;
    change(r);
  });
  const dir = join(root, run.runId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), JSON.stringify(run));
  await appendHistory({ resultsRoot: root, run, resultsFile: join(dir, 'results.json') });
  return run;
}

const today = (change: (run: RunResult) => void = () => {}) =>
  withRun((r) => {
    r.runId = '20261125-020000-now';
    r.startedAt = '2026-11-25T02:00:00.000Z';
    change(r);
  });

const newKernel = (r: RunResult) => ((r.nodes.host as { kernelRelease: string }).kernelRelease = '4.4.60-rt73nfv');

describe('regression/history', () => {
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kfn-history-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('appends one line per run with the fields a baseline search needs', async () => {
    const run = await record(20);
    await record(21);
    const lines = (await readFile(join(root, HISTORY_FILE), 'utf8')).trimEnd().split('\n');
    expect(lines).to.have.length(2);
    expect(JSON.parse(lines[0] as string)).to.deep.equal(buildHistoryEntry({ resultsRoot: root, run, resultsFile: join(root, run.runId, 'results.json') }));
    expect(JSON.parse(lines[0] as string)).to.include({ runId: run.runId, resultsFile: `${run.runId}/results.json`, pod: 'intel-pod10', profile: 'opnfv-tc028', status: 'pass' });
  });

  it('last: the most recent earlier run on the same pod and profile', async () => {
    await record(20);
    await record(21);
    await record(22, (r) => (r.pod.name = 'intel-pod12'));
    await record(23, (r) => (r.thresholds.profile = 'rt-kvm'));
    await record(24, (r) => r.cases.forEach((c) => (c.status = 'error')));
    await record(26); // later than the current run
    const found = await findBaseline({ resultsRoot: root, current: today(), spec: 'last' });
    expect(found?.runId).to.equal('20261121-020000-run21');
  });

  it('last: prefers an older run on the same kernel to a newer one on another, and falls back when none is alike', async () => {
    await record(20, newKernel);
    await record(21);
    const notes: string[] = [];
    expect((await findBaseline({ resultsRoot: root, current: today(newKernel), spec: 'last' }))?.runId).to.equal('20261120-020000-run20');
    expect((await findBaseline({ resultsRoot: root, current: today(newKernel), spec: 'last', compareAcross: ['kernel'] }))?.runId).to.equal('20261121-020000-run21');
    const other = (r: RunResult) => ((r.nodes.host as { qemuVersion: string }).qemuVersion = '9.9');
    expect((await findBaseline({ resultsRoot: root, current: today(other), spec: 'last', onNote: (l) => notes.push(l) }))?.runId).to.equal('20261121-020000-run21');
    expect(notes.join('\n')).to.include('no earlier run on intel-pod10 has the same kernels, QEMU and duration');
  });

  it('last: skips torn lines and vanished results with notes, and is undefined with no history', async () => {
    expect(await findBaseline({ resultsRoot: root, current: today(), spec: 'last' })).to.equal(undefined);
    await record(20);
    const gone = await record(21);
    await rm(join(root, gone.runId), { recursive: true });
    await appendFile(join(root, HISTORY_FILE), '{"v":1,"runId":"torn');
    const notes: string[] = [];
    const found = await findBaseline({ resultsRoot: root, current: today(), spec: 'last', onNote: (l) => notes.push(l) });
    expect(found?.runId).to.equal('20261120-020000-run20');
    expect(notes.join('\n')).to.include('line 3: not JSON').and.include(`baseline candidate ${gone.runId} skipped`);
  });

  it('never records a run with no verdict, and last never takes one, even from a history line that says pass', async () => {
    const unfinished = withRun((r) => {
      r.status = 'running';
      r.exitCode = 70;
    });
    const refused = await appendHistory({ resultsRoot: root, run: unfinished, resultsFile: join(root, 'x', 'results.json') }).then(() => undefined, (e: unknown) => e);
    expect((refused as Error).message).to.include('has no verdict yet (status running)');
    await record(20);
    // A line that claims a pass while its results.json says running (a file rewritten by a killed run).
    const killed = await record(21);
    await writeFile(join(root, killed.runId, 'results.json'), JSON.stringify({ ...killed, status: 'running', exitCode: 70 }));
    // And a line that itself says running (written by another tool or an older harness).
    await record(22);
    const lines = (await readFile(join(root, HISTORY_FILE), 'utf8')).trimEnd().split('\n');
    lines[2] = JSON.stringify({ ...JSON.parse(lines[2] as string), status: 'running' });
    await writeFile(join(root, HISTORY_FILE), `${lines.join('\n')}\n`);
    const notes: string[] = [];
    const found = await findBaseline({ resultsRoot: root, current: today(), spec: 'last', onNote: (l) => notes.push(l) });
    expect(found?.runId).to.equal('20261120-020000-run20');
    expect(notes.join('\n')).to.include(`baseline candidate ${killed.runId} skipped`).and.include('never reached its verdict');
  });

  it('FILE: a run with no verdict is refused as a baseline, as bad input naming the status', async () => {
    const file = join(root, 'running.json');
    await writeFile(file, JSON.stringify(withRun((r) => (r.status = 'running'))));
    const error = await findBaseline({ resultsRoot: root, current: today(), spec: file }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.include(file).and.include('expected a finished run, got status "running"');
  });

  it('parseHistory rejects entries of another version or shape', () => {
    const { entries, problems } = parseHistory('{"v":2,"runId":"x"}\n[]\n\n');
    expect(entries).to.deep.equal([]);
    expect(problems).to.deep.equal([`${HISTORY_FILE} line 1: not a history entry (version 1); skipped`, `${HISTORY_FILE} line 2: not a history entry (version 1); skipped`]);
  });

  it('FILE: loads a results.json, and rejects anything else as bad input', async () => {
    const run = await record(20);
    expect((await findBaseline({ resultsRoot: root, current: today(), spec: join(root, run.runId, 'results.json') }))?.runId).to.equal(run.runId);
    const cases: Array<[string, string, string]> = [
      ['missing.json', '', 'no such file'],
      ['junk.json', 'not json', 'not JSON'],
      ['other.json', '{"hello": 1}', 'expected a results.json written by kvmfornfv-test'],
      ['future.json', JSON.stringify({ ...run, schemaVersion: '2.0.0' }), 'expected results schema 1.x, got 2.0.0'],
    ];
    for (const [name, content, message] of cases) {
      const file = join(root, name);
      if (content !== '') await writeFile(file, content);
      const error = await findBaseline({ resultsRoot: root, current: today(), spec: file }).then(() => undefined, (e: unknown) => e);
      expect(error, name).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).message, name).to.include(message).and.include(file);
    }
  });
});
