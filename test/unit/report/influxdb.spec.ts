import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, PushError } from '../../../lib/errors.ts';
import { buildInfluxPoints, type InfluxPoint } from '../../../lib/report/influx-points.ts';
import { createInfluxDbReporter, formatLinePoint, formatLineProtocol, pushToInfluxDb, resolveInfluxTarget } from '../../../lib/report/influxdb.ts';
import type { FetchLike } from '../../../lib/report/push-http.ts';
import { createTestApiReporter } from '../../../lib/report/testapi.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

const point = (over: Partial<InfluxPoint> = {}): InfluxPoint => ({ measurement: 'm', tags: {}, fields: { v: 1 }, timestampNs: 5n, ...over });

describe('report/influxdb', () => {
  describe('formatLinePoint (InfluxDB 1.x line protocol)', () => {
    const table: [string, InfluxPoint, string][] = [
      ['a float, an integer, a boolean and a string', point({ fields: { f: 1.5, i: 42n, b: true, s: 'ok' } }), 'm b=true,f=1.5,i=42i,s="ok" 5'],
      ['sorted tags', point({ tags: { z: '1', a: '2' } }), 'm,a=2,z=1 v=1 5'],
      ['comma and space in the measurement', point({ measurement: 'a b,c' }), 'a\\ b\\,c v=1 5'],
      ['comma, equals and space in tag keys and values', point({ tags: { 'k=1, x': 'v=1, y' } }), 'm,k\\=1\\,\\ x=v\\=1\\,\\ y v=1 5'],
      ['equals and space in a field key', point({ fields: { 'max us=': 3 } }), 'm max\\ us\\==3 5'],
      ['quote and backslash in a string field', point({ fields: { s: 'say "hi" \\o/' } }), 'm s="say \\"hi\\" \\\\o/" 5'],
      ['line breaks, which cannot be escaped', point({ tags: { t: 'a\nb' }, fields: { s: 'x\r\ny' } }), 'm,t=a\\ b s="x y" 5'],
      ['an empty tag value, which cannot be written', point({ tags: { empty: '', t: 'x' } }), 'm,t=x v=1 5'],
      ['a non-finite float, which is left out', point({ fields: { bad: Number.NaN, inf: Number.POSITIVE_INFINITY, v: 2 } }), 'm v=2 5'],
    ];
    for (const [what, input, expected] of table) {
      it(`writes ${what}`, () => expect(formatLinePoint(input)).to.equal(expected));
    }

    it('refuses a point with no finite field', () => {
      expect(() => formatLinePoint(point({ fields: { bad: Number.NaN } }))).to.throw(PushError, /no field with a finite value/);
    });
    it('refuses a point with no measurement', () => {
      expect(() => formatLinePoint(point({ measurement: '' }))).to.throw(PushError, /without a measurement/);
    });
  });

  describe('buildInfluxPoints', () => {
    it('timer: one point per node in kvmfornfv_cyclictest_<load>_idle, with the key figures', () => {
      const points = buildInfluxPoints(loadRunFixture('lab-timer-pass'));
      expect(points.map((p) => [p.measurement, p.tags.node, p.tags.role, p.tags.load])).to.deep.equal([
        ['kvmfornfv_cyclictest_idle_idle', 'host', 'host', 'idle'],
        ['kvmfornfv_cyclictest_idle_idle', 'guest', 'guest', 'idle'],
      ]);
      expect(points[0]?.tags).to.include({ pod: 'kfn-lab', scenario: 'scenario', installer: 'unknown', build: 'none', case: 'timer' });
      expect(points[0]?.fields).to.deep.equal({
        samples: 120000n,
        overflows: 0n,
        max_is_lower_bound: false,
        min_us: 4,
        avg_us: 88.41,
        max_us: 2975,
        p50_us: 81,
        p99_us: 212,
        p999_us: 1204,
        p9999_us: 2410,
      });
      expect(points[0]?.timestampNs).to.equal(BigInt(Date.parse('2026-03-12T10:15:02.125Z')) * 1_000_000n);
    });

    it('timer: the load names of kvmfornfv CI (cpu → cpustress), failed cases included, skipped ones not', () => {
      const points = buildInfluxPoints(loadRunFixture('daily-mixed'));
      expect(points.map((p) => p.measurement)).to.deep.equal(['kvmfornfv_cyclictest_cpustress_idle']);
      expect(points[0]?.tags).to.include({ pod: 'intel-pod10', node: 'vnf-guest', load: 'cpustress', build: 'jenkins-kvmfornfv-daily-master-intel-pod10-215' });
      expect(points[0]?.fields.max_us).to.equal(1312);
    });

    for (const [load, name] of [['memory on compute-0 cpus 0', 'memorystress'], ['io on compute-0 cpus 0', 'iostress'], ['turbo', 'unknown']] as const) {
      it(`timer: load "${load}" → kvmfornfv_cyclictest_${name}_idle`, () => {
        const run = loadRunFixture('daily-mixed');
        (run.cases[0]?.details['vnf-guest'] as { load: string }).load = load;
        expect(buildInfluxPoints(run)[0]?.measurement).to.equal(`kvmfornfv_cyclictest_${name}_idle`);
      });
    }

    it('other cases (fallback walk): a point per latency summary, frame size as a tag, the numbers beside it as fields', () => {
      const points = buildInfluxPoints(loadRunFixture('forwarding-frames'));
      expect(points.map((p) => [p.measurement, p.tags.frame_size, p.tags.series])).to.deep.equal([
        ['kvmfornfv_ovs_dpdk_forwarding', '64', 'frames.0.latency'],
        ['kvmfornfv_ovs_dpdk_forwarding', '1518', 'frames.1.latency'],
      ]);
      expect(points[0]?.fields).to.include({ rx_mpps: 7.41, loss_percent: 0.001, max_us: 61, p99_us: 34 });
      expect(points[0]?.fields).to.not.have.property('p9999_us');
      expect(points[0]?.fields).to.not.have.property('frame_size');
      expect(points[0]?.tags).to.include({ installer: 'apex', case: 'ovs_dpdk_forwarding' });
      // No node named anywhere in these details; a forwarding case runs no load.
      expect(points.map((p) => [p.tags.node, p.tags.load])).to.deep.equal([
        ['unknown', 'idle'],
        ['unknown', 'idle'],
      ]);
    });

    it('other cases: the node tag when the summary sits under a node name', () => {
      const run = loadRunFixture('forwarding-frames');
      const latency = (run.cases[0]?.details.frames as { latency: unknown }[])[0]?.latency;
      run.cases[0]!.details = { 'vnf-guest': { frameSize: 64, latency } };
      const [only] = buildInfluxPoints(run);
      expect(only?.tags).to.include({ node: 'vnf-guest', role: 'guest', load: 'idle', frame_size: '64', series: 'vnf-guest.latency' });
    });

    it('every point of every fixture formats as line protocol', () => {
      for (const name of ['lab-timer-pass', 'daily-mixed', 'forwarding-frames'] as const) {
        const text = formatLineProtocol(buildInfluxPoints(loadRunFixture(name)));
        for (const line of text.split('\n')) expect(line).to.match(/^kvmfornfv_\w+(,\S+)* \S+ \d{19}$/);
      }
    });
  });

  describe('resolveInfluxTarget', () => {
    const table: [string, string, string][] = [
      ['http://127.0.0.1:8086/write?db=kvmfornfv', 'http://127.0.0.1:8086/write?db=kvmfornfv&precision=ns', 'kvmfornfv'],
      ['http://127.0.0.1:8086', 'http://127.0.0.1:8086/write?db=kvmfornfv&precision=ns', 'kvmfornfv'],
      ['http://influx.example:8086/?db=yardstick', 'http://influx.example:8086/write?db=yardstick&precision=ns', 'yardstick'],
      ['https://proxy.example/influx/', 'https://proxy.example/influx/write?db=kvmfornfv&precision=ns', 'kvmfornfv'],
      ['http://h:8086/write?db=k&precision=s', 'http://h:8086/write?db=k&precision=ns', 'k'],
    ];
    for (const [raw, writeUrl, db] of table) {
      it(`${raw} → ${writeUrl}`, () => expect(resolveInfluxTarget(raw)).to.deep.equal({ writeUrl, db }));
    }
    it('refuses a value that is not an http(s) URL, as bad input', () => {
      expect(() => resolveInfluxTarget('127.0.0.1:8086')).to.throw(ConfigError, /INFLUXDB_URL/);
      expect(() => resolveInfluxTarget('udp://127.0.0.1:8089')).to.throw(ConfigError, /scheme udp:/);
      expect(() => createInfluxDbReporter({ url: 'nonsense' })).to.throw(ConfigError);
    });
  });

  describe('pushToInfluxDb and the reporter (injected fetch)', () => {
    const capture = (status: number, body = '') => {
      const calls: { url: string; headers: Record<string, string>; body: string }[] = [];
      const fetch: FetchLike = async (url, init) => {
        calls.push({ url, headers: init.headers, body: init.body });
        return { status, text: async () => body };
      };
      return { calls, fetch };
    };

    it('POSTs all points as one line-protocol body, with credentials moved to Basic auth', async () => {
      const { calls, fetch } = capture(204);
      const run = loadRunFixture('lab-timer-pass');
      await pushToInfluxDb(buildInfluxPoints(run), resolveInfluxTarget('http://kfn:s3cret@127.0.0.1:8086/write?db=kvmfornfv'), { fetch });
      expect(calls).to.have.length(1);
      expect(calls[0]?.url).to.equal('http://127.0.0.1:8086/write?db=kvmfornfv&precision=ns');
      expect(calls[0]?.headers.Authorization).to.equal(`Basic ${Buffer.from('kfn:s3cret').toString('base64')}`);
      expect(calls[0]?.body.split('\n')).to.have.length(2);
    });

    const statuses: [number, string, PushError['reason'], RegExp][] = [
      [400, '{"error":"partial write: field type conflict"}', 'rejected', /HTTP 400.*field type conflict/],
      [401, '{"error":"authorization failed"}', 'forbidden', /HTTP 401.*user and password/],
      [404, '{"error":"database not found: \\"kvmfornfv\\""}', 'rejected', /database kvmfornfv not found.*CREATE DATABASE kvmfornfv/],
      [500, 'boom', 'other', /HTTP 500: boom/],
    ];
    for (const [status, body, reason, message] of statuses) {
      it(`HTTP ${status} → PushError('${reason}')`, async () => {
        const { fetch } = capture(status, body);
        const error = await pushToInfluxDb(buildInfluxPoints(loadRunFixture('lab-timer-pass')), resolveInfluxTarget('http://127.0.0.1:8086'), { fetch }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(PushError);
        expect((error as PushError).reason).to.equal(reason);
        expect((error as PushError).message).to.match(message);
      });
    }

    it('without INFLUXDB_URL: skipped with a note, no failure, no request', async () => {
      const { calls, fetch } = capture(204);
      const lines: string[] = [];
      const reporter = createInfluxDbReporter({ url: undefined, fetch, log: (l) => lines.push(l) });
      await reporter.onEnd?.(loadRunFixture('lab-timer-pass'));
      expect(reporter.outcome).to.include({ state: 'skipped', accepted: 0 });
      expect(reporter.outcome.failures).to.deep.equal([]);
      expect(reporter.outcome.notes).to.deep.equal(['INFLUXDB_URL is not set: InfluxDB push skipped']);
      expect(lines).to.deep.equal(['INFLUXDB_URL is not set: InfluxDB push skipped']);
      expect(calls).to.deep.equal([]);
    });

    it('a run with no verdict (status running) pushes nothing to InfluxDB nor TestAPI, and says why', async () => {
      const { calls, fetch } = capture(204);
      const run = { ...loadRunFixture('lab-timer-pass'), status: 'running' as const, exitCode: 70 };
      const influx = createInfluxDbReporter({ url: 'http://127.0.0.1:8086', fetch });
      const testapi = createTestApiReporter({ url: 'http://127.0.0.1:8082/api/v1/results', fetch });
      for (const reporter of [influx, testapi]) {
        await reporter.onEnd?.(run);
        expect(reporter.outcome).to.include({ state: 'skipped', accepted: 0 });
        expect(reporter.outcome.notes).to.deep.equal([`run ${run.runId} has no verdict (status running): nothing pushed`]);
      }
      expect(calls).to.deep.equal([]);
      // The same run with its verdict is pushed: the refusal is the status, not the fixture.
      await createInfluxDbReporter({ url: 'http://127.0.0.1:8086', fetch }).onEnd?.({ ...run, status: 'pass', exitCode: 0 });
      expect(calls).to.have.length(1);
    });

    it('a server that is down is recorded as unreachable, not thrown', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const reporter = createInfluxDbReporter({ url: `http://127.0.0.1:${port}/write?db=kvmfornfv` });
      await reporter.onEnd?.(loadRunFixture('daily-mixed'));
      expect(reporter.outcome.state).to.equal('failed');
      expect(reporter.outcome.failures.map((f) => f.reason)).to.deep.equal(['unreachable']);
      expect(reporter.outcome.failures[0]?.message).to.include(`127.0.0.1:${port}`);
    });

    it('a run with nothing measured is skipped with a note', async () => {
      const { calls, fetch } = capture(204);
      const run = loadRunFixture('daily-mixed');
      run.cases = run.cases.filter((c) => c.caseName !== 'timer');
      const reporter = createInfluxDbReporter({ url: 'http://127.0.0.1:8086', fetch });
      await reporter.onEnd?.(run);
      expect(reporter.outcome.state).to.equal('skipped');
      expect(calls).to.deep.equal([]);
    });
  });
});
