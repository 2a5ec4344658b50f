import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import { buildPod } from '../../../lib/config/pod.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { ConfigError, TopologyError } from '../../../lib/errors.ts';
import { createSriovTopology, sriovArgsShape } from '../../../lib/topology/sriov.ts';
import { buildForwardingContext, buildLabPod } from '../cases/forwarding-fakes.ts';
import { FakeNodeSession } from '../../support/fake-node-session.ts';

const sriovFixture = (name: string) => readFileSync(new URL(`../../fixtures/sriov/${name}`, import.meta.url), 'utf8');
const testpmdFixture = (name: string) => readFileSync(new URL(`../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');
const topoFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const args = (over: Record<string, unknown> = {}) => parseForwardingArgs(over, { caseName: 'sriov_forwarding', extra: sriovArgsShape });
const podSriov = (): Pod => buildPod(load(sriovFixture('pod-sriov.yaml')), { file: 'pod.yaml', env: {} });
const EXISTING = { vfs: 'existing', ports: [{ pf: 'xe0', vf: 0, vlan: 100 }, { pf: 'xe0', vf: 1 }] };
const PROBE_NO_VFS = 'pf_pci=0000:3b:00.0\npf_driver=i40e\ntotalvfs=64\nnumvfs=0\n';
const LINK_NO_VFS = sriovFixture('ip-d-link-show-no-vfs.txt').replaceAll('ens1f1', 'ens1f0');

/** A VNF node that runs testpmd: af_packet links on the lab, PCI devices on a pod. */
function vnfSession(pod: Pod, name: string, log: string[]) {
  const node = pod.nodes.find((n) => n.name === name)!;
  const links = topoFixture('ip-link-restored.json').replaceAll('"kbh0"', '"g0"').replaceAll('"kbh1"', '"g1"');
  return new FakeNodeSession(node, {
    exec: (command) => {
      if (command === 'command -v dpdk-testpmd') return { stdout: '/usr/bin/dpdk-testpmd\n' };
      if (command === 'ip -j link show') return { stdout: links };
      if (command.includes('kfn-testpmd-ready')) return { stdout: 'kfn-testpmd-ready\n' };
      if (command.startsWith('cat ')) return { stdout: testpmdFixture('io-bidir-64.stderr') };
      if (command.startsWith('for d in /sys/kernel/mm/hugepages')) return { stdout: topoFixture('hugepages-idle.txt') };
      if (command.includes('printf \'pci %s')) return { stdout: 'pci 0000:00:05.0 iavf (null) eth1\npci 0000:00:06.0 iavf (null) eth2\nloaded\n' };
      if (command.includes('/driver_override')) log.push(`${name}: bind ${command.includes('drivers_probe || true') ? 'vfio-pci' : 'restore'}`);
      return {};
    },
    start: () => void log.push(`${name}: start testpmd`),
    running: () => true,
    outcome: () => ({ stdout: testpmdFixture('io-bidir-64.stdout'), stderr: '', exitCode: 0 }),
  });
}

/** The host with the PF: its sysfs probe and `ip -d link show` answer from the fixtures. */
function hostSession(pod: Pod, log: string[], o: { probes?: string[]; links?: string[] } = {}) {
  const probes = [...(o.probes ?? [sriovFixture('sysfs-i40e-2vfs.probe.txt')])];
  const links = [...(o.links ?? [sriovFixture('ip-d-link-show-i40e-2vfs.txt')])];
  const next = (list: string[]) => (list.length > 1 ? list.shift()! : list[0]!);
  return new FakeNodeSession(pod.nodes.find((n) => n.name === 'host1')!, {
    exec: (command) => {
      if (command.startsWith('set -u\ndev=')) return { stdout: next(probes) };
      if (command === 'ip -d link show dev ens1f0') return { stdout: next(links) };
      if (command.startsWith('ip link set dev ens1f0 vf')) log.push(`host: ${command}`);
      if (command.startsWith('cur=$(cat')) log.push(`host: numvfs ${/echo (\d+) > /.exec(command.split('\n').slice(-2).join('\n'))?.[1] ?? '0'}`);
      if (command.includes('printf \'pci %s')) return { stdout: 'pci 0000:3b:02.0 iavf (null) -\npci 0000:3b:02.1 iavf (null) -\nloaded\n' };
      if (command.includes('/driver_override')) log.push(`host: bind ${command.includes('drivers_probe || true') ? 'vfio-pci' : 'restore'}`);
      if (command.startsWith('virsh attach-device')) log.push(`host: ${command}`);
      if (command.includes('virsh detach-device')) log.push('host: detach');
      return {};
    },
  });
}

describe('topology/sriov on the lab pod (guest namespace owns g0/g1)', () => {
  it('runs the VNF in the guest on g0/g1, facing the generator\'s t2/t3, and undoes it', async () => {
    const pod = buildLabPod();
    const log: string[] = [];
    const guest = vnfSession(pod, 'guest', log);
    const ctx = buildForwardingContext({ pod, sessions: { guest } });
    const topology = createSriovTopology(args({ forward_mode: 'macswap' }));
    const path = await topology.setup(ctx);
    expect(path.topology).to.equal('sriov');
    expect(path.ports).to.deep.equal({ tx: 't2', rx: 't3' });
    expect(path.nodes.map((n) => n.name)).to.deep.equal(['guest']);
    expect(path.description).to.equal('tgen:t2 → guest:g0 → testpmd (macswap, af_packet) → guest:g1 → tgen:t3 (the guest namespace owns the data links (lab passthrough analogue))');
    const start = guest.callsOf('start')[0]!.command;
    expect(start).to.include('--vdev=net_af_packet0,iface=g0 --vdev=net_af_packet1,iface=g1 -- --forward-mode=macswap');
    await topology.collectEvidence!(ctx);
    expect(topology.forwarderCounts!()?.txTowardTgenPort).to.have.keys('t2', 't3');
    const reports = await ctx.cleanup.unwind();
    expect(reports.map((r) => r.label).some((l) => /link flags of g0, g1 on guest/.test(l))).to.equal(true);
  });

  it('refuses SR-IOV settings on the lab, which has no SR-IOV NIC', async () => {
    const pod = buildLabPod();
    const ctx = buildForwardingContext({ pod, sessions: { guest: vnfSession(pod, 'guest', []) } });
    const error = await createSriovTopology(args({ sriov: EXISTING })).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/lab pod has no SR-IOV NIC/);
  });
});

describe('topology/sriov on a pod with VFs', () => {
  it('asks for the VF mapping before touching a node', async () => {
    const pod = podSriov();
    const log: string[] = [];
    const ctx = buildForwardingContext({ pod, sessions: { host1: hostSession(pod, log), vnf1: vnfSession(pod, 'vnf1', log) } });
    const error = await createSriovTopology(args()).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TopologyError);
    expect((error as Error).message).to.match(/run\.args sriov .*extra\.sriov/);
    expect(log).to.deep.equal([]);
  });

  it('uses the VFs the guest has: sets only what differs, restores it as found, then runs testpmd on the guest PCI devices', async () => {
    const pod = podSriov();
    const log: string[] = [];
    const host = hostSession(pod, log);
    const ctx = buildForwardingContext({ pod, sessions: { host1: host, vnf1: vnfSession(pod, 'vnf1', log) } });
    const path = await createSriovTopology(args({ sriov: EXISTING })).setup(ctx);
    expect(path.ports).to.deep.equal({ tx: 't0', rx: 't1' });
    // VF 0 already has the MAC, VLAN 100, spoof check off and trust on: left as it is.
    expect(log).to.deep.equal([
      'host: ip link set dev ens1f0 vf 1 mac 02:6b:66:6e:00:02 vlan 0 spoofchk off trust on',
      'vnf1: bind vfio-pci',
      'vnf1: start testpmd',
    ]);
    expect(ctx.raws.has('sriov/ens1f0-before.txt')).to.equal(true);
    log.length = 0;
    await ctx.cleanup.unwind();
    expect(log).to.deep.equal(['vnf1: bind restore', 'host: ip link set dev ens1f0 vf 1 mac 00:00:00:00:00:00 vlan 0 spoofchk on trust off']);
  });

  it('reads the mapping from the guest\'s pod.yaml extra.sriov, and names a bad one by its path', async () => {
    const pod = podSriov();
    pod.nodes.find((n) => n.name === 'vnf1')!.extra.sriov = { vfs: 'existing', ports: [{ pf: 'xe0', vf: 0 }] };
    const ctx = buildForwardingContext({ pod, sessions: { host1: hostSession(pod, []), vnf1: vnfSession(pod, 'vnf1', []) } });
    const error = await createSriovTopology(args()).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(/nodes\.vnf1\.extra\.sriov\.ports/);
  });

  it('creates VFs only on a PF that has none, hands them to the guest and takes everything back', async () => {
    const pod = podSriov();
    const log: string[] = [];
    const host = hostSession(pod, log, { probes: [PROBE_NO_VFS, sriovFixture('sysfs-i40e-2vfs.probe.txt')], links: [LINK_NO_VFS, sriovFixture('ip-d-link-show-i40e-2vfs.txt')] });
    const ctx = buildForwardingContext({ pod, sessions: { host1: host, vnf1: vnfSession(pod, 'vnf1', log) } });
    await createSriovTopology(args({ sriov: { ...EXISTING, vfs: 'create', domain: 'vnf1' } })).setup(ctx);
    const xml = host.callsOf('upload').map((u) => u.content);
    expect(xml[0]).to.contain("<source><address domain='0x0000' bus='0x3b' slot='0x02' function='0x0'/></source>");
    expect(xml[0]).to.contain("<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>");
    expect(log).to.deep.equal([
      'host: numvfs 2',
      'host: ip link set dev ens1f0 vf 1 mac 02:6b:66:6e:00:02 vlan 0 spoofchk off trust on',
      'host: bind vfio-pci',
      'host: virsh attach-device vnf1 /tmp/kfn-test-run/vf-ens1f0-0.xml --live',
      'host: bind vfio-pci',
      'host: virsh attach-device vnf1 /tmp/kfn-test-run/vf-ens1f0-1.xml --live',
      'vnf1: bind vfio-pci',
      'vnf1: start testpmd',
    ]);
    log.length = 0;
    await ctx.cleanup.unwind();
    expect(log).to.deep.equal([
      'vnf1: bind restore',
      'host: detach',
      'host: bind restore',
      'host: detach',
      'host: bind restore',
      'host: ip link set dev ens1f0 vf 1 mac 00:00:00:00:00:00 vlan 0 spoofchk on trust off',
      'host: numvfs 0',
    ]);
  });

  it('never changes the VF count of a PF whose VFs it did not create', async () => {
    const pod = podSriov();
    const log: string[] = [];
    const oneVf = 'pf_pci=0000:3b:00.0\npf_driver=i40e\ntotalvfs=64\nnumvfs=1\nvf=0 pci=0000:3b:02.0 driver=iavf override=(null)\n';
    const ctx = buildForwardingContext({ pod, sessions: { host1: hostSession(pod, log, { probes: [oneVf] }), vnf1: vnfSession(pod, 'vnf1', log) } });
    const error = await createSriovTopology(args({ sriov: { ...EXISTING, vfs: 'create', domain: 'vnf1' } })).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/has 1 VFs and 2 are needed; changing the count would destroy VFs the harness did not create/);
    expect(log).to.deep.equal([]);
  });

  it('needs the libvirt domain to hand VFs to the guest', async () => {
    const pod = podSriov();
    const ctx = buildForwardingContext({ pod, sessions: { host1: hostSession(pod, []), vnf1: vnfSession(pod, 'vnf1', []) } });
    const error = await createSriovTopology(args({ sriov: { ...EXISTING, vfs: 'create' } })).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/needs sriov\.domain/);
  });
});
