// Bare metal: the host node forwards between two data ports whose peers are generator ports,
// with no virtualisation in the path; the baseline SR-IOV and OVS-DPDK are compared with.
// The forwarder is dpdk-testpmd (io or macswap) on af_packet vdevs over the ports' kernel
// interfaces (the lab's veths; --no-huge) or on PCI devices bound to vfio-pci with hugepages
// (a real pod), or the kernel's own IPv4 forwarding (baremetal-kernel.ts). Every change is
// registered on ctx.cleanup before it is made: link flags, bindings, hugepages, the process.
import { z } from 'zod';
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { MeasurementError, TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { ensureTool } from '../provision/ensure-tool.ts';
import type { DetachedOutcome, DetachedProcess, NodeSession } from '../remote/types.ts';
import { buildFilePrefix, buildTestpmdCommand, buildTestpmdReadyScript, TESTPMD_TOOL_SPEC, type TestpmdMemory, type TestpmdPort } from '../tools/testpmd/command.ts';
import { parseTestpmdStats, parseTestpmdVersion } from '../tools/testpmd/parse.ts';
import type { CountingTopology, ForwarderCounts, ForwardingPath } from './types.ts';
import { resolveDevicePorts } from '../cases/forwarding-ports.ts';
import { setupKernelForwarding, type KernelForwarder } from './baremetal-kernel.ts';
import { bindPciDevices, driverField, reserveHugepages } from './hugepages.ts';
import { registerUndo, saveLinkStates } from './undo.ts';
import { quoteArg } from '../remote/quote.ts';

const cpu = z.number().int().min(0).max(1023);

/** Bare metal's own keys in run.args, beside the shared ones of lib/cases/forwarding-args.ts. */
export const baremetalArgsShape = {
  forwarder: z.enum(['testpmd', 'kernel']).default('testpmd'),
  forward_mode: z.enum(['io', 'macswap']).default('io'),
  /** The node under test; default the pod's first host. */
  node: z.string().min(1).optional(),
  /** Its two data ports by pod.yaml name; default the first two cabled to the generator. */
  device_ports: z.array(z.string().min(1)).length(2).optional(),
  /** af_packet (kernel interfaces), pci (vfio-pci), or auto: pci when both ports have a PCI address off the lab. */
  port_kind: z.enum(['auto', 'af_packet', 'pci']).default('auto'),
  testpmd: z
    .strictObject({
      main_cpu: cpu.optional(),
      forwarding_cpus: z.array(cpu).min(1).optional(),
      /** Memory without hugepages (af_packet), MB. */
      memory_mb: z.number().int().min(64).max(65_536).default(1024),
      mbufs: z.number().int().min(1025).default(8192),
      hugepages: z.strictObject({ size_kb: z.number().int().positive().default(2048), pages: z.number().int().positive().default(1024), mount: z.string().startsWith('/').default('/dev/hugepages') }).default({ size_kb: 2048, pages: 1024, mount: '/dev/hugepages' }),
      socket_mem_mb: z.array(z.number().int().min(0)).min(1).default([1024]),
      stats_period_s: z.number().int().min(1).max(3600).default(5),
      rxd: z.number().int().min(32).optional(),
      txd: z.number().int().min(32).optional(),
      burst: z.number().int().min(1).max(512).optional(),
      driver: driverField.default('vfio-pci'),
    })
    .default({ memory_mb: 1024, mbufs: 8192, hugepages: { size_kb: 2048, pages: 1024, mount: '/dev/hugepages' }, socket_mem_mb: [1024], stats_period_s: 5, driver: 'vfio-pci' }),
};

const shapeSchema = z.strictObject(baremetalArgsShape);
export type BaremetalArgs = z.output<typeof shapeSchema>;

// The node under test: named in the args, else the pod's first host.
export function findDeviceNode(ctx: Pick<CaseContext, 'pod' | 'nodes'>, args: Pick<BaremetalArgs, 'node'>): PodNode | undefined {
  return args.node ? ctx.pod.nodes.find((n) => n.name === args.node) : ctx.nodes('host')[0];
}

interface TestpmdRun {
  session: NodeSession;
  process?: DetachedProcess;
  command?: string;
  /** Set once it is stopped: what it printed then. */
  outcome?: DetachedOutcome;
}

// Stops testpmd once with SIGINT, which makes it print its forward statistics; later calls reuse them.
async function stopTestpmd(tp: TestpmdRun): Promise<DetachedOutcome | undefined> {
  if (tp.process && !tp.outcome) tp.outcome = await tp.session.stopDetached(tp.process, { signal: 'INT', graceMs: 10_000 });
  return tp.outcome;
}

// One topology object per case: setup, evidence and counts share the forwarder it started.
export function createBaremetalTopology(args: BaremetalArgs): CountingTopology {
  let testpmd: TestpmdRun | undefined;
  let kernel: KernelForwarder | undefined;
  let counts: ForwarderCounts | undefined;
  let tgenPorts: { tx: string; rx: string } | undefined;
  let device: PodNode | undefined;

  return {
    name: 'baremetal',
    async setup(ctx: CaseContext): Promise<ForwardingPath> {
      const tgen = ctx.nodes('tgen')[0];
      device = findDeviceNode(ctx, args);
      if (!tgen) throw new TopologyError(`pod ${ctx.pod.name} has no tgen node: the bare-metal case needs a traffic generator cabled to the host`);
      if (!device) throw new TopologyError(args.node ? `pod ${ctx.pod.name} has no node named ${args.node}` : `pod ${ctx.pod.name} has no host node to forward`);
      const ports = resolveDevicePorts({ pod: ctx.pod, device, tgen, ...(args.device_ports ? { devicePorts: args.device_ports } : {}) });
      tgenPorts = ports.tgen;
      const session = await ctx.session(device);
      let what: string;
      if (args.forwarder === 'kernel') {
        kernel = await setupKernelForwarding(ctx, session, { ports: ports.device, tgen, tgenPorts: ports.tgen });
        what = 'kernel IPv4 forwarding';
      } else {
        testpmd = { session };
        const kind = await startTestpmd(ctx, testpmd, args, ports.device);
        what = `testpmd (${args.forward_mode}, ${kind})`;
      }
      const [a, b] = ports.device;
      return {
        topology: 'baremetal',
        tgen,
        ports: ports.tgen,
        description: `${tgen.name}:${ports.tgen.tx} → ${device.name}:${a.name} → ${what} → ${device.name}:${b.name} → ${tgen.name}:${ports.tgen.rx}`,
        nodes: [device],
      };
    },

    async collectEvidence(ctx: CaseContext): Promise<void> {
      if (kernel && tgenPorts) {
        const sent = await kernel.readCounters();
        counts = { txTowardTgenPort: { [tgenPorts.tx]: sent.towardA, [tgenPorts.rx]: sent.towardB }, source: 'kernel tx counters of the device ports' };
        ctx.recordDetails('forwarder', { kind: 'kernel', counters: sent });
        return;
      }
      if (!testpmd?.process || !tgenPorts || !device) return;
      const wasRunning = !testpmd.outcome && (await testpmd.session.isRunning(testpmd.process));
      const out = await stopTestpmd(testpmd);
      if (!out) return;
      await ctx.writeRaw(`${device.name}/testpmd.stdout`, out.stdout);
      await ctx.writeRaw(`${device.name}/testpmd.stderr`, out.stderr);
      const stats = parseTestpmdStats(out.stdout, { source: `dpdk-testpmd on ${device.name}`, expectedPorts: 2 });
      ctx.recordDetails('forwarder', { kind: 'testpmd', command: testpmd.command, forwardMode: stats.forwardMode, ports: stats.ports, accumulated: stats.accumulated });
      if (!wasRunning || stats.quitAtOnce) {
        throw new MeasurementError(`dpdk-testpmd on ${device.name} had stopped before the end of the case (exit code ${out.exitCode ?? 'none'}); trials after that did not go through it`);
      }
      // testpmd port 0 is the device port facing the generator's tx port.
      counts = { txTowardTgenPort: { [tgenPorts.tx]: stats.ports[0]!.txPackets, [tgenPorts.rx]: stats.ports[1]!.txPackets }, source: 'testpmd forward statistics' };
    },

    forwarderCounts: () => counts,
  };
}

// Saves and changes what testpmd needs, registers its stop, starts it and waits until it forwards.
async function startTestpmd(ctx: CaseContext, tp: TestpmdRun, args: BaremetalArgs, ports: [DataPort, DataPort]): Promise<string> {
  const { session } = tp;
  const node = session.node;
  const t = args.testpmd;
  const kind = args.port_kind !== 'auto' ? args.port_kind : ports.every((p) => p.pci) && !ctx.pod.lab ? 'pci' : 'af_packet';
  const mainLcore = t.main_cpu ?? node.housekeepingCpus[0];
  const forwardingLcores = t.forwarding_cpus ?? node.rtCpus.slice(0, 1);
  if (mainLcore === undefined || forwardingLcores.length === 0) {
    throw new TopologyError(`testpmd on ${node.name} needs a main lcore (housekeeping_cpus or testpmd.main_cpu) and a forwarding lcore (rt_cpus or testpmd.forwarding_cpus)`);
  }
  const binary = await ensureTool(session, TESTPMD_TOOL_SPEC);
  let tpPorts: TestpmdPort[];
  let memory: TestpmdMemory;
  const ifaces = ports.map((p) => p.interface).filter((i): i is string => i !== undefined);
  if (kind === 'af_packet') {
    const missing = ports.filter((p) => !p.interface).map((p) => p.name);
    if (missing.length > 0) throw new TopologyError(`af_packet needs the kernel interface of ports ${missing.join(', ')} on ${node.name} (pod.yaml ports[].interface)`);
    // The af_packet driver turns PROMISC on and leaves it on: the flags are put back afterwards.
    await saveLinkStates(ctx, session, ifaces);
    tpPorts = ifaces.map((iface) => ({ kind: 'af_packet', iface }));
    memory = { kind: 'no-huge', megabytes: t.memory_mb };
  } else {
    const missing = ports.filter((p) => !p.pci).map((p) => p.name);
    if (missing.length > 0) throw new TopologyError(`port_kind pci needs the PCI address of ports ${missing.join(', ')} on ${node.name} (pod.yaml ports[].pci)`);
    const addresses = ports.map((p) => p.pci!.toLowerCase());
    // Registered first, so it runs last: the interfaces exist again only once the kernel driver is back.
    await saveLinkStates(ctx, session, ifaces, { onlyExisting: true });
    await bindPciDevices(ctx, session, addresses, t.driver);
    await reserveHugepages(ctx, session, { sizeKb: t.hugepages.size_kb, pages: t.hugepages.pages, mountPoint: t.hugepages.mount });
    tpPorts = addresses.map((address) => ({ kind: 'pci', address }));
    memory = { kind: 'hugepages', socketMemMb: t.socket_mem_mb };
  }
  const command = buildTestpmdCommand({
    binary,
    forwardMode: args.forward_mode,
    ports: tpPorts,
    mainLcore,
    forwardingLcores,
    filePrefix: buildFilePrefix(ctx.runId),
    memory,
    statsPeriodS: t.stats_period_s,
    totalNumMbufs: t.mbufs,
    ...(t.rxd === undefined ? {} : { rxDescriptors: t.rxd }),
    ...(t.txd === undefined ? {} : { txDescriptors: t.txd }),
    ...(t.burst === undefined ? {} : { burst: t.burst }),
  });
  // testpmd leaves its runtime folder behind; it is unique to this run, so removing it removes nothing else.
  await registerUndo(ctx, { label: `remove ${command.runtimeDir} on ${node.name}`, session, script: `rm -rf ${quoteArg(command.runtimeDir)}` });
  // Stopped with SIGINT on every path; the statistics it prints then are the evidence.
  ctx.cleanup.push(`stop dpdk-testpmd on ${node.name}`, async () => void (await stopTestpmd(tp)));
  tp.command = command.command;
  // Lab nodes share one run folder, so the process name carries the case to stay unique.
  const started = await session.startDetached({ name: `${ctx.caseName}-testpmd`, command: command.argv, label: 'dpdk-testpmd' });
  tp.process = started;
  const ready = await session.exec({ script: buildTestpmdReadyScript(started, 30) }, { reject: false, timeoutMs: 45_000, label: 'wait for testpmd to forward' });
  if (!ctx.dryRun && !ready.stdout.startsWith('kfn-testpmd-ready')) {
    const out = (await stopTestpmd(tp))!;
    await ctx.writeRaw(`${node.name}/testpmd.stdout`, out.stdout);
    await ctx.writeRaw(`${node.name}/testpmd.stderr`, out.stderr);
    const why = (out.stderr.trim() || ready.stdout.trim()).split('\n').slice(-3).join(' | ') || 'no output';
    throw new TopologyError(`dpdk-testpmd on ${node.name} did not start forwarding within 30 s (exit code ${out.exitCode ?? 'none'}): ${why}; command: ${command.command}`);
  }
  const stderr = await session.exec(['cat', started.stderrPath], { reject: false, label: 'testpmd version', privileged: false });
  ctx.recordToolVersion(node.name, 'dpdk-testpmd', parseTestpmdVersion(stderr.stdout) ?? (ctx.dryRun ? 'dry-run' : 'unknown'));
  return kind === 'pci' ? `PCI, ${t.driver}` : 'af_packet';
}
