import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { MeasurementError, TopologyError } from '../../../lib/errors.ts';
import { baremetalArgsShape, createBaremetalTopology } from '../../../lib/topology/baremetal.ts';
import { buildForwardingContext, buildLabPod } from '../cases/forwarding-fakes.ts';
import { FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';

const testpmdFixture = (name: string) => readFileSync(new URL(`../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');
const linkFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
// The recorded interface list, with the lab's names.
const LINKS = linkFixture('ip-link-restored.json').replaceAll('"kbh0"', '"h0"').replaceAll('"kbh1"', '"h1"');
const args = (over: Record<string, unknown> = {}) => parseForwardingArgs(over, { caseName: 'baremetal_forwarding', extra: baremetalArgsShape });

function hostSession(pod: Pod, o: { ready?: string; running?: boolean; stdout?: string; stderr?: string; exec?: FakeHandlers['exec'] } = {}) {
  const host = pod.nodes.find((n) => n.name === 'host')!;
  const order: string[] = [];
  const session = new FakeNodeSession(host, {
    exec: (command, options) => {
      const own = o.exec?.(command, options);
      if (own) return own;
      if (command === 'command -v dpdk-testpmd') return { stdout: '/usr/bin/dpdk-testpmd\n' };
      if (command === 'ip -j link show') {
        order.push('read links');
        return { stdout: LINKS };
      }
      if (command.includes('kfn-testpmd-ready')) return { stdout: o.ready ?? 'kfn-testpmd-ready\n' };
      if (command.startsWith('cat ')) return { stdout: testpmdFixture('io-bidir-64.stderr') };
      if (command.startsWith('rm -rf /var/run/dpdk/')) order.push(command);
      if (command.includes('ip link set dev h0')) order.push('restore links');
      return {};
    },
    start: (name) => void order.push(`start ${name}`),
    running: () => o.running ?? true,
    outcome: () => ({ stdout: o.stdout ?? testpmdFixture('io-bidir-64.stdout'), stderr: o.stderr ?? testpmdFixture('io-bidir-64.stderr'), exitCode: 0 }),
  });
  return { session, order };
}

describe('topology/baremetal on the lab pod (testpmd, af_packet)', () => {
  it('saves the link flags, then starts testpmd on the host ports cabled to the generator', async () => {
    const pod = buildLabPod();
    const { session, order } = hostSession(pod);
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const path = await createBaremetalTopology(args()).setup(ctx);
    expect(path.ports).to.deep.equal({ tx: 't0', rx: 't1' });
    expect(path.description).to.equal('tgen:t0 → host:h0 → testpmd (io, af_packet) → host:h1 → tgen:t1');
    expect(order.slice(0, 2)).to.deep.equal(['read links', 'start baremetal_forwarding-testpmd']);
    const start = session.callsOf('start')[0]!;
    expect(start.command).to.include('-l 0,1 --main-lcore 0 --file-prefix=kfn-fwd-20261125-120000-abcd --no-telemetry --no-huge -m 1024 --no-shconf --no-pci');
    expect(start.command).to.include('--vdev=net_af_packet0,iface=h0 --vdev=net_af_packet1,iface=h1 -- --forward-mode=io');
    expect(ctx.tools).to.deep.include(['host', 'dpdk-testpmd', '22.11.11']);
    // Teardown: stop testpmd, remove its runtime folder, then put the link flags back.
    await ctx.cleanup.unwind();
    expect(session.callsOf('stop').map((s) => s.signal)).to.deep.equal(['INT']);
    expect(order.slice(2)).to.deep.equal(['rm -rf /var/run/dpdk/kfn-fwd-20261125-120000-abcd', 'restore links', 'read links']);
  });

  it('keeps testpmd\'s statistics as evidence and counts what it sent toward each generator port', async () => {
    const pod = buildLabPod();
    const { session } = hostSession(pod);
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const topology = createBaremetalTopology(args());
    await topology.setup(ctx);
    await topology.collectEvidence!(ctx);
    expect(ctx.raws.get('host/testpmd.stdout')).to.equal(testpmdFixture('io-bidir-64.stdout'));
    expect(topology.forwarderCounts!()).to.deep.equal({ txTowardTgenPort: { t0: 150_000, t1: 150_000 }, source: 'testpmd forward statistics' });
    expect(ctx.details.forwarder).to.deep.include({ kind: 'testpmd', forwardMode: 'io' });
    // A second stop (the cleanup) reuses the first one's output.
    await ctx.cleanup.unwind();
    expect(session.callsOf('stop')).to.have.length(1);
  });

  it('refuses evidence from a testpmd that had stopped before the end', async () => {
    const pod = buildLabPod();
    const { session } = hostSession(pod, { running: false });
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const topology = createBaremetalTopology(args());
    await topology.setup(ctx);
    const error = await topology.collectEvidence!(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/had stopped before the end of the case/);
  });

  it('explains a testpmd that never forwarded with its own words, and still undoes everything', async () => {
    const pod = buildLabPod();
    const { session, order } = hostSession(pod, { ready: 'kfn-testpmd-exited\n', stdout: testpmdFixture('exit-mbufs-1024.stdout'), stderr: testpmdFixture('exit-mbufs-1024.stderr') });
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const error = await createBaremetalTopology(args()).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TopologyError);
    expect((error as Error).message).to.match(/did not start forwarding within 30 s \(exit code 0\): .*Cause: total-num-mbufs should be > 1024/);
    expect(ctx.raws.get('host/testpmd.stderr')).to.include('total-num-mbufs should be > 1024');
    await ctx.cleanup.unwind();
    expect(order).to.include('restore links');
  });

  it('refuses a pod whose host has fewer than two ports cabled to the generator', async () => {
    const pod = buildLabPod();
    const host = pod.nodes.find((n) => n.name === 'host')!;
    host.ports = host.ports.filter((p) => p.name !== 'h1');
    const ctx = buildForwardingContext({ pod, sessions: {} });
    const error = await createBaremetalTopology(args()).setup(ctx).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/host needs two data ports cabled to tgen \(pod.yaml ports\[\]\.peer\), found h0<->t0/);
  });
});

describe('topology/baremetal on a pod with PCI ports', () => {
  it('binds to vfio-pci and reserves hugepages, each after registering its restore, before testpmd starts', async () => {
    const pod = buildLabPod();
    pod.lab = false;
    const host = pod.nodes.find((n) => n.name === 'host')!;
    host.ports[0]!.pci = '0000:18:00.0';
    host.ports[1]!.pci = '0000:18:00.1';
    const steps: string[] = [];
    const { session } = hostSession(pod, {
      exec: (command) => {
        if (command.includes("printf 'pci")) return { stdout: 'pci 0000:18:00.0 ixgbe (null) h0\npci 0000:18:00.1 ixgbe (null) h1\nloaded\n' };
        if (command.includes('drivers_probe')) steps.push('bind');
        if (command.includes('for d in /sys/kernel/mm/hugepages')) return { stdout: 'pool 2048 0 0\nnode 0 2048 0\ndefault 2048\nfolder yes /dev/hugepages\n' };
        if (command.includes('mount -t hugetlbfs')) steps.push('hugepages');
        return undefined;
      },
    });
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const path = await createBaremetalTopology(args({ testpmd: { hugepages: { pages: 512 } } })).setup(ctx);
    expect(steps).to.deep.equal(['bind', 'hugepages']);
    expect(path.description).to.include('testpmd (io, PCI, vfio-pci)');
    const start = session.callsOf('start')[0]!.command;
    expect(start).to.include('--in-memory --socket-mem=1024 -a 0000:18:00.0 -a 0000:18:00.1');
    // links, PCI, hugepages, runtime folder, testpmd: five undo steps, all registered before the start.
    expect(ctx.cleanup.size).to.equal(5);
  });
});
