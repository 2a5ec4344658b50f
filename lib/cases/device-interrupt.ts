// The Device Interrupt Test's procedure: kfn-irqgen on the traffic generator sends one frame
// per period to the guest's data port, each arrival raises the interrupt kfn-irqrecv measures
// in the guest. Plan (nodes, destination, clock case) from the pod and the case args; then
// provision, start the receiver, wait until it is ready, run the generator, stop both, keep
// every raw output and parse. The suite file only declares nodes and assertions.
import { isIP } from 'node:net';
import { z } from 'zod';
import type { DataPort, Pod, PodNode } from '../config/pod-model.ts';
import { tryParseCpuList } from '../config/cpu-list.ts';
import { buildConfigIssues } from '../config/zod-issues.ts';
import { ConfigError, MeasurementError, type ConfigIssue } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { requireCompleteMeasurement, runDetachedMeasurement } from '../harness/detached-measurement.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { ensureAgent, resolveAgentCacheDirs } from '../provision/build-agent.ts';
import type { DetachedOutcome, NodeSession } from '../remote/types.ts';
import {
  buildIrqGenCommand,
  buildIrqRecvCommand,
  buildReadyWaitScript,
  buildStreamId,
  parseIrqRecvReadyLine,
  type ClockDomain,
} from '../tools/irq-agent/command.ts';
import { buildDeviceInterruptDetails, checkIrqPairing, type DeviceInterruptDetails } from '../tools/irq-agent/details.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../tools/irq-agent/parse.ts';
import { LOAD_KINDS } from '../tools/stress-ng/command.ts';
import type { Figure } from '../verdict/limits.ts';
import { buildLatencyFigures, LATENCY_METRICS, type LocatedSummary } from './latency-figures.ts';
import { startLoad } from './load.ts';

const WHERE = 'testcases/testcases.yaml';
const ARGS_PATH = ['device_interrupt', 'run', 'args'];
export const LAB_DEVICE = 'veth (no hardware interrupt; software timestamps)';

const cpuList = z.union([z.string(), z.array(z.number().int().min(0))]).transform((v, ctx) => {
  const parsed = tryParseCpuList(v);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.cpus;
});

const argsSchema = z.strictObject({
  duration_s: z.number().positive().max(86_400).default(60),
  period_us: z.number().int().min(10).max(1_000_000).default(1000),
  priority: z.number().int().min(1).max(99).default(95),
  generator_priority: z.number().int().min(1).max(99).default(95),
  receiver_cpu: z.number().int().min(0).optional(),
  generator_cpu: z.number().int().min(0).optional(),
  receiver_node: z.string().min(1).optional(),
  generator_node: z.string().min(1).optional(),
  guest_port: z.string().min(1).optional(),
  dest: z.string().refine((v) => isIP(v) !== 0, { message: 'expected a numeric IPv4 or IPv6 address' }).optional(),
  udp_port: z.number().int().min(0).max(65_535).default(47_900),
  clock_domain: z.enum(['same-host', 'ptp', 'unsynchronised']).optional(),
  clock_offset_ns: z.number().int().optional(),
  late_us: z.number().positive().optional(),
  hw_timestamps: z.boolean().default(false),
  device: z.string().min(1).optional(),
  load: z.enum(LOAD_KINDS).default('idle'),
  load_node: z.string().default('host'),
  load_cpus: cpuList.optional(),
  skip_seq: z.array(z.number().int().min(1)).min(1).max(1024).optional(),
});

export type DeviceInterruptArgs = z.output<typeof argsSchema>;

// The catalogue's run.args are input like any other: a typo must be exit 2, not a default.
export function parseDeviceInterruptArgs(args: unknown, where = WHERE): DeviceInterruptArgs {
  const parsed = argsSchema.safeParse(args);
  if (!parsed.success) throw new ConfigError(where, buildConfigIssues(parsed.error.issues, { input: args, pathPrefix: ARGS_PATH }));
  const a = parsed.data;
  const issues: ConfigIssue[] = [];
  if (a.clock_domain === 'ptp' && a.clock_offset_ns === undefined) {
    issues.push({ path: `${ARGS_PATH.join('.')}.clock_offset_ns`, message: 'missing; clock_domain ptp needs the measured residual offset in ns (receiver clock minus sender clock; 0 if phc2sys reports none)' });
  }
  if (a.clock_domain !== 'ptp' && a.clock_offset_ns !== undefined) {
    issues.push({ path: `${ARGS_PATH.join('.')}.clock_offset_ns`, message: `expected only with clock_domain ptp, got it with ${a.clock_domain ?? 'the default clock domain'}` });
  }
  if (issues.length > 0) throw new ConfigError(where, issues);
  return a;
}

export interface DeviceInterruptPlan {
  receiver: PodNode;
  generator: PodNode;
  /** The guest's data address the frames go to; the receiver binds it. */
  dest: string;
  guestPort: DataPort | undefined;
  /** The generator's interface on the link to the guest, when the pod names it. */
  generatorIface: string | undefined;
  receiverCpu: number | undefined;
  generatorCpu: number | undefined;
  clockDomain: ClockDomain;
  clockOffsetNs: number | undefined;
  /** Label of what raises the interrupts, before the timestamp kind is known. */
  device: string;
}

export type PlanResult = { plan: DeviceInterruptPlan } | { skip: string };

function configError(field: string, message: string): ConfigError {
  return new ConfigError(WHERE, [{ path: `${ARGS_PATH.join('.')}.${field}`, message }]);
}

function pickNode(pod: Pod, name: string | undefined, roles: PodNode['role'][], field: string): PodNode | undefined {
  if (name !== undefined) {
    const node = pod.nodes.find((n) => n.name === name);
    if (!node) throw configError(field, `no node "${name}" in pod ${pod.name}; expected one of ${pod.nodes.map((n) => n.name).join(', ')}`);
    return node;
  }
  for (const role of roles) {
    const node = pod.nodes.find((n) => n.role === role);
    if (node) return node;
  }
  return undefined;
}

function addressOf(node: PodNode, port: DataPort): string | undefined {
  const all = node.extra.port_addresses;
  const cidr = all && typeof all === 'object' ? (all as Record<string, unknown>)[port.name] : undefined;
  const ip = typeof cidr === 'string' ? cidr.replace(/\/\d+$/, '') : undefined;
  return ip && isIP(ip) ? ip : undefined;
}

// Nodes, destination and clock case from the pod; a pod that cannot host the test is a skip.
export function planDeviceInterrupt(pod: Pod, args: DeviceInterruptArgs): PlanResult {
  const receiver = pickNode(pod, args.receiver_node, ['guest'], 'receiver_node');
  if (!receiver) return { skip: `pod ${pod.name} has no guest node to receive the interrupts` };
  const generator = pickNode(pod, args.generator_node, ['tgen', 'host'], 'generator_node');
  if (!generator) return { skip: `pod ${pod.name} has no tgen or host node to raise the interrupts` };
  if (generator === receiver) throw configError('generator_node', `expected a node other than the receiver ${receiver.name}`);

  // A guest port cabled to the generator: the named one, else `gi`, else the first with an address.
  const peered = receiver.ports.filter((p) => p.peer?.split(':')[0] === generator.name);
  let guestPort: DataPort | undefined;
  if (args.guest_port !== undefined) {
    guestPort = receiver.ports.find((p) => p.name === args.guest_port);
    if (!guestPort) throw configError('guest_port', `no port "${args.guest_port}" on node ${receiver.name}; expected one of ${receiver.ports.map((p) => p.name).join(', ') || '(none)'}`);
  } else {
    guestPort = peered.find((p) => p.name === 'gi') ?? peered.find((p) => addressOf(receiver, p) !== undefined);
  }
  const dest = args.dest ?? (guestPort ? addressOf(receiver, guestPort) : undefined);
  if (!dest) {
    const which = guestPort ? `port ${guestPort.name} of ${receiver.name} has no address in extra.port_addresses` : `no port of ${receiver.name} is cabled to ${generator.name} (ports[].peer) with an address in extra.port_addresses`;
    throw configError('dest', `missing; ${which}: give the guest's data address as dest (and guest_port)`);
  }
  if (args.hw_timestamps && !guestPort?.interface) {
    throw configError('hw_timestamps', `expected a guest port with an interface name for NIC timestamps, got ${guestPort ? `port ${guestPort.name} without one` : 'no port (dest only)'}; set guest_port`);
  }
  const peerPortName = guestPort?.peer?.split(':')[0] === generator.name ? guestPort.peer.split(':')[1] : undefined;
  const generatorIface = generator.ports.find((p) => p.name === peerPortName)?.interface;

  // On the lab every node is one kernel, so the receiver's RT CPU is also the generator's: keep them apart.
  const generatorCpu = args.generator_cpu ?? (pod.lab ? generator.housekeepingCpus[0] : (generator.rtCpus[0] ?? generator.housekeepingCpus[0]));
  const clockDomain: ClockDomain = args.clock_domain ?? (pod.lab ? 'same-host' : 'unsynchronised');
  if (clockDomain === 'same-host' && !pod.lab) {
    throw configError('clock_domain', `same-host holds only when sender and receiver share one kernel (the lab); ${generator.name} and the guest ${receiver.name} do not: use ptp with clock_offset_ns, or unsynchronised`);
  }
  const portLabel = guestPort ? `port ${guestPort.name}${guestPort.interface ? ` (${guestPort.interface}${guestPort.pci ? ` ${guestPort.pci}` : ''})` : ''}` : `address ${dest}`;
  return {
    plan: {
      receiver,
      generator,
      dest,
      guestPort,
      generatorIface,
      receiverCpu: args.receiver_cpu ?? receiver.rtCpus[0],
      generatorCpu,
      clockDomain,
      clockOffsetNs: args.clock_offset_ns,
      device: pod.lab ? LAB_DEVICE : (args.device ?? `NIC ${portLabel} of ${receiver.name}`),
    },
  };
}

export interface DeviceInterruptMeasurement {
  receiverNode: string;
  generatorNode: string;
  durationS: number;
  load: string;
  details: DeviceInterruptDetails;
}

const tail = (text: string) => text.trim().split('\n').slice(-3).join(' | ');

/** Runs the measurement once; raw outputs are written before anything is parsed or judged. */
export async function measureDeviceInterrupt(ctx: CaseContext, plan: DeviceInterruptPlan, args: DeviceInterruptArgs): Promise<DeviceInterruptMeasurement> {
  const durationS = ctx.durationOverrideS ?? args.duration_s;
  const count = Math.floor((durationS * 1e6) / args.period_us);
  if (count < 1) throw configError('duration_s', `expected at least one period (${args.period_us} us), got ${durationS} s`);
  const beyond = (args.skip_seq ?? []).filter((s) => s > count);
  if (beyond.length > 0) throw configError('skip_seq', `expected seqs within 1..${count} (${durationS} s at ${args.period_us} us), got ${beyond.join(', ')}`);
  const { receiver, generator } = plan;
  const [rs, gs] = [await ctx.session(receiver), await ctx.session(generator)];
  const recvAgent = await ensureAgent(rs, 'kfn-irqrecv', { dryRun: ctx.dryRun, cacheDirs: resolveAgentCacheDirs(ctx.pod, receiver) });
  const genAgent = await ensureAgent(gs, 'kfn-irqgen', { dryRun: ctx.dryRun, cacheDirs: resolveAgentCacheDirs(ctx.pod, generator) });
  for (const [s, agent, name] of [[rs, recvAgent, 'kfn-irqrecv'], [gs, genAgent, 'kfn-irqgen']] as const) {
    const v = await s.exec([agent.binaryPath, '--version'], { reject: false, label: `${name} version` });
    ctx.recordToolVersion(s.node.name, name, v.stdout.trim().split(' ')[1] ?? 'unknown');
  }

  const streamId = buildStreamId(ctx.runId);
  // A deadline of its own, so a receiver whose stop never comes still ends and prints.
  const safetyS = Math.ceil(durationS * 1.5 + 120);
  const recvCommand = buildIrqRecvCommand({
    binary: recvAgent.binaryPath,
    port: args.udp_port,
    bind: plan.dest,
    streamId,
    clockDomain: plan.clockDomain,
    ...(plan.clockOffsetNs !== undefined ? { clockOffsetNs: plan.clockOffsetNs } : {}),
    ...(args.late_us !== undefined ? { lateNs: Math.round(args.late_us * 1000) } : {}),
    expect: count,
    durationS: safetyS,
    ...(plan.receiverCpu !== undefined ? { cpu: plan.receiverCpu } : {}),
    priority: args.priority,
    ...(args.hw_timestamps && plan.guestPort?.interface ? { hwTimestampsIface: plan.guestPort.interface } : {}),
  });
  const load = await startLoad(ctx, { kind: args.load, node: args.load_node, cpus: args.load_cpus }, durationS + 60);

  let receiverStarted: Awaited<ReturnType<NodeSession['startDetached']>> | undefined;
  let receiverOutcome: DetachedOutcome | undefined;
  const stopReceiver = async () => {
    if (receiverStarted && !receiverOutcome) receiverOutcome = await rs.stopDetached(receiverStarted, { signal: 'INT', graceMs: 5_000 });
    return receiverOutcome as DetachedOutcome;
  };
  ctx.cleanup.push(`stop kfn-irqrecv on ${receiver.name}`, async () => void (await stopReceiver()));
  receiverStarted = await rs.startDetached({ name: 'kfn-irqrecv', command: recvCommand.argv, label: 'kfn-irqrecv' });
  const ready = await rs.exec({ script: buildReadyWaitScript(receiverStarted) }, { reject: false, timeoutMs: 30_000, label: 'wait for kfn-irqrecv ready' });
  const readyLine = parseIrqRecvReadyLine(ready.stdout);
  if (!readyLine && !ctx.dryRun) {
    const out = await stopReceiver();
    await load.stop();
    await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stderr`, out.stderr);
    await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stdout`, out.stdout);
    throw new MeasurementError(`kfn-irqrecv on ${receiver.name} never printed its ready line (exit code ${out.exitCode ?? 'none'}): ${tail(out.stderr || ready.stdout) || 'no output'}`);
  }

  const genCommand = buildIrqGenCommand({
    binary: genAgent.binaryPath,
    dest: plan.dest,
    port: readyLine?.port || args.udp_port || 47_900,
    periodNs: args.period_us * 1000,
    count,
    streamId,
    ...(plan.generatorIface !== undefined ? { iface: plan.generatorIface } : {}),
    ...(plan.generatorCpu !== undefined ? { cpu: plan.generatorCpu } : {}),
    priority: args.generator_priority,
    ...(args.skip_seq ? { skipSeqs: args.skip_seq } : {}),
  });
  const genOutcome = await runDetachedMeasurement(ctx, gs, { name: 'kfn-irqgen', command: genCommand.argv, durationS, label: 'kfn-irqgen' });
  // Frames and end frames still in flight land before the receiver is told to stop.
  await new Promise((resolve) => setTimeout(resolve, ctx.dryRun ? 0 : 300));
  const recvOutcome = await stopReceiver();
  await load.stop();
  if (ctx.dryRun) throw new DryRunStop();

  await ctx.writeRaw(`${generator.name}/kfn-irqgen.stdout`, genOutcome.stdout);
  await ctx.writeRaw(`${generator.name}/kfn-irqgen.stderr`, genOutcome.stderr);
  await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stdout`, recvOutcome.stdout);
  await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stderr`, recvOutcome.stderr);
  requireCompleteMeasurement(genOutcome, `kfn-irqgen on ${generator.name}`);
  if (recvOutcome.exitCode !== 0) throw new MeasurementError(`kfn-irqrecv on ${receiver.name} exited with ${recvOutcome.exitCode ?? 'no exit code'}: ${tail(recvOutcome.stderr)}`);

  const gen = parseIrqGenSummary(genOutcome.stdout, { source: `${generator.name}:kfn-irqgen stdout` });
  const recv = parseIrqRecvSummary(recvOutcome.stdout, { source: `${receiver.name}:kfn-irqrecv stdout` });
  const device = buildDeviceLabel(plan, ctx.pod.lab, recv.rxTimestamp);
  const details = buildDeviceInterruptDetails({ gen, recv, device });
  const measurement: DeviceInterruptMeasurement = { receiverNode: receiver.name, generatorNode: generator.name, durationS, load: load.description, details };
  ctx.recordDetails(receiver.name, { ...details, generator_node: generator.name, duration_s: durationS, load: load.description, commands: { receiver: recvCommand.escapedCommand, generator: genCommand.escapedCommand } });

  const issues = checkIrqPairing(gen, recv);
  if (issues.length > 0) throw new MeasurementError(`kfn-irqgen and kfn-irqrecv disagree: ${issues.join('; ')}`);
  if (recv.frames.unique === 0) {
    throw new MeasurementError(`no frame from ${generator.name} reached kfn-irqrecv on ${receiver.name} (${gen.framesSent} sent to ${plan.dest}:${gen.port}${gen.lastSendError ? `, last send error: ${gen.lastSendError}` : ''}); check the route and any firewall`);
  }
  return measurement;
}

function buildDeviceLabel(plan: DeviceInterruptPlan, lab: boolean, kind: 'software' | 'hardware'): string {
  return lab ? plan.device : `${plan.device}; ${kind} receive timestamps`;
}

const FIGURES = ['wire_to_handler', 'receive_to_handler', 'pacing_error'] as const;
/** Count metrics; `missed` leaves out frames withheld on purpose (skip_seq), which raised no interrupt. */
const COUNTS = ['missed', 'late', 'duplicate', 'out_of_order', 'stray', 'send_errors'] as const;

/** Metric names a threshold profile may use for device_interrupt (documented in testcases/thresholds/*.yaml). */
export const DEVICE_INTERRUPT_METRICS: string[] = [...FIGURES.flatMap((f) => LATENCY_METRICS.map((m) => `${f}_${m}`)), ...COUNTS];

// Each metric as the figure a limit is judged on; a figure not computed is null with its reason, never a pass.
export function buildDeviceInterruptFigures(metric: string, m: DeviceInterruptMeasurement): Figure[] {
  const d = m.details;
  const path = `${m.generatorNode} -> ${m.receiverNode}`;
  const figure = FIGURES.find((f) => metric.startsWith(`${f}_`) && (LATENCY_METRICS as readonly string[]).includes(metric.slice(f.length + 1)));
  if (figure) {
    const where = figure === 'pacing_error' ? `${m.generatorNode} kfn-irqgen pacing` : `${path} ${figure}`;
    const { summary, reason } = d[figure];
    if (!summary) return [{ value: null, unit: 'ns', where, note: reason ?? 'not computed' }];
    return buildLatencyFigures(metric.slice(figure.length + 1), [{ where, summary }]);
  }
  if ((COUNTS as readonly string[]).includes(metric)) {
    const value = d.counts[metric as (typeof COUNTS)[number]];
    return [value === null ? { value, unit: 'count', where: path, note: d.clock_case.reason ?? `${metric} not computed` } : { value, unit: 'count', where: path }];
  }
  return [{ value: null, unit: 'count', where: path, note: `unknown metric ${metric}; expected one of ${DEVICE_INTERRUPT_METRICS.join(', ')}` }];
}

// Known before anything runs: under a declared `unsynchronised` clock case these figures do not exist.
export function explainWithheldLimit(metric: string, plan: Pick<DeviceInterruptPlan, 'clockDomain'>): string | undefined {
  if (plan.clockDomain !== 'unsynchronised' || !(metric.startsWith('wire_to_handler_') || metric === 'late')) return undefined;
  return `${metric} needs the generator's and the guest's clocks in one domain; clock_domain is unsynchronised, so wire-to-handler is not computed (set clock_domain: ptp with clock_offset_ns to measure it)`;
}

// The same context with only the given limits, for declaring one limit test at a time.
export function withLimits(ctx: CaseContext, limits: ReturnType<CaseContext['limitsFor']>): CaseContext {
  return new Proxy(ctx, {
    get(target, key) {
      if (key === 'limitsFor') return () => limits;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Properties, Measurement-Plots figures and table rows for the JUnit `measured` test. */
export function buildDeviceInterruptReport(m: DeviceInterruptMeasurement): {
  properties: Record<string, string | number | boolean>;
  measurements: Record<string, number>;
  rows: LocatedSummary[];
  notes: string[];
} {
  const d = m.details;
  const c = d.counts;
  const rows: LocatedSummary[] = [];
  for (const f of FIGURES) {
    const summary = d[f].summary;
    if (summary) rows.push({ where: f === 'pacing_error' ? `${m.generatorNode} pacing_error` : `${m.receiverNode} ${f}`, summary });
  }
  // Few and most important first: Jenkins keeps only the ends of a passing test's output.
  const measurements: Record<string, number> = {};
  for (const [f, keys] of [['wire_to_handler', ['p99', 'max', 'p50']], ['receive_to_handler', ['p99', 'max', 'p50']], ['pacing_error', ['p99', 'max']]] as const) {
    const summary = d[f].summary;
    for (const k of keys) if (summary && summary[k] !== null) measurements[`${f}_${k}_ns`] = summary[k];
  }
  for (const key of ['missed', 'late', 'sent', 'received'] as const) {
    const v = c[key];
    if (v !== null) measurements[key] = v;
  }
  const properties = {
    device: d.device,
    clock_case: d.clock_case.domain,
    timestamp_kind: d.timestamp_kind,
    generator: m.generatorNode,
    receiver: m.receiverNode,
    period_us: d.period_ns / 1000,
    duration_s: m.durationS,
    load: m.load,
    kfn_irqrecv: d.receiver.version,
    kfn_irqgen: d.generator.version,
    ...measurements,
    withheld: c.withheld,
    missed_seqs: c.missed_seqs,
  };
  const notes = [
    `device: ${d.device}; clock case: ${d.clock_case.domain}${d.clock_case.domain === 'ptp' ? ` (offset ${d.clock_case.offset_ns} ns)` : ''}; receive timestamps: ${d.timestamp_kind}`,
    `frames: ${c.sequence_numbers} seqs, ${c.sent} sent, ${c.withheld} withheld, ${c.received} received, ${c.missed} missed, late ${c.late ?? '-'} (over ${d.late_ns ?? '-'} ns), duplicate ${c.duplicate}, out of order ${c.out_of_order}, stray ${c.stray}`,
    ...(d.wire_to_handler.summary ? [] : [`wire_to_handler: not computed: ${d.wire_to_handler.reason}`]),
    ...(c.withheld > 0 ? [`self-check: ${c.withheld} frame(s) withheld, ${c.missed_seqs} seqs missed at the receiver: ${c.missed_seqs === c.withheld ? 'exactly one per withheld frame' : `${c.missed} more than withheld`}`] : []),
  ];
  return { properties, measurements, rows, notes };
}
