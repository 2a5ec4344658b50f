// -r against a TestAPI with authentication on (a stand-in on 127.0.0.1 that answers as
// releng-testresults' common/check.py does, test/support/fake-testapi.ts): the token comes from
// TEST_DB_TOKEN and travels as X-Auth-Token, each refusal has its own message and makes the run
// exit 69, and the token appears in no log line, note or results.json.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPushReporters, settlePushOutcome } from '../../../lib/cli/push-reporters.ts';
import { ConfigError } from '../../../lib/errors.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';
import { startFakeTestApi, type FakeTestApi } from '../../support/fake-testapi.ts';

const TOKEN = 'kfn-test-token-5d1f0c9a';

describe('report/testapi with authentication (TEST_DB_TOKEN)', function () {
  this.timeout(20_000);
  let api: FakeTestApi;
  let dir: string;

  before(async () => {
    api = await startFakeTestApi({ auth: true, tokens: [TOKEN], pods: ['intel-pod10'], projects: ['kvmfornfv'], testcases: ['kvmfornfv/timer', 'kvmfornfv/device_interrupt'] });
  });
  after(async () => api.close());
  beforeEach(async () => {
    api.received.length = 0;
    dir = await mkdtemp(join(tmpdir(), 'kfn-testapi-auth-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  // The CLI's path for -r: reporters from the environment, the push at the end, then the exit code.
  async function pushRun(env: NodeJS.ProcessEnv, mutate: (run: RunResult) => void = () => {}): Promise<{ run: RunResult; log: string[]; written: string }> {
    const log: string[] = [];
    const reporters = createPushReporters({ enabled: true, log: (l) => log.push(l), env: { INFLUXDB_URL: '', ...env } }).filter((r) => r.name === 'testapi');
    const run = loadRunFixture('daily-mixed');
    run.exitCode = 0;
    mutate(run);
    for (const r of reporters) await r.onEnd?.(run);
    await settlePushOutcome(reporters, dir).onEnd?.(run);
    return { run, log, written: await readFile(join(dir, 'results.json'), 'utf8') };
  }

  it('sends TEST_DB_TOKEN as X-Auth-Token and is accepted', async () => {
    const { run, log } = await pushRun({ TEST_DB_URL: api.url, TEST_DB_TOKEN: TOKEN });
    expect(api.received.map((r) => r.headers['x-auth-token'])).to.deep.equal([TOKEN, TOKEN]);
    expect(run.exitCode).to.equal(0);
    expect(run.pushes?.[0]).to.include({ target: 'testapi', state: 'pushed', accepted: 2 });
    expect(log.join('\n')).to.include('X-Auth-Token from TEST_DB_TOKEN').and.not.include(TOKEN);
  });

  const refusals = [
    { name: 'no token (HTTP 401)', env: {}, pattern: /HTTP 401: No Authentication Header\): this TestAPI checks tokens; set TEST_DB_TOKEN/, sent: 1 },
    { name: 'a wrong token (HTTP 403 Invalid Token)', env: { TEST_DB_TOKEN: 'kfn-wrong-token-77' }, pattern: /HTTP 403: Invalid Token\): the token in TEST_DB_TOKEN is not one of this TestAPI's access tokens/, sent: 1 },
  ];
  for (const r of refusals) {
    it(`${r.name}: exit 69 with its own message, and no further payload is sent`, async () => {
      const { run, written } = await pushRun({ TEST_DB_URL: api.url, ...r.env });
      expect(run.exitCode).to.equal(69);
      expect(api.received).to.have.length(r.sent);
      const failures = run.pushes?.[0]?.failures ?? [];
      expect(failures).to.have.length(1);
      expect(failures[0]).to.match(r.pattern);
      expect(written).to.include('push failed (unauthorized)');
      expect(written).to.not.include('kfn-wrong-token-77');
    });
  }

  it('an unregistered pod (the same HTTP 403): exit 69, the pod named, told apart from a refused token', async () => {
    const { run, written, log } = await pushRun({ TEST_DB_URL: api.url, TEST_DB_TOKEN: TOKEN }, (r) => {
      r.environment.nodeName = 'unregistered-pod';
    });
    expect(run.exitCode).to.equal(69);
    // Not a token problem: every case is tried.
    expect(api.received).to.have.length(2);
    const failures = run.pushes?.[0]?.failures ?? [];
    expect(failures).to.have.length(2);
    expect(failures[0]).to.match(/HTTP 403: Could Not Found pods \[\{'name': 'unregistered-pod'\}\]\): pod "unregistered-pod" .*is not registered there/);
    expect(written).to.include('push failed (forbidden)').and.not.include(TOKEN);
    expect(log.join('\n')).to.not.include(TOKEN);
  });

  it('an unregistered case: named as such', async () => {
    const { run } = await pushRun({ TEST_DB_URL: api.url, TEST_DB_TOKEN: TOKEN }, (r) => {
      r.cases[0]!.caseName = 'no_such_case';
    });
    expect(run.pushes?.[0]?.failures[0]).to.match(/case "no_such_case" of project "kvmfornfv" is not registered there/);
  });

  it('refuses a token that cannot be an HTTP header before the run, without showing it', () => {
    let caught: unknown;
    try {
      createPushReporters({ enabled: true, log: () => {}, env: { TEST_DB_URL: api.url, TEST_DB_TOKEN: 'two words\n' } });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as Error).message).to.include('TEST_DB_TOKEN').and.not.include('two words');
  });
});
