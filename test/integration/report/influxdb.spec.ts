// Pushes points built from the RunResult fixtures to a private influxd (Debian 12 package
// influxdb 1.6, started by test/support/influxd.ts) and reads them back with InfluxQL.
import { expect } from 'chai';
import { PushError } from '../../../lib/errors.ts';
import { buildInfluxPoints, type InfluxPoint } from '../../../lib/report/influx-points.ts';
import { createInfluxDbReporter, pushToInfluxDb, resolveInfluxTarget } from '../../../lib/report/influxdb.ts';
import { buildLabDeviceInterruptCase, loadLabOvsDpdkRun } from '../../fixtures/report/lab-runs.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';
import { findInfluxd, freeLoopbackPort, startPrivateInfluxd, type InfluxQueryAnswer, type PrivateInfluxd } from '../../support/influxd.ts';

type Row = Record<string, unknown>;

function rowsOf(answer: InfluxQueryAnswer): Row[] {
  const result = answer.results[0];
  if (answer.error || result?.error) throw new Error(`query failed: ${answer.error ?? result?.error}`);
  return (result?.series ?? []).flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
}

// One entry per series of a GROUP BY answer: its tags and its rows.
function seriesOf(answer: InfluxQueryAnswer): { tags: Record<string, string>; rows: Row[] }[] {
  const result = answer.results[0];
  if (answer.error || result?.error) throw new Error(`query failed: ${answer.error ?? result?.error}`);
  return (result?.series ?? []).map((s) => ({ tags: s.tags ?? {}, rows: s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))) }));
}

describe('report/influxdb against influxd 1.6', function () {
  this.timeout(60_000);
  let influx: PrivateInfluxd;

  before(async function () {
    if (!findInfluxd()) {
      if (process.env.CI) throw new Error('influxd is not installed: the CI must install the Debian package influxdb');
      this.skip();
    }
    influx = await startPrivateInfluxd();
    rowsOf(await influx.query('CREATE DATABASE kvmfornfv'));
  });

  after(async () => {
    await influx?.stop();
  });

  it('writes the timer points of a failed daily run, read back with their tags and types', async () => {
    const run = loadRunFixture('daily-mixed');
    const reporter = createInfluxDbReporter({ url: `${influx.baseUrl}/write?db=kvmfornfv` });
    await reporter.onEnd?.(run);
    expect(reporter.outcome.failures.map((f) => f.message)).to.deep.equal([]);
    expect(reporter.outcome).to.include({ state: 'pushed', accepted: 1 });

    const rows = rowsOf(await influx.query('SELECT * FROM kvmfornfv_cyclictest_cpustress_idle', 'kvmfornfv'));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({
      time: Date.parse('2026-03-13T02:00:03.000Z'),
      pod: 'intel-pod10',
      scenario: 'os-nosdn-kvm_ovs_dpdk-ha',
      installer: 'fuel',
      build: 'jenkins-kvmfornfv-daily-master-intel-pod10-215',
      node: 'vnf-guest',
      role: 'guest',
      load: 'cpustress',
      case: 'timer',
      max_us: 1312,
      avg_us: 3.75,
      p99_us: 6,
      samples: 3600000,
      overflows: 0,
      max_is_lower_bound: false,
    });
    const types = Object.fromEntries(rowsOf(await influx.query('SHOW FIELD KEYS FROM kvmfornfv_cyclictest_cpustress_idle', 'kvmfornfv')).map((r) => [r.fieldKey, r.fieldType]));
    expect(types).to.include({ samples: 'integer', overflows: 'integer', max_us: 'float', avg_us: 'float', max_is_lower_bound: 'boolean' });
  });

  it('keeps host and guest of one run apart by the node tag', async () => {
    await pushToInfluxDb(buildInfluxPoints(loadRunFixture('lab-timer-pass')), resolveInfluxTarget(influx.baseUrl));
    const rows = rowsOf(await influx.query(`SELECT max_us, p99_us FROM kvmfornfv_cyclictest_idle_idle WHERE pod = 'kfn-lab' GROUP BY node`, 'kvmfornfv'));
    const byNode = rowsOf(await influx.query(`SELECT max_us FROM kvmfornfv_cyclictest_idle_idle WHERE node = 'guest'`, 'kvmfornfv'));
    expect(rows).to.have.length(2);
    expect(byNode.map((r) => r.max_us)).to.deep.equal([3311]);
  });

  it('writes one point per frame size for a forwarding case', async () => {
    await pushToInfluxDb(buildInfluxPoints(loadRunFixture('forwarding-frames')), resolveInfluxTarget(`${influx.baseUrl}/?db=kvmfornfv`));
    const rows = rowsOf(await influx.query('SELECT frame_size, rx_mpps, p99_us FROM kvmfornfv_ovs_dpdk_forwarding ORDER BY time', 'kvmfornfv'));
    expect(rows.map((r) => [r.frame_size, r.rx_mpps, r.p99_us]).sort()).to.deep.equal([
      ['1518', 0.81, 45],
      ['64', 7.41, 34],
    ]);
  });

  it('a recorded lab forwarding run and device_interrupt runs under two loads, read back grouped by node and load', async () => {
    const run = loadLabOvsDpdkRun();
    run.cases.push(buildLabDeviceInterruptCase({ receiver: 'guest', generator: 'tgen', load: 'idle', startedAt: '2026-11-25T17:57:00.000Z' }));
    const reporter = createInfluxDbReporter({ url: `${influx.baseUrl}/write?db=kvmfornfv` });
    await reporter.onEnd?.(run);
    expect(reporter.outcome.failures.map((f) => f.message)).to.deep.equal([]);
    expect(reporter.outcome).to.include({ state: 'pushed', accepted: 5 });
    const loaded = loadLabOvsDpdkRun();
    loaded.cases = [buildLabDeviceInterruptCase({ receiver: 'guest', generator: 'tgen', load: 'cpu on host cpus 0', startedAt: '2026-11-25T18:10:00.000Z' })];
    await pushToInfluxDb(buildInfluxPoints(loaded), resolveInfluxTarget(influx.baseUrl));

    const forwarding = seriesOf(
      await influx.query(`SELECT ndr_pps, pdr_pps, p99_us, max_us, samples FROM kvmfornfv_ovs_dpdk_forwarding WHERE pod = 'lab-kfn261c' GROUP BY node, load, frame_size`, 'kvmfornfv'),
    );
    const byFrame = (a: { tags: Record<string, string> }, b: { tags: Record<string, string> }) => Number(a.tags.frame_size) - Number(b.tags.frame_size);
    expect(forwarding.sort(byFrame).map((s) => [s.tags, s.rows.map((r) => [r.ndr_pps, r.pdr_pps, r.p99_us, r.max_us, r.samples])])).to.deep.equal([
      [{ node: 'guest', load: 'idle', frame_size: '64' }, [[31300, 39124, 18481.151, 24167.078, 84510]]],
      [{ node: 'guest', load: 'idle', frame_size: '1518' }, [[18394, 18394, 18612.223, 24698.6, 49049]]],
    ]);
    const fwdTags = rowsOf(await influx.query(`SELECT * FROM kvmfornfv_ovs_dpdk_forwarding WHERE pod = 'lab-kfn261c' AND frame_size = '64'`, 'kvmfornfv'));
    expect(fwdTags[0]).to.include({ time: Date.parse('2026-11-25T17:54:17.078Z'), scenario: 'scenario', installer: 'unknown', build: 'none', role: 'guest', case: 'ovs_dpdk_forwarding' });
    const types = Object.fromEntries(rowsOf(await influx.query('SHOW FIELD KEYS FROM kvmfornfv_ovs_dpdk_forwarding', 'kvmfornfv')).map((r) => [r.fieldKey, r.fieldType]));
    expect(types).to.include({ ndr_pps: 'float', ndr_confirmed: 'boolean', ndr_is_lower_bound: 'boolean', p99_us: 'float', samples: 'integer' });

    const interrupts = seriesOf(await influx.query(`SELECT count(p99_us) AS points, max(p99_us) AS p99_us FROM kvmfornfv_device_interrupt WHERE pod = 'lab-kfn261c' GROUP BY node, load`, 'kvmfornfv'));
    expect(interrupts.map((s) => [s.tags.node, s.tags.load, s.rows[0]?.points, s.rows[0]?.p99_us]).sort()).to.deep.equal([
      ['guest', 'cpustress', 2, 243.711],
      ['guest', 'idle', 2, 243.711],
      ['tgen', 'cpustress', 1, 40.191],
      ['tgen', 'idle', 1, 40.191],
    ]);
  });

  it('escapes awkward tag values and string fields so they read back unchanged', async () => {
    const awkward = 'os nosdn,kvm=ha "x" \\ end';
    const text = 'say "hi", a=b \\o/';
    const points: InfluxPoint[] = [{ measurement: 'kvmfornfv escape,test', tags: { scenario: awkward, 'odd key': 'v' }, fields: { note: text, 'max us': 1.5 }, timestampNs: 1_700_000_000_000_000_000n }];
    await pushToInfluxDb(points, resolveInfluxTarget(influx.baseUrl));
    const rows = rowsOf(await influx.query('SELECT * FROM "kvmfornfv escape,test"', 'kvmfornfv'));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ scenario: awkward, 'odd key': 'v', note: text, 'max us': 1.5, time: 1_700_000_000_000 });
  });

  it('a field type conflict is a 400 → rejected, with the server text', async () => {
    // Types are fixed per shard, so the point must fall in the week of the integer one above.
    const beside = BigInt(Date.parse('2026-03-13T02:00:04.000Z')) * 1_000_000n;
    const conflicting: InfluxPoint = { measurement: 'kvmfornfv_cyclictest_cpustress_idle', tags: { node: 'x' }, fields: { samples: 1.5 }, timestampNs: beside };
    const error = await pushToInfluxDb([conflicting], resolveInfluxTarget(influx.baseUrl)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(PushError);
    expect((error as PushError).reason).to.equal('rejected');
    expect((error as PushError).message).to.match(/HTTP 400.*conflict/);
  });

  it('an unknown database is named in the error', async () => {
    const error = await pushToInfluxDb(buildInfluxPoints(loadRunFixture('lab-timer-pass')), resolveInfluxTarget(`${influx.baseUrl}/write?db=nope`)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as PushError).reason).to.equal('rejected');
    expect((error as PushError).message).to.match(/database nope not found/);
  });

  it('a server that is down → PushError unreachable', async () => {
    const port = await freeLoopbackPort();
    const error = await pushToInfluxDb(buildInfluxPoints(loadRunFixture('lab-timer-pass')), resolveInfluxTarget(`http://127.0.0.1:${port}`)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as PushError).reason).to.equal('unreachable');
    expect((error as PushError).message).to.match(/connection refused/);
  });

  it('without INFLUXDB_URL nothing is pushed and a note says so', async () => {
    const reporter = createInfluxDbReporter({ url: '' });
    await reporter.onEnd?.(loadRunFixture('lab-timer-pass'));
    expect(reporter.outcome).to.include({ state: 'skipped' });
    expect(reporter.outcome.notes).to.deep.equal(['INFLUXDB_URL is not set: InfluxDB push skipped']);
    expect(reporter.outcome.failures).to.deep.equal([]);
  });
});
