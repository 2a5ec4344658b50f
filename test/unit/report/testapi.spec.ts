import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, PushError } from '../../../lib/errors.ts';
import { hasPushFailures } from '../../../lib/report/push-http.ts';
import {
  buildTestApiPayloads,
  checkTestApiUrl,
  createTestApiReporter,
  extractTestApiVersion,
  formatTestApiDate,
  pushToTestApi,
  TESTAPI_FIELDS,
  validateTestApiPayload,
  type TestApiPayload,
} from '../../../lib/report/testapi.ts';
import { loadRunFixture, RUN_FIXTURES } from '../../fixtures/report/run-fixtures.ts';

describe('report/testapi', () => {
  describe('buildTestApiPayloads', () => {
    for (const name of RUN_FIXTURES) {
      it(`${name}: every payload passes TestAPI's validation`, () => {
        const payloads = buildTestApiPayloads(loadRunFixture(name));
        expect(payloads).to.not.be.empty;
        for (const payload of payloads) expect(validateTestApiPayload(payload), payload.case_name).to.deep.equal([]);
      });
    }

    it('pushes executed cases only: pass, fail and error, not skip (as Xtesting does)', () => {
      const payloads = buildTestApiPayloads(loadRunFixture('daily-mixed'));
      expect(payloads.map((p) => [p.case_name, p.criteria])).to.deep.equal([
        ['timer', 'FAIL'],
        ['device_interrupt', 'FAIL'],
      ]);
    });

    it('fills the Xtesting fields from the environment, the pod and the case', () => {
      const [timer] = buildTestApiPayloads(loadRunFixture('daily-mixed'));
      expect(timer).to.include({
        project_name: 'kvmfornfv',
        case_name: 'timer',
        pod_name: 'intel-pod10',
        installer: 'fuel',
        version: 'master',
        scenario: 'os-nosdn-kvm_ovs_dpdk-ha',
        start_date: '2026-03-13 02:00:03',
        stop_date: '2026-03-13 03:01:10',
        build_tag: 'jenkins-kvmfornfv-daily-master-intel-pod10-215',
      });
      expect(Object.keys(timer ?? {}).sort()).to.deep.equal([...TESTAPI_FIELDS].sort());
      const details = timer?.details as { status: string; testcases: { status: string; message?: string }[]; results: Record<string, unknown> };
      expect(details.status).to.equal('fail');
      expect(details.testcases.map((t) => t.status)).to.deep.equal(['pass', 'fail']);
      expect(details.testcases[1]?.message).to.match(/1312 us > 1000 us/);
      expect(details.results).to.have.property('vnf-guest');
    });

    it('reports PASS only for a passing case, and uses the pod name when NODE_NAME is unset', () => {
      const [timer] = buildTestApiPayloads(loadRunFixture('lab-timer-pass'));
      expect(timer?.criteria).to.equal('PASS');
      expect(timer?.pod_name).to.equal('kfn-lab');
      expect(timer?.version).to.equal('unknown');
    });

    it('carries the reason of a case that could not be measured', () => {
      const payloads = buildTestApiPayloads(loadRunFixture('daily-mixed'));
      const details = payloads[1]?.details as { reason?: string };
      expect(details.reason).to.match(/cannot open \/dev\/ptp0/);
    });
  });

  describe('extractTestApiVersion (Xtesting _job_name_rule)', () => {
    const table: [string | undefined, string][] = [
      ['jenkins-kvmfornfv-daily-master-intel-pod10-215', 'master'],
      ['jenkins-kvmfornfv-weekly-euphrates-intel-pod10-7', 'euphrates'],
      ['functest-daily-fraser-1', 'fraser'],
      ['jenkins-kvmfornfv-verify-master-12', 'unknown'],
      ['daily-master', 'unknown'],
      ['none', 'unknown'],
      ['', 'unknown'],
      [undefined, 'unknown'],
    ];
    for (const [tag, version] of table) {
      it(`${JSON.stringify(tag)} → ${version}`, () => expect(extractTestApiVersion(tag)).to.equal(version));
    }
  });

  describe('formatTestApiDate', () => {
    it('writes %Y-%m-%d %H:%M:%S in UTC whatever the offset of the input', () => {
      expect(formatTestApiDate('2026-03-12T23:30:05.900+02:00')).to.equal('2026-03-12 21:30:05');
      expect(formatTestApiDate('2026-12-31T23:59:59Z')).to.equal('2026-12-31 23:59:59');
    });
    it('does not depend on the zone of the machine that runs it', () => {
      const saved = process.env.TZ;
      process.env.TZ = 'Asia/Kolkata';
      try {
        expect(new Date(Date.UTC(2026, 0, 1)).getHours()).to.equal(5); // the zone did change
        expect(formatTestApiDate('2026-01-01T00:00:00Z')).to.equal('2026-01-01 00:00:00');
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });
    it('rejects a value that is not a timestamp', () => {
      expect(() => formatTestApiDate('yesterday')).to.throw(PushError, /ISO 8601/);
    });
  });

  describe('validateTestApiPayload', () => {
    const valid = (): Record<string, unknown> => ({ ...(buildTestApiPayloads(loadRunFixture('lab-timer-pass'))[0] as TestApiPayload) });

    for (const field of TESTAPI_FIELDS) {
      it(`rejects a payload without ${field}`, () => {
        const payload = valid();
        delete payload[field];
        expect(validateTestApiPayload(payload).join('\n')).to.match(new RegExp(`^${field}: missing`, 'm'));
      });
    }

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['an empty pod_name (check.miss_fields)', { pod_name: '' }, /pod_name: missing \(TestAPI answers 400\)/],
      ['criteria in lower case', { criteria: 'pass' }, /criteria: expected "PASS" or "FAIL", found "pass"/],
      ['criteria PASSED', { criteria: 'PASSED' }, /criteria: expected "PASS" or "FAIL"/],
      ['criteria as a number', { criteria: 100 }, /criteria: expected a string/],
      ['an ISO start_date', { start_date: '2026-03-12T10:15:02Z' }, /start_date: expected "%Y-%m-%d %H:%M:%S"/],
      ['a stop_date with milliseconds', { stop_date: '2026-03-12 10:17:40.900' }, /stop_date: expected/],
      ['an impossible date', { start_date: '2026-02-30 10:00:00' }, /start_date: "2026-02-30 10:00:00" is not a real date/],
      ['an impossible time', { stop_date: '2026-03-12 24:00:00' }, /stop_date: .* is not a real date/],
      ['stop before start', { start_date: '2026-03-12 10:00:01', stop_date: '2026-03-12 10:00:00' }, /stop_date: .* is before start_date/],
      ['details as an array', { details: [] }, /details: expected an object, found an array/],
      ['details holding NaN', { details: { results: { max: Number.NaN } } }, /details\.results\.max: not representable in JSON/],
      ['details holding a Date', { details: { at: new Date(0) } }, /details\.at: not representable/],
      ['an unknown field', { pod: 'x' }, /pod: not a field of TestAPI's ResultCreateRequest/],
    ];
    for (const [what, change, expected] of bad) {
      it(`rejects ${what}`, () => {
        expect(validateTestApiPayload({ ...valid(), ...change }).join('\n')).to.match(expected);
      });
    }

    it('rejects something that is not an object', () => {
      expect(validateTestApiPayload('x')).to.deep.equal(['payload: expected a JSON object, found string']);
      expect(validateTestApiPayload([])).to.have.length(1);
    });

    it('accepts start equal to stop (a skip-fast case)', () => {
      expect(validateTestApiPayload({ ...valid(), start_date: '2026-03-12 10:00:00', stop_date: '2026-03-12 10:00:00' })).to.deep.equal([]);
    });
  });

  describe('pushToTestApi to file://', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kfn-testapi-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('appends one JSON line per payload, run after run', async () => {
      const file = join(dir, 'sub', 'results.jsonl');
      const url = pathToFileURL(file).href;
      const payloads = buildTestApiPayloads(loadRunFixture('daily-mixed'));
      expect(await pushToTestApi(payloads, url)).to.deep.equal({ accepted: 2, failures: [] });
      await pushToTestApi(payloads, url);
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      expect(lines).to.have.length(2 * payloads.length);
      const parsed = lines.map((l) => JSON.parse(l) as TestApiPayload);
      expect(parsed.map((p) => p.case_name)).to.deep.equal(['timer', 'device_interrupt', 'timer', 'device_interrupt']);
      for (const p of parsed) expect(validateTestApiPayload(p)).to.deep.equal([]);
    });

    it('uses an injected appendFile and reports its failure as a PushError', async () => {
      const calls: string[] = [];
      const ok = await pushToTestApi(buildTestApiPayloads(loadRunFixture('lab-timer-pass')), 'file:///x/y.json', {
        appendFile: async (path, data) => {
          calls.push(`${path}|${data.endsWith('\n')}`);
        },
      });
      expect(ok.accepted).to.equal(1);
      expect(calls).to.deep.equal(['/x/y.json|true']);
      const failed = await pushToTestApi(buildTestApiPayloads(loadRunFixture('lab-timer-pass')), 'file:///x/y.json', {
        appendFile: async () => {
          throw new Error('EACCES: permission denied');
        },
      });
      expect(failed.failures[0]?.message).to.match(/cannot append to \/x\/y\.json: EACCES/);
    });
  });

  describe('pushToTestApi over HTTP (local server on 127.0.0.1)', () => {
    let server: Server;
    let url: string;
    let answers: { status: number; body: string }[];
    let received: { path: string | undefined; type: string | undefined; body: TestApiPayload }[];

    before(async () => {
      server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          received.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) as TestApiPayload });
          const answer = answers.shift() ?? { status: 200, body: '{"href": "x"}' };
          if (answer.status === 0) return; // never answer: the client's deadline must fire
          res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/results`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    beforeEach(() => {
      answers = [];
      received = [];
    });

    const payloads = () => buildTestApiPayloads(loadRunFixture('daily-mixed'));

    it('POSTs each payload as JSON and counts 200 as accepted', async () => {
      const result = await pushToTestApi(payloads(), url);
      expect(result).to.deep.equal({ accepted: 2, failures: [] });
      expect(received.map((r) => [r.path, r.type, r.body.case_name])).to.deep.equal([
        ['/api/v1/results', 'application/json', 'timer'],
        ['/api/v1/results', 'application/json', 'device_interrupt'],
      ]);
      expect(received[0]?.body).to.deep.equal(payloads()[0]);
    });

    it('400 → rejected, with the server text; the next case is still pushed', async () => {
      answers = [{ status: 400, body: '{"message": "criteria must be in [\'PASS\', \'FAIL\']"}' }];
      const result = await pushToTestApi(payloads(), url);
      expect(result.accepted).to.equal(1);
      expect(result.failures.map((f) => f.reason)).to.deep.equal(['rejected']);
      expect(result.failures[0]?.message).to.match(/timer rejected .*\(HTTP 400: criteria must be in \['PASS', 'FAIL'\]\): a required field is missing or criteria is not PASS\/FAIL/);
    });

    it('403 → forbidden, naming what TestAPI did not find', async () => {
      answers = [{ status: 200, body: '{}' }, { status: 403, body: "<html><title>403: Could Not Found pods [{'name': 'intel-pod10'}]</title><body>403: Could Not Found pods [{'name': 'intel-pod10'}]</body></html>" }];
      const result = await pushToTestApi(payloads(), url);
      expect(result.failures.map((f) => f.reason)).to.deep.equal(['forbidden']);
      expect(result.failures[0]?.message).to.match(/device_interrupt refused .*\(HTTP 403: Could Not Found pods \[\{'name': 'intel-pod10'\}\]\): pod "intel-pod10" \(NODE_NAME, or the pod file's name\) is not registered there/);
    });

    it('403 with a text TestAPI does not give → forbidden, with the server text', async () => {
      answers = [{ status: 403, body: 'Forbidden by proxy' }, { status: 200, body: '{}' }];
      const result = await pushToTestApi(payloads(), url);
      expect(result.failures[0]?.message).to.match(/timer refused by .* \(HTTP 403: Forbidden by proxy\)$/);
    });

    it('another status → other', async () => {
      answers = [{ status: 500, body: '<html>Internal Server Error</html>' }, { status: 200, body: '{}' }];
      const result = await pushToTestApi(payloads(), url);
      expect(result.failures.map((f) => f.reason)).to.deep.equal(['other']);
      expect(result.failures[0]?.message).to.match(/HTTP 500/);
    });

    it('no answer within the deadline → unreachable, and the push stops there', async () => {
      answers = [{ status: 0, body: '' }];
      const result = await pushToTestApi(payloads(), url, { timeoutMs: 300 });
      expect(result.accepted).to.equal(0);
      expect(result.failures.map((f) => f.reason)).to.deep.equal(['unreachable']);
      expect(result.failures[0]?.message).to.match(/timed out after 0\.3 s/);
      expect(received).to.have.length(1);
    });

    it('a closed port → unreachable, naming the URL', async () => {
      const closed = await closedPortUrl();
      const result = await pushToTestApi(payloads(), closed);
      expect(result.failures).to.have.length(1);
      expect(result.failures[0]?.reason).to.equal('unreachable');
      expect(result.failures[0]?.message).to.include(closed).and.match(/connection refused/);
    });

    it('a host name that does not resolve → unreachable, with the password hidden', async () => {
      const result = await pushToTestApi(payloads(), 'http://user:secret@kfn-no-such-host.invalid/api/v1/results', { timeoutMs: 5000 });
      expect(result.failures[0]?.reason).to.equal('unreachable');
      expect(result.failures[0]?.message).to.not.include('secret');
    });
  });

  describe('createTestApiReporter', () => {
    it('pushes at onEnd, records skipped cases as a note, and leaves the run untouched', async () => {
      const run = loadRunFixture('daily-mixed');
      const before = JSON.stringify(run);
      const lines: string[] = [];
      const reporter = createTestApiReporter({ url: 'file:///unused.json', appendFile: async (_p, d) => void lines.push(d), log: () => {} });
      await reporter.onEnd?.(run);
      expect(reporter.outcome).to.include({ target: 'testapi', state: 'pushed', accepted: 2 });
      expect(reporter.outcome.notes.join('\n')).to.match(/sriov_forwarding/);
      expect(lines).to.have.length(2);
      expect(JSON.stringify(run)).to.equal(before);
      expect(hasPushFailures([reporter])).to.equal(false);
    });

    it('records an unreachable server as a failure instead of throwing', async () => {
      const reporter = createTestApiReporter({ url: await closedPortUrl(), log: () => {} });
      await reporter.onEnd?.(loadRunFixture('lab-timer-pass'));
      expect(reporter.outcome.state).to.equal('failed');
      expect(reporter.outcome.failures.map((f) => f.reason)).to.deep.equal(['unreachable']);
      expect(hasPushFailures([reporter])).to.equal(true);
    });

    it('does not send a payload TestAPI would refuse', async () => {
      const run = loadRunFixture('lab-timer-pass');
      run.pod.name = '';
      const sent: string[] = [];
      const reporter = createTestApiReporter({ url: 'file:///unused.json', appendFile: async (_p, d) => void sent.push(d), log: () => {} });
      await reporter.onEnd?.(run);
      expect(sent).to.deep.equal([]);
      expect(reporter.outcome.failures[0]?.message).to.match(/not sent.*pod_name: missing/);
    });

    it('refuses a TEST_DB_URL that is not http(s) or file as bad input', () => {
      expect(() => checkTestApiUrl('ftp://db/results')).to.throw(ConfigError, /TEST_DB_URL: scheme ftp: is not supported/);
      expect(() => createTestApiReporter({ url: 'not a url' })).to.throw(ConfigError, /TEST_DB_URL/);
    });

    it('refuses a file URL that names a host instead of a path, before the run', () => {
      expect(() => checkTestApiUrl('file://testapi.jsonl')).to.throw(ConfigError, /TEST_DB_URL: "file:\/\/testapi\.jsonl" does not name a local file/);
      expect(checkTestApiUrl('file:///tmp/testapi.jsonl').pathname).to.equal('/tmp/testapi.jsonl');
    });
  });
});

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/api/v1/results`;
}
