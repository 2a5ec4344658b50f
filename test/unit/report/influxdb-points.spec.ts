// The InfluxDB points of recorded result shapes: the trimmed results.json of a real lab
// ovs_dpdk_forwarding run and a device_interrupt case built from recorded agent outputs
// (test/fixtures/report/lab-ovs-dpdk.run.source.md).
import { expect } from 'chai';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildInfluxPoints, type InfluxPoint } from '../../../lib/report/influx-points.ts';
import { formatLineProtocol } from '../../../lib/report/influxdb.ts';
import { buildLabDeviceInterruptCase, loadLabOvsDpdkRun } from '../../fixtures/report/lab-runs.ts';
import { loadRunFixture, RUN_FIXTURES } from '../../fixtures/report/run-fixtures.ts';

type Throughput = Record<string, unknown> & { latency: Record<string, unknown> | null; lossAtRate: Record<string, unknown> | null; ndr: { isLowerBound: boolean } };
const throughputOf = (run: RunResult) => run.cases[0]!.details.throughput as Throughput[];
const LAB_TAGS = { pod: 'lab-kfn261c', scenario: 'scenario', installer: 'unknown', build: 'none' };
const REQUIRED_TAGS = ['pod', 'scenario', 'installer', 'build', 'node', 'load'];

function withDeviceInterrupt(load: string): RunResult {
  const run = loadLabOvsDpdkRun();
  run.cases.push(buildLabDeviceInterruptCase({ receiver: 'guest', generator: 'tgen', load, startedAt: '2026-11-25T17:57:00.000Z' }));
  return run;
}

const byCase = (points: InfluxPoint[], name: string) => points.filter((p) => p.tags.case === name);

describe('report/influxdb points of recorded results', () => {
  describe('forwarding (details.throughput of a real lab run)', () => {
    it('one point per frame size, on the forwarder node, idle, with the real figures (latency in us)', () => {
      const points = buildInfluxPoints(loadLabOvsDpdkRun());
      expect(points.map((p) => [p.measurement, p.tags.frame_size])).to.deep.equal([
        ['kvmfornfv_ovs_dpdk_forwarding', '64'],
        ['kvmfornfv_ovs_dpdk_forwarding', '1518'],
      ]);
      expect(points[0]?.tags).to.deep.equal({ ...LAB_TAGS, case: 'ovs_dpdk_forwarding', node: 'guest', role: 'guest', load: 'idle', frame_size: '64' });
      expect(points[0]?.fields).to.deep.equal({
        duration_s: 3,
        ndr_confirmed: true,
        ndr_pps: 31300,
        ndr_is_lower_bound: false,
        pdr_confirmed: true,
        pdr_pps: 39124,
        pdr_is_lower_bound: false,
        ceiling_pps: 500813.48725536634,
        generator_max_pps: 500813.48725536634,
        loss_at_rate_percent: 37.24433085068855,
        fixed_rate_per_direction_pps: 50081,
        samples: 84510n,
        overflows: 0n,
        max_is_lower_bound: false,
        min_us: 867.999,
        avg_us: 8719.585,
        max_us: 24167.078,
        p50_us: 8585.215,
        p99_us: 18481.151,
        p999_us: 23461.887,
        p9999_us: 24117.247,
        latency_rate_per_direction_pps: 14085,
        latency_loss_percent: 0,
      });
      expect(points[1]?.fields).to.include({ ndr_pps: 18394, pdr_pps: 18394, p99_us: 18612.223, max_us: 24698.6, latency_loss_percent: 1.234344166565986 });
      expect(points[0]?.timestampNs).to.equal(BigInt(Date.parse('2026-11-25T17:54:17.078Z')) * 1_000_000n);
    });

    it('without a node in the forwarder evidence, the last node of the path (bare metal, SR-IOV)', () => {
      const run = loadLabOvsDpdkRun();
      const details = run.cases[0]!.details as { forwarder: { node?: string }; topology: { nodes: string[] } };
      delete details.forwarder.node;
      details.topology.nodes = ['host'];
      expect(buildInfluxPoints(run).map((p) => [p.tags.node, p.tags.role])).to.deep.equal([
        ['host', 'host'],
        ['host', 'host'],
      ]);
      delete (run.cases[0]!.details as { topology?: unknown }).topology;
      expect(buildInfluxPoints(run).map((p) => p.tags.node)).to.deep.equal(['unknown', 'unknown']);
    });

    it('an unconfirmed NDR, an invalid fixed-rate trial and no latency leave those fields out and say so', () => {
      const run = loadLabOvsDpdkRun();
      const [first] = throughputOf(run);
      Object.assign(first!, { ndrPps: null, latency: null, lossAtRate: { ...first!.lossAtRate, valid: false } });
      const [point] = buildInfluxPoints(run);
      expect(point?.fields).to.include({ ndr_confirmed: false, pdr_confirmed: true, pdr_pps: 39124 });
      for (const gone of ['ndr_pps', 'ndr_is_lower_bound', 'loss_at_rate_percent', 'fixed_rate_per_direction_pps', 'p99_us', 'samples', 'latency_rate_per_direction_pps']) {
        expect(point?.fields).to.not.have.property(gone);
      }
      expect(formatLineProtocol([point!])).to.match(/ndr_confirmed=false/);
    });

    it('a latency trial the generator could not drive is not plotted', () => {
      const run = loadLabOvsDpdkRun();
      Object.assign(throughputOf(run)[0]!.latency!, { valid: false, invalidReasons: ['forward: sent 40 % of the requested rate'] });
      const [point, other] = buildInfluxPoints(run);
      for (const gone of ['p99_us', 'max_us', 'samples', 'latency_rate_per_direction_pps']) expect(point?.fields).to.not.have.property(gone);
      expect(point?.fields).to.include({ ndr_pps: 31300 });
      expect(other?.fields).to.have.property('p99_us');
    });

    it('an NDR that is only a lower bound says so', () => {
      const run = loadLabOvsDpdkRun();
      throughputOf(run)[1]!.ndr.isLowerBound = true;
      expect(buildInfluxPoints(run).map((p) => p.fields.ndr_is_lower_bound)).to.deep.equal([false, true]);
    });

    it('imix is a frame size; an entry without one is left out', () => {
      const run = loadLabOvsDpdkRun();
      throughputOf(run)[0]!.frameSize = 'imix';
      delete throughputOf(run)[1]!.frameSize;
      expect(buildInfluxPoints(run).map((p) => p.tags.frame_size)).to.deep.equal(['imix']);
    });
  });

  describe('device_interrupt (recorded kfn-irqgen/kfn-irqrecv outputs)', () => {
    it('receiver figures on the receiver, the pacing error on the generator, all under the case load', () => {
      const points = byCase(buildInfluxPoints(withDeviceInterrupt('cpu on host cpus 0')), 'device_interrupt');
      expect(points.map((p) => [p.measurement, p.tags.series, p.tags.node, p.tags.role, p.tags.load])).to.deep.equal([
        ['kvmfornfv_device_interrupt', 'guest.wire_to_handler.summary', 'guest', 'guest', 'cpustress'],
        ['kvmfornfv_device_interrupt', 'guest.receive_to_handler.summary', 'guest', 'guest', 'cpustress'],
        ['kvmfornfv_device_interrupt', 'guest.pacing_error.summary', 'tgen', 'tgen', 'cpustress'],
      ]);
      expect(points[0]?.tags).to.include({ ...LAB_TAGS, case: 'device_interrupt' });
      expect(points[0]?.fields).to.include({ samples: 1998n, min_us: 5.766, avg_us: 44.433, max_us: 342.248, p99_us: 243.711, negatives: 0 });
      expect(points[2]?.fields).to.include({ overruns: 0, p99_us: 40.191 });
      expect(points[0]?.fields).to.not.have.property('p99_ns');
    });

    it('an idle run is idle; a case that recorded no load is unknown, not idle', () => {
      expect(byCase(buildInfluxPoints(withDeviceInterrupt('idle')), 'device_interrupt').map((p) => p.tags.load)).to.deep.equal(['idle', 'idle', 'idle']);
      const run = withDeviceInterrupt('idle');
      delete (run.cases[1]!.details.guest as { load?: string }).load;
      expect(byCase(buildInfluxPoints(run), 'device_interrupt').map((p) => p.tags.load)).to.deep.equal(['unknown', 'unknown', 'unknown']);
    });
  });

  it('every point of every case carries pod, scenario, installer, build, node and load, none empty', () => {
    const runs = [...RUN_FIXTURES.map((name) => loadRunFixture(name)), withDeviceInterrupt('io on host cpus 0')];
    const blank = loadLabOvsDpdkRun();
    blank.environment = { ...blank.environment, deployScenario: '', installerType: ' ', buildTag: '' };
    runs.push(blank);
    const points = runs.flatMap(buildInfluxPoints);
    expect(new Set(points.map((p) => p.tags.case))).to.have.keys('timer', 'ovs_dpdk_forwarding', 'device_interrupt');
    for (const p of points) {
      for (const tag of REQUIRED_TAGS) expect(p.tags[tag], `${p.measurement} ${p.tags.series ?? p.tags.frame_size ?? p.tags.node}: ${tag}`).to.be.a('string').and.not.match(/^\s*$/);
    }
    expect(buildInfluxPoints(blank)[0]?.tags).to.include({ scenario: 'unknown', installer: 'unknown', build: 'unknown' });
  });
});
