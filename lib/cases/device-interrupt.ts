// The Device Interrupt Test's procedure: kfn-irqgen on the traffic generator sends one frame
// per period to the guest's data port, each arrival raises the interrupt kfn-irqrecv measures
// in the guest. Plan (nodes, destination, clock case) from the pod and the case args; then
// provision, start the receiver, wait until it is ready, run the generator, stop both, keep
// every raw output and parse. The suite file only declares nodes and assertions.
import { MeasurementError } from '../errors.ts';
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
import type { Figure } from '../verdict/limits.ts';
import { buildLatencyFigures, LATENCY_METRICS, type LocatedSummary } from './latency-figures.ts';
import { startLoad } from './load.ts';
import { configError, LAB_DEVICE, type DeviceInterruptArgs, type DeviceInterruptPlan } from './device-interrupt-plan.ts';


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
  const [recvAgent, genAgent] = await ctx.phase('build', async () => [
    await ensureAgent(rs, 'kfn-irqrecv', { dryRun: ctx.dryRun, cacheDirs: resolveAgentCacheDirs(ctx.pod, receiver) }),
    await ensureAgent(gs, 'kfn-irqgen', { dryRun: ctx.dryRun, cacheDirs: resolveAgentCacheDirs(ctx.pod, generator) }),
  ]);
  for (const [s, agent, name] of [[rs, recvAgent, 'kfn-irqrecv'], [gs, genAgent, 'kfn-irqgen']] as const) {
    const v = await ctx.phase('provision', () => s.exec([agent.binaryPath, '--version'], { reject: false, label: `${name} version` }));
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
  const load = await ctx.phase('provision', () => startLoad(ctx, { kind: args.load, node: args.load_node, cpus: args.load_cpus, beside: receiver.name }, durationS + 60));
  // Named by the receiver: a generator shared by several compute groups runs once per guest in one run.
  const [recvName, genName] = [`kfn-irqrecv-${receiver.name}`, `kfn-irqgen-${receiver.name}`];

  let receiverStarted: Awaited<ReturnType<NodeSession['startDetached']>> | undefined;
  let receiverOutcome: DetachedOutcome | undefined;
  const stopReceiver = async () => {
    if (receiverStarted && !receiverOutcome) {
      receiverOutcome = await rs.stopDetached(receiverStarted, { signal: 'INT', graceMs: 5_000 });
      if (receiverOutcome.window) ctx.recordWindow(receiver.name, 'kfn-irqrecv', receiverOutcome.window);
    }
    return receiverOutcome as DetachedOutcome;
  };
  ctx.cleanup.push(`stop kfn-irqrecv on ${receiver.name}`, async () => void (await stopReceiver()));
  const ready = await ctx.phase('measure', async () => {
    receiverStarted = await rs.startDetached({ name: recvName, command: recvCommand.argv, label: 'kfn-irqrecv' });
    return rs.exec({ script: buildReadyWaitScript(receiverStarted) }, { reject: false, timeoutMs: 30_000, label: 'wait for kfn-irqrecv ready' });
  });
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
  const genOutcome = await runDetachedMeasurement(ctx, gs, { name: genName, command: genCommand.argv, durationS, label: 'kfn-irqgen' });
  const recvOutcome = await ctx.phase('collect', async () => {
    // Frames and end frames still in flight land before the receiver is told to stop.
    await new Promise((resolve) => setTimeout(resolve, ctx.dryRun ? 0 : 300));
    const out = await stopReceiver();
    await load.stop();
    if (ctx.dryRun) throw new DryRunStop();
    await ctx.writeRaw(`${generator.name}/${genName}.stdout`, genOutcome.stdout);
    await ctx.writeRaw(`${generator.name}/${genName}.stderr`, genOutcome.stderr);
    await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stdout`, out.stdout);
    await ctx.writeRaw(`${receiver.name}/kfn-irqrecv.stderr`, out.stderr);
    return out;
  });
  requireCompleteMeasurement(genOutcome, `kfn-irqgen on ${generator.name}`);
  if (recvOutcome.exitCode !== 0) throw new MeasurementError(`kfn-irqrecv on ${receiver.name} exited with ${recvOutcome.exitCode ?? 'no exit code'}: ${tail(recvOutcome.stderr)}`);

  const gen = parseIrqGenSummary(genOutcome.stdout, { source: `${generator.name}:kfn-irqgen stdout` });
  const recv = parseIrqRecvSummary(recvOutcome.stdout, { source: `${receiver.name}:kfn-irqrecv stdout` });
  const device = buildDeviceLabel(plan, ctx.pod.lab, recv.rxTimestamp);
  const details = buildDeviceInterruptDetails({ gen, recv, device });
  const measurement: DeviceInterruptMeasurement = { receiverNode: receiver.name, generatorNode: generator.name, durationS, load: load.description, details };
  const accelerator = ctx.accelerator(receiver);
  ctx.recordDetails(receiver.name, { ...details, ...(accelerator ? { accelerator } : {}), generator_node: generator.name, duration_s: durationS, load: load.description, commands: { receiver: recvCommand.escapedCommand, generator: genCommand.escapedCommand } });

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
