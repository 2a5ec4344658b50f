// A pod with several compute nodes, on the lab: `lab up --computes 3` (namespace guests, which a
// 2-core machine can run three of at once; three TCG VMs could not), then the latency tier
// measures each group (a host, then its guest) side by side with the others. One group's sshd
// killed mid-run fails that group only. The measurement windows are read from results.json.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { MeasurementWindow, RunResult } from '../../lib/results/model.ts';

const BIN = fileURLToPath(new URL('../../bin/kvmfornfv-test.js', import.meta.url));
const GROUPS: Record<string, string> = { host: 'guest', 'host-1': 'guest-1', 'host-2': 'guest-2' };
const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));

function readRun(root: string): RunResult {
  const [id] = readdirSync(root).filter((f) => f !== 'history.jsonl');
  return JSON.parse(readFileSync(join(root, id ?? 'missing', 'results.json'), 'utf8')) as RunResult;
}

const ms = (w: MeasurementWindow) => ({ start: Date.parse(w.start), end: Date.parse(w.end) });
const overlapMs = (a: MeasurementWindow, b: MeasurementWindow) => Math.min(ms(a).end, ms(b).end) - Math.max(ms(a).start, ms(b).start);

// Every sshd of one lab namespace: its listener and the sessions it serves.
async function killSshdIn(namespace: string): Promise<number[]> {
  const { stdout } = await execa('ip', ['netns', 'pids', namespace]);
  const pids: number[] = [];
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'sshd') pids.push(pid);
  }
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids;
}

describe('lab: three compute groups measured side by side', function () {
  this.timeout(900_000);
  const healthy = mkdtempSync(join(tmpdir(), 'kfn-lab-groups-'));
  const faulty = mkdtempSync(join(tmpdir(), 'kfn-lab-groups-kill-'));
  let first: { exitCode: number; output: string };
  let second: { exitCode: number | undefined; output: string; killed: number[] };

  before(async () => {
    const up = await runCliProcess(['lab', 'up', '--computes', '3', '--guest', 'namespace'], { timeoutMs: 600_000 });
    expect(up.exitCode, up.stderr).to.equal(0);
    const run = await runCliProcess(['run', '-t', 'latency', '--duration', '5', '--results', healthy], { timeoutMs: 400_000 });
    first = { exitCode: run.exitCode, output: `${run.stdout}\n${run.stderr}` };

    const child = execa(process.execPath, [BIN, 'run', '-t', 'timer', '--duration', '5', '--results', faulty], { reject: false, all: true, cwd: REPO_ROOT, stdin: 'ignore' });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host-2 never started measuring:\n${seen}`)), 300_000);
      child.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('[host-2] cyclictest on host-2: started')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 2000));
    const killed = await killSshdIn(`${prefix}-host-2`);
    const result = await child;
    second = { exitCode: result.exitCode, output: String(result.all), killed };
  });

  after(async () => {
    await runCliProcess(['lab', 'down'], { timeoutMs: 120_000 });
    rmSync(healthy, { recursive: true, force: true });
    rmSync(faulty, { recursive: true, force: true });
  });

  it('passes timer and device_interrupt for every group (68 only if the shared 2-core VM spiked past a lab limit)', () => {
    expect([0, 68], first.output).to.include(first.exitCode);
    const run = readRun(healthy);
    expect(run.computes?.map((c) => [c.host, c.guests])).to.deep.equal(Object.entries(GROUPS).map(([h, g]) => [h, [g]]));
    for (const caseName of ['timer', 'device_interrupt']) {
      const result = run.cases.find((c) => c.caseName === caseName);
      expect(result?.testcases.filter((t) => t.status === 'error').map((t) => t.title), caseName).to.deep.equal([]);
      const measured = result?.testcases.filter((t) => /measured/.test(t.title)) ?? [];
      expect(measured.map((t) => [t.compute, t.status]), caseName).to.have.deep.members(
        caseName === 'timer' ? Object.entries(GROUPS).flatMap(([h]) => [[h, 'pass'], [h, 'pass']]) : Object.keys(GROUPS).map((h) => [h, 'pass']),
      );
    }
  });

  it('measures different groups at once: their timer windows overlap by at least half their length', () => {
    const windows = readRun(healthy).cases.find((c) => c.caseName === 'timer')?.windows ?? [];
    expect(windows.map((w) => w.node)).to.have.members([...Object.keys(GROUPS), ...Object.values(GROUPS)]);
    const of = (node: string) => windows.find((w) => w.node === node) as MeasurementWindow;
    for (const [a, b] of [['host', 'host-1'], ['host-1', 'host-2'], ['host', 'host-2'], ['guest', 'guest-1'], ['guest-1', 'guest-2']] as const) {
      const length = Math.min(ms(of(a)).end - ms(of(a)).start, ms(of(b)).end - ms(of(b)).start);
      expect(overlapMs(of(a), of(b)), `${a} and ${b}`).to.be.at.least(length / 2);
    }
  });

  it('never measures a host and its own guest at once', () => {
    const run = readRun(healthy);
    for (const caseName of ['timer', 'device_interrupt']) {
      const windows = run.cases.find((c) => c.caseName === caseName)?.windows ?? [];
      for (const [host, guest] of Object.entries(GROUPS)) {
        for (const h of windows.filter((w) => w.node === host)) {
          for (const g of windows.filter((w) => w.node === guest)) expect(overlapMs(h, g), `${caseName}: ${host} and ${guest}`).to.be.at.most(0);
        }
      }
    }
  });

  it("keeps a compute whose sshd was killed mid-run to its own errors: the other groups pass, exit 70", () => {
    expect(second.killed.length, 'sshd processes killed in host-2').to.be.greaterThan(0);
    expect(second.exitCode, second.output).to.equal(70);
    const timer = readRun(faulty).cases.find((c) => c.caseName === 'timer');
    const errors = timer?.testcases.filter((t) => t.status === 'error') ?? [];
    expect(errors.length).to.be.greaterThan(0);
    expect([...new Set(errors.map((t) => t.compute))]).to.deep.equal(['host-2']);
    for (const group of ['host', 'host-1']) {
      expect(timer?.testcases.filter((t) => t.compute === group && t.status !== 'pass' && t.status !== 'skip').map((t) => t.title), group).to.deep.equal([]);
    }
  });

  it('leaves no measurement running after either run, and no lab process or namespace after lab down', async () => {
    const { stdout: during } = await execa('ps', ['-eo', 'args']);
    expect(during).not.to.match(/cyclictest .*kfn-|kfn-irq(gen|recv) /);
    await runCliProcess(['lab', 'down'], { timeoutMs: 120_000 });
    const { stdout: ps } = await execa('ps', ['-eo', 'args']);
    expect(ps).not.to.include(`${REPO_ROOT}.lab/`);
    const { stdout } = await execa('ip', ['netns', 'list']);
    expect(stdout.split('\n').filter((ns) => ns.startsWith(`${prefix}-`))).to.deep.equal([]);
  });
});
