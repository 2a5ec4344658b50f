// How -r's pushes end up in the run: notes, the `pushes` record the ci/ script reads, and
// exit code 69 only when nothing more serious happened.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, PushError } from '../../../lib/errors.ts';
import { createPushReporters, settlePushOutcome } from '../../../lib/cli/push-reporters.ts';
import { newPushOutcome, type PushReporter } from '../../../lib/report/push-http.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

function fakePush(target: 'testapi' | 'influxdb', state: 'pushed' | 'skipped' | 'failed'): PushReporter {
  const outcome = { ...newPushOutcome(target), state, accepted: state === 'pushed' ? 2 : 0 };
  if (state === 'failed') outcome.failures.push(new PushError('forbidden', `${target} answered 403: pod not registered`));
  return { name: target, outcome };
}

describe('cli/push-reporters', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kfn-push-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function settle(run: RunResult, reporters: PushReporter[]): Promise<RunResult> {
    await settlePushOutcome(reporters, dir).onEnd?.(run);
    return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResult;
  }

  it('a failed push turns a passing run into 69 and is recorded, with the rewritten results.json', async () => {
    const run = loadRunFixture('lab-timer-pass');
    run.exitCode = 0;
    const written = await settle(run, [fakePush('testapi', 'failed'), fakePush('influxdb', 'pushed')]);
    expect(run.exitCode).to.equal(69);
    expect(written.exitCode).to.equal(69);
    expect(written.pushes).to.deep.equal([
      { target: 'testapi', state: 'failed', accepted: 0, failures: ['testapi answered 403: pod not registered'] },
      { target: 'influxdb', state: 'pushed', accepted: 2, failures: [] },
    ]);
    expect(written.notes).to.include('testapi push failed (forbidden): testapi answered 403: pod not registered');
  });

  it('keeps a higher exit code (68) but still records the failed push for the ci/ script', async () => {
    const run = loadRunFixture('daily-mixed');
    run.exitCode = 68;
    const written = await settle(run, [fakePush('testapi', 'failed')]);
    expect(written.exitCode).to.equal(68);
    expect(written.pushes?.[0]?.state).to.equal('failed');
  });

  it('leaves the run alone when the pushes succeed or were skipped', async () => {
    const run = loadRunFixture('lab-timer-pass');
    run.exitCode = 0;
    const written = await settle(run, [fakePush('testapi', 'pushed'), fakePush('influxdb', 'skipped')]);
    expect(written.exitCode).to.equal(0);
    expect(written.pushes?.map((p) => p.state)).to.deep.equal(['pushed', 'skipped']);
  });

  it('creates no push without -r, and refuses a bad TEST_DB_URL before the run', () => {
    expect(createPushReporters({ enabled: false, log: () => {}, env: { TEST_DB_URL: 'ftp://x' } })).to.deep.equal([]);
    expect(() => createPushReporters({ enabled: true, log: () => {}, env: { TEST_DB_URL: 'ftp://x' } })).to.throw(ConfigError, /TEST_DB_URL/);
  });
});
