// A Jenkins abort sends SIGTERM: the run must stop the measurement, keep what it measured,
// write its reports, leave nothing running on any node, and remove the lab.
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { REPO_ROOT } from '../support/cli.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { RunResult } from '../../lib/results/model.ts';

const BIN = fileURLToPath(new URL('../../bin/kvmfornfv-test.js', import.meta.url));

describe('lab: SIGTERM during a measurement', function () {
  this.timeout(240_000);
  const results = mkdtempSync(join(tmpdir(), 'kfn-abort-'));
  let exitCode: number | undefined;
  let elapsedMs = 0;

  before(async () => {
    const child = execa(process.execPath, [BIN, 'run', '-t', 'timer', '--duration', '120', '--lab-guest', 'namespace', '--results', results], { reject: false, all: true, cwd: REPO_ROOT });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cyclictest never started:\n${seen}`)), 120_000);
      child.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('cyclictest on host: started')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 3000));
    const sent = Date.now();
    // Sent directly: execa's kill() would add a SIGKILL 5 s later, which Jenkins does not.
    process.kill(child.pid as number, 'SIGTERM');
    const result = await child;
    elapsedMs = Date.now() - sent;
    exitCode = result.exitCode;
  });

  it('exits 70 within a bounded time, long before the 120 s measurement would end', () => {
    expect(exitCode).to.equal(70);
    expect(elapsedMs).to.be.below(60_000);
  });

  it('keeps what was measured and says the run was aborted', () => {
    const [runId] = readdirSync(results).filter((f) => f !== 'history.jsonl');
    const run = JSON.parse(readFileSync(join(results, runId ?? '', 'results.json'), 'utf8')) as RunResult;
    expect(run.notes.join('\n')).to.include('aborted by SIGTERM');
    const timer = run.cases[0];
    expect(timer?.status).to.equal('error');
    expect(timer?.testcases.some((t) => /stopped before the end|aborted/.test(t.message ?? ''))).to.equal(true);
    // cyclictest stopped with SIGINT prints its summary: the partial figures are kept.
    const host = timer?.details.host as { overall: { summary: { samples: number } } } | undefined;
    expect(host?.overall.summary.samples ?? 0).to.be.greaterThan(100);
    expect(readFileSync(join(results, runId ?? '', 'junit.xml'), 'utf8')).to.include('kvmfornfv.latency.timer');
  });

  it('leaves no cyclictest, no lab namespace and no lab sshd behind', async () => {
    const { stdout: ps } = await execa('ps', ['-eo', 'args']);
    expect(ps).not.to.match(/cyclictest .*kfn-/);
    expect(ps).not.to.include(`${REPO_ROOT}.lab/`);
    const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));
    const { stdout } = await execa('ip', ['netns', 'list']);
    expect(stdout.split('\n').filter((ns) => ns.startsWith(`${prefix}-`))).to.deep.equal([]);
  });
});
