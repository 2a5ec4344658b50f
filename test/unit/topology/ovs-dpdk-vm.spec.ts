// OVS-DPDK PVP with the VNF inside the lab's launched VM, against fake sessions: OVS comes up
// with dpdkvhostuserclient ports on the VM's sockets, the VM's vhost-user NICs are plugged
// through QMP, testpmd runs in the guest on them, and everything is taken back in reverse.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createOvsDpdkTopology } from '../../../lib/topology/ovs-dpdk.ts';
import { buildForwardingContext } from '../cases/forwarding-fakes.ts';
import { args, fakes, names } from './ovs-fakes.ts';
import { buildVmLabPod, buildVmRecord } from './vm-lab-fakes.ts';

const testpmdFixture = (name: string) => readFileSync(new URL(`../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');
const greeting = readFileSync(new URL('../../fixtures/qemu/kfn-qmp-7.2-tcg.stdout', import.meta.url), 'utf8').split('\n')[0];
const transcript = (...replies: string[]) => [greeting, '{"return": {}}', ...replies].join('\n');

function setup() {
  const pod = buildVmLabPod();
  let size = () => 0;
  const f = fakes(pod, {
    cleanupSize: () => size(),
    host: (_command, options) => {
      if (options.label === 'kfn-qmp cache') return { stdout: 'kfn-agent-cache hit\t/lab/agents\n' };
      if (options.label === 'qmp chardev-add,netdev_add,device_add') {
        f.log.push(`plug [${size()}]`);
        return { stdout: transcript('{"return": {}}', '{"return": {}}', '{"return": {}}') };
      }
      if (options.label === 'qmp device_del') f.log.push('unplug');
      if (options.label === 'qmp qom-list') return { stdout: transcript('{"return": [{"name": "type", "type": "string"}]}') };
      if (options.label?.startsWith('qmp ')) return { stdout: transcript('{"return": {}}') };
      return undefined;
    },
    guest: (command) => {
      if (command.includes('kfn-pci-ready')) return { stdout: 'kfn-pci-ready\n' };
      if (command.includes(' -- --help')) return { stdout: testpmdFixture('cpu-probe-supported.stdout'), stderr: testpmdFixture('cpu-probe-supported.stderr') };
      if (command.includes("printf 'pci %s")) return { stdout: 'pci 0000:00:13.0 virtio-pci (null) -\npci 0000:00:14.0 virtio-pci (null) -\nnot-loaded\n' };
      if (command.includes('/driver_override')) f.log.push(command.includes('drivers_probe || true') ? 'bind uio_pci_generic' : 'bind restore');
      return undefined;
    },
  });
  const ctx = buildForwardingContext({ pod, sessions: { host: f.host, guest: f.guest } });
  size = () => ctx.cleanup.size;
  const record = buildVmRecord();
  ctx.launch = (n) => (n.name === 'guest' ? record : undefined);
  return { ctx, ...f, topology: createOvsDpdkTopology(args({ vnf: { socket_mem_mb: 192, hugepages: { pages: 128 } } })) };
}

describe('topology/ovs-dpdk with the VNF in the launched VM', () => {
  it('points OVS at the VM\'s sockets, plugs its NICs once OVS waits on them, and forwards with testpmd inside it', async () => {
    const { ctx, topology, host, guest, log } = setup();
    const path = await topology.setup(ctx);
    expect(path.description).to.equal('tgen:t0 → host:h0 → OVS-DPDK → vhost-user → guest testpmd (io) in the VM, virtio-net on uio_pci_generic → vhost-user → OVS-DPDK → host:h1 → tgen:t1');
    expect(path.nodes.map((n) => n.name)).to.deep.equal(['host', 'guest']);
    const ports = host.callsOf('exec').map((c) => c.command).filter((c) => c.includes('dpdkvhostuserclient'));
    expect(ports.map((c) => /vhost-server-path=(\S+)/.exec(c)?.[1])).to.deep.equal(['/tmp/kfn-test-run/guest-guest/v0.sock', '/tmp/kfn-test-run/guest-guest/v1.sock']);
    // OVS's PMD and lcore on CPU 0, as the lab's pod.yaml places them, not on the VM's FIFO vCPU's CPU 1.
    expect(host.callsOf('exec').some((c) => c.command.includes('other_config:pmd-cpu-mask=0x1') && c.command.includes('other_config:dpdk-lcore-mask=0x1'))).to.equal(true);
    // The bridge and its ports first, then the plug (its unplug registered before it), then testpmd in the guest.
    expect(log.map((l) => l.replace(/ \[\d+\]$/, ''))).to.deep.equal(['reserve hugepages', 'start ovsdb-server', 'start ovs-vswitchd', 'add bridge', ...Array(5).fill('add flow'), 'plug', 'plug', 'bind uio_pci_generic', 'start VNF', 'clear PMD stats']);
    expect(guest.callsOf('start')[0]!.command).to.include('-a 0000:00:13.0 -a 0000:00:14.0').and.include('--socket-mem=192');
    expect(ctx.details.accelerator).to.equal('tcg');
    expect((ctx.details.vnf as { virtioOptions: Record<string, Record<string, string>> }).virtioOptions.v0).to.include({ mrg_rxbuf: 'off' });

    await topology.collectEvidence!(ctx);
    const stages = topology.forwarderCounts!()!.stages!;
    expect(stages[0]!.stages.map((s) => s.point).filter((p) => p.startsWith('VNF'))).to.deep.equal(['VNF v0 rx', 'VNF v1 tx']);
    expect(stages[1]!.stages.map((s) => s.point).filter((p) => p.startsWith('VNF'))).to.deep.equal(['VNF v1 rx', 'VNF v0 tx']);
    expect((ctx.details.forwarder as { node: string }).node).to.equal('guest');

    log.length = 0;
    const reports = await ctx.cleanup.unwind();
    expect(reports.filter((r) => !r.ok)).to.deep.equal([]);
    // testpmd stopped and its devices back on virtio-pci (then the CPU probe's folder removed) before
    // the NICs leave the VM, and OVS goes last.
    expect(log.map((l) => l.replace(/ \[\d+\]$/, ''))).to.deep.equal(['remove VNF runtime dir', 'bind restore', 'remove VNF runtime dir', 'unplug', 'unplug', 'delete bridge', 'stop private OVS', 'restore hugepages', 'restore links']);
    expect(names.vhost).to.have.length(2);
  });
});
