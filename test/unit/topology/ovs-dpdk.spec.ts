import { expect } from 'chai';
import { MeasurementError, TopologyError } from '../../../lib/errors.ts';
import { createOvsDpdkTopology } from '../../../lib/topology/ovs-dpdk.ts';
import { buildForwardingContext, buildLabPod } from '../cases/forwarding-fakes.ts';
import { args, fakes, names, PORTS } from './ovs-fakes.ts';

function setupLab(over: Record<string, unknown> = {}, o: Parameters<typeof fakes>[1] = {}) {
  const pod = buildLabPod();
  let size = () => 0;
  const f = fakes(pod, { ...o, cleanupSize: () => size() });
  const ctx = buildForwardingContext({ pod, sessions: { host: f.host, guest: f.guest } });
  size = () => ctx.cleanup.size;
  const topology = createOvsDpdkTopology(args(over));
  return { pod, ctx, topology, ...f };
}

describe('topology/ovs-dpdk on the lab pod (own OVS, VNF on virtio_user)', () => {
  it('builds the PVP path with every undo registered before its change, and undoes all of it in reverse', async () => {
    const { ctx, topology, host, guest, log } = setupLab();
    const path = await topology.setup(ctx);
    expect(path.topology).to.equal('ovs-dpdk');
    expect(path.ports).to.deep.equal({ tx: 't0', rx: 't1' });
    expect(path.nodes.map((n) => n.name)).to.deep.equal(['host', 'guest']);
    expect(path.description).to.equal('tgen:t0 → host:h0 → OVS-DPDK → vhost-user → guest testpmd (io, virtio_user) → vhost-user → OVS-DPDK → host:h1 → tgen:t1');
    // [n] is the number of undo steps registered when the change ran: it grows before each change.
    expect(log).to.deep.equal([
      'reserve hugepages [2]',
      'start ovsdb-server [3]',
      'start ovs-vswitchd [3]',
      'add bridge [4]',
      ...Array(5).fill('add flow [4]'),
      'start VNF [6]',
      'clear PMD stats [6]',
    ]);
    const hostCommands = host.callsOf('exec').map((c) => c.command);
    expect(hostCommands.some((c) => c.includes('other_config:pmd-cpu-mask=0x2') && c.includes('other_config:dpdk-lcore-mask=0x1') && c.includes('--no-wait'))).to.equal(true);
    expect(hostCommands.filter((c) => c.includes(' add-port ')).map((c) => c.split(' ')[5])).to.deep.equal([names.physical[0], names.vhost[0], names.vhost[1], names.physical[1]]);
    expect(hostCommands.some((c) => c.includes('options:dpdk-devargs="net_af_packet0,iface=h0"'))).to.equal(true);
    const vnf = guest.callsOf('start')[0]!.command;
    expect(vnf).to.include(`--vdev=virtio_user0,path=/tmp/kfn-test-run/ovs/vhu0.sock,server=1,queues=1`);
    expect(vnf).to.include('--in-memory --socket-mem=256 --single-file-segments');
    expect(ctx.tools).to.deep.include(['host', 'ovs-vswitchd', '3.1.0']);

    log.length = 0;
    const reports = await ctx.cleanup.unwind();
    expect(reports.filter((r) => !r.ok)).to.deep.equal([]);
    expect(guest.callsOf('stop').map((s) => s.signal)).to.deep.equal(['INT']);
    expect(log.map((l) => l.replace(/ \[\d+\]$/, ''))).to.deep.equal(['remove VNF runtime dir', 'delete bridge', 'stop private OVS', 'restore hugepages', 'restore links']);
  });

  it('undoes what it did when a step fails halfway: a port OVS cannot open', async () => {
    const bad = PORTS.replace('error               : []\n', 'error               : "could not open network device kfn (No such device)"\n');
    const { ctx, topology, log } = setupLab({}, { host: (c) => (c.includes('--columns=name,ofport,error list Interface') ? { stdout: bad } : undefined) });
    const error = await topology.setup(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TopologyError);
    expect((error as Error).message).to.match(/could not open port .*p0 \(net_af_packet0,iface=h0\): could not open network device/);
    expect(log.some((l) => l.startsWith('start VNF'))).to.equal(false);
    log.length = 0;
    await ctx.cleanup.unwind();
    expect(log.map((l) => l.replace(/ \[\d+\]$/, ''))).to.deep.equal(['delete bridge', 'stop private OVS', 'restore hugepages', 'restore links']);
  });

  it('keeps PMD statistics, flows and port counters, and counts frames by the flows from the VNF', async () => {
    const { ctx, topology, host } = setupLab();
    await topology.setup(ctx);
    await topology.collectEvidence!(ctx);
    expect([...ctx.raws.keys()]).to.include.members(['ovs/pmd-stats-show.txt', 'ovs/pmd-rxq-show.txt', 'ovs/dump-flows.txt', 'ovs/interfaces.txt', 'guest/vnf-testpmd.stdout']);
    // The port counters come from OVSDB, which lags the datapath by one stats interval (5 s unset): read after it.
    const countersRead = host.callsOf('exec').map((c) => c.command).find((c) => c.includes('--columns=name,ofport,statistics list Interface'));
    expect(countersRead).to.match(/^sleep 6\.0; exec ovs-vsctl /);
    // in_port=2 (vhost0) goes back toward t0, in_port=3 (vhost1) toward t1: 0 and 969 frames recorded.
    const counts = topology.forwarderCounts!()!;
    expect(counts.txTowardTgenPort).to.deep.equal({ t0: 0, t1: 969 });
    expect(counts.source).to.equal('OVS flow counters of the frames coming back from the VNF');
    // Each direction's counting points in path order; this fixture's OVS ports carry other names, so only the VNF's are here.
    expect(counts.stages?.map((d) => `${d.txPort}>${d.rxPort}`)).to.deep.equal(['t0>t1', 't1>t0']);
    expect(counts.stages?.[0]?.stages.map((s) => s.point)).to.deep.equal(['VNF vnf port 0 rx', 'VNF vnf port 1 tx']);
    const ovs = ctx.details.ovs as { pmd: Array<{ packetsReceived: number }>; portDrops: Record<string, Record<string, number>> };
    expect(ovs.pmd[0]?.packetsReceived).to.equal(17205);
    expect(ovs.portDrops.vhu0?.ovs_tx_failure_drops).to.equal(10361);
    expect((ctx.details.forwarder as { role: string }).role).to.equal('VNF');
  });

  it('refuses the figures when the VNF died during the case', async () => {
    const { ctx, topology } = setupLab({}, { vnfRunning: false });
    await topology.setup(ctx);
    const error = await topology.collectEvidence!(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/had stopped before the end/);
  });

  it('refuses the figures when the flows from the VNF are gone', async () => {
    let setupDone = false;
    const { ctx, topology } = setupLab({}, { host: (c) => (setupDone && c.includes(' dump-flows ') ? { stdout: 'NXST_FLOW reply (xid=0x4):\n' } : undefined) });
    await topology.setup(ctx);
    setupDone = true;
    const error = await topology.collectEvidence!(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/flows from the vhost-user ports are missing/);
  });

  it('fails with the reason when the vhost-user ports never come up', async function () {
    this.timeout(40_000);
    const { ctx, topology } = setupLab({}, { host: (c) => (c.includes('--columns=link_state') ? { stdout: 'link_state          : down\n\nlink_state          : up\n' } : undefined) });
    const controller = new AbortController();
    Object.assign(ctx, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const error = await topology.setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/did not come up within 30 s \(link_state down, up\): the VNF did not connect/);
  });
});

describe('topology/ovs-dpdk with the pod\'s own OVS', () => {
  it('only adds its own bridge, and restores exactly the other_config keys it set', async () => {
    const found = '{dpdk-init="true", pmd-cpu-mask="0xc", vhost-iommu-support="true"}\n';
    const { ctx, topology, host } = setupLab(
      { ovs: 'existing', ovs_options: { set_pmd_cpu_mask: true, pmd_cpus: [1] } },
      { host: (c) => (c.endsWith('get Open_vSwitch . dpdk_initialized iface_types') ? { stdout: 'true\n[dpdk, dpdkvhostuserclient, internal]\n' } : c.endsWith('get Open_vSwitch . other_config') ? { stdout: found } : undefined) },
    );
    await topology.setup(ctx);
    const commands = host.callsOf('exec').map((c) => c.command);
    expect(commands.some((c) => /ovsdb-server|OVS_RUNDIR|ovsdb-tool/.test(c))).to.equal(false);
    expect(commands.some((c) => c.startsWith('ovs-vsctl --timeout=30 add-br kfn-br-'))).to.equal(true);
    expect(commands).to.include('ovs-vsctl --timeout=30 set Open_vSwitch . other_config:pmd-cpu-mask=0x2');
    // Only our bridge, flows on it and our own ports: nothing names another bridge.
    expect(commands.filter((c) => / (add-br|del-br|add-port|del-port|add-flow|del-flows) /.test(c)).every((c) => c.includes(names.bridge))).to.equal(true);
    await ctx.cleanup.unwind();
    const after = host.callsOf('exec').map((c) => c.command).slice(commands.length);
    expect(after).to.include('ovs-vsctl --timeout=30 set Open_vSwitch . other_config:pmd-cpu-mask=0xc');
    expect(after).to.include(`ovs-vsctl --timeout=30 --if-exists del-br ${names.bridge}`);
    expect(after.some((c) => c.includes('remove Open_vSwitch'))).to.equal(false);
  });

  it('leaves a bridge of the same name alone and stops', async () => {
    const { ctx, topology, host } = setupLab({ ovs: 'existing' }, {
      host: (c) => (c.includes(' br-exists ') ? { exitCode: 0 } : c.endsWith('dpdk_initialized iface_types') ? { stdout: 'true\n[dpdkvhostuserclient]\n' } : undefined),
    });
    const error = await topology.setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/already exists .* left alone/);
    await ctx.cleanup.unwind();
    expect(host.callsOf('exec').some((c) => / (add-br|del-br) /.test(c.command))).to.equal(false);
  });

  it('refuses an OVS without DPDK before changing anything in it', async () => {
    const { ctx, topology, host } = setupLab({ ovs: 'existing' }, { host: (c) => (c.endsWith('dpdk_initialized iface_types') ? { stdout: 'false\n[internal, system]\n' } : undefined) });
    const error = await topology.setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/has no DPDK datapath/);
    expect(host.callsOf('exec').some((c) => / (add-br|set Open_vSwitch) /.test(c.command))).to.equal(false);
  });
});

describe('topology/ovs-dpdk on a real pod', () => {
  it('asks for the guest devices and the QEMU sockets before touching a node', async () => {
    const pod = { ...buildLabPod(), lab: false };
    const f = fakes(pod);
    const ctx = buildForwardingContext({ pod, sessions: { host: f.host, guest: f.guest } });
    const error = await createOvsDpdkTopology(args()).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/vnf\.pci.*vnf\.vhost_sockets/);
    expect(f.host.calls).to.deep.equal([]);
  });

  it('rejects a typo in its run.args with the key path', () => {
    expect(() => args({ ovs: 'theirs' })).to.throw(/ovs_dpdk_forwarding\.run\.args\.ovs/);
    expect(() => args({ vnf: { pci: ['00:05.0', '0000:00:06.0'] } })).to.throw(/vnf\.pci/);
  });
});
