import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildTrexTrialCommand, buildTrexTrialSpec } from '../../../../lib/tools/trex/spec.ts';
import { resolveTrial } from '../../../../lib/traffic/trial.ts';
import type { TrialParams } from '../../../../lib/traffic/generator.ts';
import { buildTgenNode } from '../../../support/fake-node-session.ts';

const NODE = buildTgenNode([
  { name: 'mgmt' },
  { name: 'p0', pci: '0000:05:00.0', lineRateBps: 10e9 },
  { name: 'p1', pci: '0000:05:00.1', lineRateBps: 10e9 },
]);
const params = (over: Partial<TrialParams> = {}): TrialParams => ({
  frameSize: 64,
  rate: { percentLineRate: 100 },
  durationS: 10,
  flows: 4,
  direction: 'bidirectional',
  ports: { tx: 'p0', rx: 'p1' },
  ...over,
});
const names = NODE.ports.map((p) => p.name);

describe('tools/trex buildTrexTrialSpec', () => {
  it('splits each direction into load and a 1000 pps latency stream with distinct pg ids', () => {
    const spec = buildTrexTrialSpec(resolveTrial(params(), NODE), { nodePortNames: names, portIndex: { p0: 0, p1: 1 } });
    expect(spec).to.deep.include({ server: '127.0.0.1', sync_port: 4501, async_port: 4500, duration_s: 10, frame_size: 64, flows: 4, count_load: 'flow-stats', rx_delay_ms: 100 });
    const [fwd, rev] = spec.directions;
    expect(fwd).to.deep.include({ name: 'forward', tx_port: 0, rx_port: 1, latency_pps: 1000, load_pg_ids: [1], latency_pg_id: 10, src_ip: '16.0.0.1', dst_ip: '48.0.0.1' });
    expect(fwd!.load_pps + fwd!.latency_pps).to.be.closeTo(14_880_952.38, 0.01);
    expect(rev).to.deep.include({ name: 'reverse', tx_port: 1, rx_port: 0, load_pg_ids: [4], latency_pg_id: 11, src_ip: '48.0.0.1', dst_ip: '16.0.0.1' });
    expect(fwd).to.not.have.property('dst_mac');
  });

  it('gives IMIX three load pg ids, and drops the latency stream when asked', () => {
    const spec = buildTrexTrialSpec(resolveTrial(params({ frameSize: 'imix', direction: 'one-way', latencyStreamPps: 0 }), NODE), { nodePortNames: names, dstMac: { forward: '02:00:00:00:00:09' } });
    expect(spec.directions).to.have.length(1);
    expect(spec.directions[0]).to.deep.include({ load_pg_ids: [1, 2, 3], latency_pg_id: null, latency_pps: 0, dst_mac: '02:00:00:00:00:09' });
  });

  it('defaults a port index to its place in pod.yaml, and refuses a port TRex has no index for', () => {
    const spec = buildTrexTrialSpec(resolveTrial(params({ direction: 'one-way' }), NODE), { nodePortNames: names });
    expect([spec.directions[0]!.tx_port, spec.directions[0]!.rx_port]).to.deep.equal([1, 2]);
    let caught: unknown;
    try {
      buildTrexTrialSpec(resolveTrial(params(), NODE), { nodePortNames: ['p0'] });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as ConfigError).message).to.match(/portIndex\.p1: expected the TRex port index \(0-255\) of port p1, found none/);
  });
});

describe('tools/trex buildTrexTrialCommand', () => {
  it('passes the spec as one JSON argument and each API path', () => {
    const spec = buildTrexTrialSpec(resolveTrial(params({ direction: 'one-way' }), NODE), { nodePortNames: names });
    const cmd = buildTrexTrialCommand({ scriptPath: '/tmp/kfn-x/kfn-trex-trial.py', spec, apiPaths: ['/opt/trex/automation/trex_control_plane/interactive'] });
    expect(cmd.argv.slice(0, 3)).to.deep.equal(['python3', '/tmp/kfn-x/kfn-trex-trial.py', '--spec']);
    expect(JSON.parse(cmd.argv[3]!)).to.deep.equal(spec);
    expect(cmd.argv.slice(4)).to.deep.equal(['--api-path', '/opt/trex/automation/trex_control_plane/interactive']);
    expect(cmd.escapedCommand).to.match(/^python3 \/tmp\/kfn-x\/kfn-trex-trial\.py --spec '\{"server":"127\.0\.0\.1",/);
  });
});
