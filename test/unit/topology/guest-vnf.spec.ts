// The VNF inside the lab's launched VM, against fake sessions answering with recorded outputs:
// SR-IOV's analogue (the VM owns g0/g1 through macvtap) with testpmd on uio_pci_generic in the
// guest, and the guest kernel taking over, named as such, only where DPDK cannot run on the CPU.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { createSriovTopology, sriovArgsShape } from '../../../lib/topology/sriov.ts';
import { buildForwardingContext } from '../cases/forwarding-fakes.ts';
import { buildVmLabPod, buildVmRecord } from './vm-lab-fakes.ts';
import { FakeNodeSession } from '../../support/fake-node-session.ts';

const testpmdFixture = (name: string) => readFileSync(new URL(`../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');
const topoFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const args = (over: Record<string, unknown> = {}) => parseForwardingArgs(over, { caseName: 'sriov_forwarding', extra: sriovArgsShape });
/** The guest: a CPU probe answer, PCI devices on virtio-pci, hugepages and testpmd; every change logged. */
function guestSession(pod: Pod, log: string[], probe: { exitCode: number; stdout: string; stderr: string }) {
  const node = pod.nodes.find((n) => n.name === 'guest')!;
  const links = topoFixture('ip-link-restored.json').replaceAll('"kbh0"', '"g0"').replaceAll('"kbh1"', '"g1"');
  return new FakeNodeSession(node, {
    exec: (command) => {
      if (command === 'command -v dpdk-testpmd') return { stdout: '/usr/bin/dpdk-testpmd\n' };
      if (command.includes(' -- --help')) {
        log.push(`probe ${command.split(' ').find((w) => w.startsWith('--file-prefix='))}`);
        return probe;
      }
      if (command.startsWith('for d in /sys/kernel/mm/hugepages')) return { stdout: topoFixture('hugepages-idle.txt').replace('folder no /dev/hugepages', 'mount /dev/hugepages rw,relatime,pagesize=2M\nfolder yes /dev/hugepages') };
      if (command.startsWith('set -e\necho 128')) log.push('reserve 128 hugepages');
      if (command.includes("printf 'pci %s")) return { stdout: 'pci 0000:00:11.0 virtio-pci (null) -\npci 0000:00:12.0 virtio-pci (null) -\nnot-loaded\n' };
      if (command.includes('/driver_override')) log.push(command.includes('drivers_probe || true') ? `bind ${/echo (\S+) > \/sys\/bus\/pci\/devices\/\S+\/driver_override/.exec(command)?.[1]}` : 'bind restore');
      if (command.includes('kfn-testpmd-ready')) return { stdout: 'kfn-testpmd-ready\n' };
      if (command.startsWith('cat ')) return { stdout: testpmdFixture('io-bidir-64.stderr') };
      if (command === 'ip -j link show') return { stdout: links };
      if (command.startsWith('sysctl -n net.ipv4.ip_forward')) return { stdout: `0\n---\n${topoFixture('route-root.json')}` };
      if (command === 'ip -j -s link show') return { stdout: topoFixture('ip-s-link.json').replaceAll('"kbh0"', '"g0"').replaceAll('"kbh1"', '"g1"') };
      if (command.startsWith('set -e\nip route add')) log.push('kernel routes');
      if (command.startsWith("set -e\ndev=''")) log.push('name the NICs');
      return {};
    },
    start: (_name, raw) => void log.push(`start ${Array.isArray(raw) ? raw.filter((w) => w.startsWith('-a') || /^0000:/.test(w)).join(' ') : 'script'}`),
    running: () => true,
    outcome: () => ({ stdout: testpmdFixture('io-bidir-64.stdout'), stderr: '', exitCode: 0 }),
  });
}

function setup(probe: { exitCode: number; stdout: string; stderr: string }) {
  const pod = buildVmLabPod();
  const log: string[] = [];
  const guest = guestSession(pod, log, probe);
  const ctx = buildForwardingContext({ pod, sessions: { guest } });
  const record = buildVmRecord();
  ctx.launch = (n) => (n.name === 'guest' ? record : undefined);
  return { pod, ctx, log, topology: createSriovTopology(args({ testpmd: { hugepages: { pages: 128 }, socket_mem_mb: [192] } })) };
}

const SUPPORTED = { exitCode: 0, stdout: testpmdFixture('cpu-probe-supported.stdout'), stderr: testpmdFixture('cpu-probe-supported.stderr') };

describe('topology/sriov with the VNF in the launched VM (lab: macvtap analogue)', () => {
  it('runs testpmd in the VM on its own NICs, bound to uio_pci_generic, and says the path is an analogue', async () => {
    const { ctx, log, topology } = setup(SUPPORTED);
    const path = await topology.setup(ctx);
    expect(path.ports).to.deep.equal({ tx: 't2', rx: 't3' });
    expect(path.description).to.equal('tgen:t2 → guest:g0 → testpmd (io) in the VM, virtio-net on uio_pci_generic → guest:g1 → tgen:t3 (lab analogue of a passed-through VF: the VM owns g0, g1 through macvtap in passthru mode, no vswitch or bridge)');
    expect(log).to.deep.equal(['probe --file-prefix=kfn-sriov-vnf-probe-20261125-120000-abcd', 'bind uio_pci_generic', 'reserve 128 hugepages', 'start -a 0000:00:11.0 -a 0000:00:12.0']);
    expect(ctx.details.accelerator).to.equal('tcg');
    expect(ctx.details.vnf).to.deep.include({ node: 'guest', where: 'launched guest' });
    expect((ctx.details.vnf as { virtioOptions: Record<string, Record<string, string>> }).virtioOptions.g0).to.deep.include({ mrg_rxbuf: 'off' });
    await topology.collectEvidence!(ctx);
    const counts = topology.forwarderCounts!()!;
    expect(counts.source).to.equal('testpmd in guest, read over its SSH session');
    expect(counts.stages?.[0]).to.deep.equal({ txPort: 't2', rxPort: 't3', stages: [{ point: 'VNF g0 rx', frames: 150000 }, { point: 'VNF g1 tx', frames: 150000 }] });
    expect((ctx.details.forwarder as { kind: string }).kind).to.equal('testpmd');
    log.length = 0;
    await ctx.cleanup.unwind();
    // testpmd stopped first, then the devices go back to virtio-pci and take their names again.
    expect(log).to.deep.equal(['bind restore', 'name the NICs']);
  });

  it('lets the guest kernel forward, named as such, only when DPDK cannot run on the guest CPU', async () => {
    // Recorded: testpmd under TCG -cpu qemu64 dies of SIGILL (test/fixtures/testpmd/cpu-probe-qemu64.source.md).
    const { ctx, log, topology } = setup({ exitCode: 132, stdout: '', stderr: testpmdFixture('cpu-probe-qemu64.stderr') });
    const path = await topology.setup(ctx);
    expect(path.description).to.match(/→ kernel IPv4 forwarding in the VM \(DPDK cannot run on its CPU\) →/);
    expect(log).to.deep.equal(['probe --file-prefix=kfn-sriov-vnf-probe-20261125-120000-abcd', 'kernel routes']);
    await topology.collectEvidence!(ctx);
    const forwarder = ctx.details.forwarder as { kind: string; fallbackFrom: string; reason: string };
    expect(forwarder).to.deep.include({ kind: 'kernel', fallbackFrom: 'testpmd' });
    expect(forwarder.reason).to.match(/SIGILL/);
  });

  it('stops on any other probe failure instead of falling back', async () => {
    const { ctx, topology } = setup({ exitCode: 1, stdout: '', stderr: 'EAL: FATAL: Cannot init memory\n' });
    const error = await topology.setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/CPU probe .* Cannot init memory/);
  });
});
