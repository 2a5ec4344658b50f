// `lab up --computes N`: N compute groups, each a host namespace and its guest (a namespace, or
// a VM launched on that host), one traffic generator with an interrupt port per guest, and a
// pod.yaml whose groups the harness finds as it would on a real pod.
import { expect } from 'chai';
import { load } from 'js-yaml';
import { buildPod } from '../../../lib/config/pod.ts';
import { computeGroups } from '../../../lib/config/pod-groups.ts';
import { planDeviceInterrupt, parseDeviceInterruptArgs } from '../../../lib/cases/device-interrupt-plan.ts';
import { buildPodYaml } from '../../../lib/lab/files.ts';
import { buildLabPlan, listPlanIfnames, MAX_IFNAME } from '../../../lib/lab/plan.ts';

const IMAGE = { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', rootfs: '/img/rootfs.img', accessKey: '/img/id_ed25519', hostKeyFingerprint: `SHA256:${'x'.repeat(43)}` };
const podOf = (plan: ReturnType<typeof buildLabPlan>) => buildPod(load(buildPodYaml(plan, plan.guest === 'vm' ? IMAGE : undefined)), { file: '/work/main/.lab/pod.yaml', env: {} });

describe('lab plan: compute groups', () => {
  it('keeps a one-group lab exactly as it was', () => {
    const plan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2 });
    expect(plan.nodes.map((n) => n.name)).to.deep.equal(['host', 'guest', 'tgen']);
    expect(plan.computes).to.deep.equal([{ index: 0, host: 'host', guest: 'guest' }]);
    expect(computeGroups(podOf(plan)).groups.map((g) => g.nodes.map((n) => n.name))).to.deep.equal([['host', 'guest']]);
  });

  it('adds numbered host and guest namespaces, each guest cabled to its own tgen port in its own /30', () => {
    const plan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, guest: 'namespace', computes: 3 });
    expect(plan.nodes.map((n) => [n.name, n.role, n.ip, n.rootLink])).to.deep.equal([
      ['host', 'host', '198.18.33.2', 'kfn261c-mh'],
      ['guest', 'guest', '198.18.33.3', 'kfn261c-mg'],
      ['tgen', 'tgen', '198.18.33.4', 'kfn261c-mt'],
      ['host-1', 'host', '198.18.33.5', 'kfn261c-mh1'],
      ['guest-1', 'guest', '198.18.33.6', 'kfn261c-mg1'],
      ['host-2', 'host', '198.18.33.7', 'kfn261c-mh2'],
      ['guest-2', 'guest', '198.18.33.8', 'kfn261c-mg2'],
    ]);
    const irq = plan.links.filter((l) => l.purpose.startsWith('device-interrupt'));
    expect(irq.map((l) => [`${l.a.node}:${l.a.ifname}`, l.a.address, `${l.b.node}:${l.b.ifname}`, l.b.address])).to.deep.equal([
      ['tgen:ti', '198.19.33.1/30', 'guest:gi', '198.19.33.2/30'],
      ['tgen:ti1', '198.19.33.5/30', 'guest-1:gi', '198.19.33.6/30'],
      ['tgen:ti2', '198.19.33.9/30', 'guest-2:gi', '198.19.33.10/30'],
    ]);
    const macs = plan.links.flatMap((l) => [l.a.mac, l.b.mac]);
    expect(new Set(macs).size).to.equal(macs.length);
    for (const name of listPlanIfnames(buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, computes: 16 }))) expect(name.length, name).to.be.at.most(MAX_IFNAME);
  });

  it('writes a pod.yaml whose groups are the hosts with their guests, and whose interrupts reach each guest from tgen', () => {
    const pod = podOf(buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, guest: 'namespace', computes: 3 }));
    const { groups, shared } = computeGroups(pod);
    expect(groups.map((g) => g.nodes.map((n) => n.name))).to.deep.equal([['host', 'guest'], ['host-1', 'guest-1'], ['host-2', 'guest-2']]);
    expect(shared.map((n) => n.name)).to.deep.equal(['tgen']);
    // What device_interrupt plans in group 2's view: its guest, on tgen's ti2.
    const view = { ...pod, nodes: pod.nodes.filter((n) => ['host-2', 'guest-2', 'tgen'].includes(n.name)) };
    const planned = planDeviceInterrupt(view, parseDeviceInterruptArgs({}));
    if ('skip' in planned) expect.fail(planned.skip);
    expect([planned.plan.receiver.name, planned.plan.generator.name, planned.plan.generatorIface, planned.plan.dest, planned.plan.clockDomain]).to.deep.equal(['guest-2', 'tgen', 'ti2', '198.19.33.10', 'same-host']);
  });

  it('launches a VM on each host with VM guests: no extra guest namespace, each VM on its own host bridge and tgen port', () => {
    const plan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, guest: 'vm', computes: 2 });
    expect(plan.nodes.map((n) => n.name)).to.deep.equal(['host', 'tgen', 'host-1']);
    expect(plan.computes.map((c) => [c.host, c.guest, c.vm?.address])).to.deep.equal([['host', 'guest', '198.19.33.2/30'], ['host-1', 'guest-1', '198.19.33.6/30']]);
    const pod = podOf(plan);
    expect(pod.nodes.map((n) => `${n.name}:${n.role}`)).to.deep.equal(['host:host', 'guest:guest', 'tgen:tgen', 'host-1:host', 'guest-1:guest']);
    const vm1 = pod.nodes.find((n) => n.name === 'guest-1');
    expect(vm1?.hostNode).to.equal('host-1');
    expect(vm1?.jumpHost?.ip).to.equal('198.18.33.4');
    // Only the first group's VM forwards: the others have their interrupt NIC alone.
    expect(vm1?.ports.map((p) => p.name)).to.deep.equal(['gi']);
    expect(pod.nodes.find((n) => n.name === 'guest')?.ports.map((p) => p.name)).to.deep.equal(['g0', 'g1', 'gi', 'v0', 'v1']);
    expect(vm1?.ports[0]?.peer).to.equal('tgen:ti1');
    expect(pod.nodes.find((n) => n.name === 'tgen')?.ports.find((p) => p.name === 'ti1')?.peer).to.equal('guest-1:gi');
    expect(computeGroups(pod).groups.map((g) => g.nodes.map((n) => n.name))).to.deep.equal([['host', 'guest'], ['host-1', 'guest-1']]);
  });

  it('refuses a number of groups it cannot address', () => {
    for (const computes of [0, 17, 1.5]) expect(() => buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, computes }), String(computes)).to.throw(RangeError, /computes must be 1\.\.16/);
  });
});
