// The PVP path's counting points from OVS's recorded port counters (OVS 3.1.0, DPDK 22.11.11,
// test/fixtures/ovs/list-interface-columns.source.md), and where the VNF of the path runs.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import type { GuestLaunchRecord } from '../../../lib/results/model.ts';
import { summarizePortCounts, type PvpPlan } from '../../../lib/tools/ovs/pvp-plan.ts';
import { parseVsctlRecords } from '../../../lib/tools/ovs/value.ts';
import { buildPvpStages, placePvpVnf } from '../../../lib/topology/ovs-dpdk-vnf.ts';
import { buildFakeNode } from '../../support/fake-node-session.ts';

const interfaces = parseVsctlRecords(readFileSync(new URL('../../fixtures/ovs/list-interface-columns.txt', import.meta.url), 'utf8'));
// The fixture's ports were named p0, vhu0, vhu1, p1 (ofports 1-4, as a PVP plan numbers them).
const plan = { names: { physical: ['p0', 'p1'], vhost: ['vhu0', 'vhu1'] } } as unknown as PvpPlan;

describe('topology/ovs-dpdk-vnf buildPvpStages', () => {
  it('reads OVS\'s per-port counters, totals only, and leaves out a record without frame counts', () => {
    const ports = summarizePortCounts(interfaces);
    expect(ports.vhu0).to.deep.equal({ rxPackets: 769, txPackets: 1282, rxDropped: 0, txDropped: 10361 });
    expect(ports.p0).to.deep.include({ rxPackets: 11645, txPackets: 771 });
    expect(summarizePortCounts([{ name: '"x"', statistics: '{rx_bytes=0}' }])).to.deep.equal({});
  });

  it('lines up each direction: OVS in, OVS to the VNF, the VNF\'s two ports, OVS from the VNF, OVS out', () => {
    const vnf = { source: 'testpmd', ports: [{ port: 'v0', rx: 1282, tx: 769, rxDropped: 0, txDropped: 0 }, { port: 'v1', rx: 769, tx: 1282, rxDropped: 0, txDropped: 0 }] };
    const stages = buildPvpStages({ plan, ovs: summarizePortCounts(interfaces), vnf, vnfPorts: ['v0', 'v1'], tgenPorts: { tx: 't0', rx: 't1' } });
    expect(stages[0]).to.deep.equal({
      txPort: 't0',
      rxPort: 't1',
      stages: [
        { point: 'OVS p0 rx (from the generator)', frames: 11645 },
        { point: 'OVS vhu0 tx (to the VNF)', frames: 1282 },
        { point: 'VNF v0 rx', frames: 1282 },
        { point: 'VNF v1 tx', frames: 1282 },
        { point: 'OVS vhu1 rx (from the VNF)', frames: 1282 },
        { point: 'OVS p1 tx (to the generator)', frames: 1284 },
      ],
    });
    expect(stages[1]?.stages.map((s) => s.frames)).to.deep.equal([3515, 769, 769, 769, 769, 771]);
  });

  it('keeps the VNF out when it could not be read, rather than counting zero', () => {
    const stages = buildPvpStages({ plan, ovs: summarizePortCounts(interfaces), vnf: undefined, vnfPorts: ['v0', 'v1'], tgenPorts: { tx: 't0', rx: 't1' } });
    expect(stages[0]?.stages.map((s) => s.point)).to.not.include('VNF v0 rx');
  });
});

describe('topology/ovs-dpdk-vnf placePvpVnf', () => {
  const guest = buildFakeNode({ name: 'guest', role: 'guest', declaredRole: 'vnf', ports: [] });
  const record = (nics: GuestLaunchRecord['nics']) => ({ nics, nicOptions: {}, accelerator: 'tcg' }) as unknown as GuestLaunchRecord;
  const vhost = (port: string, slot: number) => ({ port, kind: 'vhost-user' as const, guestPci: `0000:00:${slot.toString(16)}.0`, vhostSocket: `/tmp/kfn-r/guest-guest/${port}.sock` });
  const ctx = (lab: boolean, launched?: GuestLaunchRecord) => ({ pod: { lab } as never, launch: (n: PodNode) => (n === guest ? launched : undefined) });

  it('puts the VNF in a launched guest on its vhost-user NICs, in guest PCI order, and OVS on their sockets', () => {
    const place = placePvpVnf(ctx(true, record([vhost('v1', 0x14), vhost('v0', 0x13)])), guest, { socket_mem_mb: 256, mbufs: 8192, stats_period_s: 5, hugepages: { size_kb: 2048, pages: 128, mount: '/dev/hugepages' } });
    expect(place.kind).to.equal('launched');
    expect(place.kind === 'launched' && place.vhostSockets).to.deep.equal(['/tmp/kfn-r/guest-guest/v0.sock', '/tmp/kfn-r/guest-guest/v1.sock']);
  });

  it('refuses a launched guest without two vhost-user NICs, and a real pod without a guest for the VNF', () => {
    const args = { socket_mem_mb: 256, mbufs: 8192, stats_period_s: 5, hugepages: { size_kb: 2048, pages: 128, mount: '/dev/hugepages' } };
    expect(() => placePvpVnf(ctx(true, record([vhost('v0', 0x13)])), guest, args)).to.throw(/two vhost-user NICs .* has 1/);
    expect(() => placePvpVnf(ctx(false), guest, args)).to.throw(/on a real pod the VNF runs in a guest/);
    expect(placePvpVnf(ctx(true), guest, args).kind).to.equal('namespace');
  });
});
