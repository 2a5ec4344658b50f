// The diagnostic pass of each latency tool, run after a measurement whose max broke an assert
// limit (lib/cases/breach-trace.ts), and what its trace says:
// - timer: cyclictest again with -b <limit>, which ends the pass at the first breach, so the trace
//   stops right after it; the breaking thread's late wakeup is read from the trace (wakeup mode);
// - oslat: oslat again for the pass (its --trace-threshold would stop the global buffer); the
//   longest time an oslat thread lost its CPU in the trace is read (preemption mode).
// A guest's pass also traces its RT vCPUs' host CPUs, where the harness launched it and so knows
// the vCPU threads (results.json nodes.<guest>.launch): what kept the vCPU thread off its CPU.
// A diagnosis never throws: whatever goes wrong becomes its text, and the verdict stands.
import type { PodNode } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import type { LatencySummary } from '../results/model.ts';
import { buildCyclictestCommand } from '../tools/cyclictest/command.ts';
import { parseCyclictestHistogramText } from '../tools/cyclictest/parse-text.ts';
import { cutTraceText, isRealtimePrio, type TraceText } from '../tools/ftrace/parse.ts';
import { summarizePreemption, summarizeWakeupBreach, type BreachSummary } from '../tools/ftrace/summarize.ts';
import { buildCpuTimeline } from '../tools/ftrace/timeline.ts';
import type { OslatCommand } from '../tools/oslat/command.ts';
import { parseOslatOutput } from '../tools/oslat/parse.ts';
import { findBrokenMaxLimit, readTracePolicy, runTracedPass, startCompanionTrace, type BrokenLimit, type CompanionTrace, type TracedPass, type TraceSetup } from './breach-trace.ts';

export interface BreachDiagnosis {
  /** The limit the measurement broke, e.g. `max ≤ 250 ms (assert)`. */
  limit: string;
  pass: { command: string; boundS: number; recurred: boolean; note: string };
  tracing?: TraceSetup;
  summary?: BreachSummary;
  host?: { node: string; cpu?: number; vcpuThread?: number; summary?: BreachSummary; reason?: string };
  /** Raw outputs with the last milliseconds of the trace, relative to the run folder. */
  traceFiles: string[];
  /** Everything in one paragraph: the JUnit failure message and the console show it. */
  text: string;
}

interface HostSide {
  companion?: CompanionTrace;
  reason?: string;
  launch?: NonNullable<ReturnType<NonNullable<CaseContext['nodeInfo']>>>['launch'];
}

async function startHostSide(ctx: CaseContext, guest: PodNode, boundS: number): Promise<HostSide> {
  if (guest.role !== 'guest') return {};
  if (!readTracePolicy(ctx).hostTrace) return { reason: 'host_trace is off in the profile' };
  const launch = ctx.nodeInfo?.(guest.name)?.launch;
  if (!launch) return { reason: `the host side needs ${guest.name}'s vCPU threads, known only for a guest the harness launched (pod.yaml launch:)` };
  const host = ctx.pod.nodes.find((n) => n.name === launch.hostNode);
  const cpus = [...new Set(launch.vcpus.filter((v) => v.rt).flatMap((v) => v.hostCpus))].sort((a, b) => a - b);
  if (!host || cpus.length === 0) return { reason: `no host node ${launch.hostNode} or no RT vCPU pinned to a host CPU`, launch };
  try {
    return { companion: await startCompanionTrace(ctx, host, `${guest.name}-host`, cpus, boundS + 120), launch };
  } catch (error) {
    return { reason: `the host's trace could not start: ${describeError(error)}`, launch };
  }
}

// The host's view of the guest CPU that broke: the longest time its vCPU thread waited for its
// CPU. Undefined for a node that is not a guest; the host's trace is stopped whatever happened.
async function readHostSide(ctx: CaseContext, guest: PodNode, side: HostSide, guestCpu: number | undefined): Promise<{ host: BreachDiagnosis['host']; file?: string } | undefined> {
  if (!side.companion && !side.reason) return undefined;
  const node = side.companion?.node.name ?? side.launch?.hostNode ?? 'host';
  const stopped = side.companion ? await side.companion.stop().catch((e: unknown): { problem: string; trace?: TraceText } => ({ problem: describeError(e) })) : undefined;
  if (side.reason) return { host: { node, reason: side.reason } };
  const vcpu = side.launch?.vcpus.find((v) => v.index === guestCpu);
  if (!vcpu || guestCpu === undefined) return { host: { node, reason: guestCpu === undefined ? 'the guest\'s pass named no breaking CPU' : `no launched vCPU is guest CPU ${guestCpu}` } };
  const cpu = vcpu.hostCpus[0] as number;
  const where = { node, cpu, vcpuThread: vcpu.tid };
  if (!stopped?.trace) return { host: { ...where, reason: stopped?.problem ?? 'no host trace' } };
  try {
    const summary = summarizePreemption(stopped.trace, { cpu, pids: [vcpu.tid] });
    const file = await writeTrace(ctx, `${guest.name}/trace-breach-host-cpu${cpu}.txt`, cutTraceText(stopped.trace, summary.window.startUs - contextUs(summary), `${node} CPU ${cpu}, vCPU ${vcpu.index} thread ${vcpu.tid} of ${guest.name}`));
    return { host: { ...where, summary }, file };
  } catch (error) {
    return { host: { ...where, reason: describeError(error) } };
  }
}

/** Writes a raw output; returns its path relative to the run folder, as rawOutputs lists it. */
async function writeTrace(ctx: CaseContext, path: string, text: string): Promise<string> {
  await ctx.writeRaw(path, text);
  return `${ctx.caseName}/${path}`;
}

function contextUs(s: BreachSummary): number {
  return Math.max(1000, s.window.endUs - s.window.startUs);
}

function compose(d: Omit<BreachDiagnosis, 'text'>, problem?: string, limitUs?: number): BreachDiagnosis {
  const tool = d.pass.command.split(' ')[0]?.split('/').pop();
  const parts = [`Trace at the breach: ${d.summary ? d.summary.text : `no summary (${problem ?? 'the breach did not come back'}).`}`];
  parts.push(`(Diagnostic pass after ${d.limit} broke: ${tool} for up to ${d.pass.boundS} s, ${d.pass.note}.)`);
  if (d.summary && limitUs !== undefined && d.summary.latencyUs < limitUs) {
    parts.push(`The longest delay the trace kept is below the limit: the ring buffer kept only the end of the pass, or the delay left no event on this CPU (an SMI, the hypervisor).`);
  }
  if (d.host?.summary) parts.push(`On host ${d.host.node}, for vCPU thread ${d.host.vcpuThread}: ${d.host.summary.text}`);
  else if (d.host?.reason) parts.push(`Host side not traced: ${d.host.reason}.`);
  return { ...d, text: parts.join(' ') };
}

async function diagnose(
  ctx: CaseContext,
  node: PodNode,
  broken: BrokenLimit,
  pass: { label: string; argv: string[]; cpus: number[]; boundS: number; read: (p: TracedPass) => { recurred: boolean; note: string; cpu?: number; summarize?: (t: TraceText) => BreachSummary } },
): Promise<BreachDiagnosis> {
  const base = { limit: broken.text, traceFiles: [] as string[] };
  const command = pass.argv.join(' ');
  const side = await startHostSide(ctx, node, pass.boundS);
  const hostOf = (side2: Awaited<ReturnType<typeof readHostSide>>) => (side2?.host ? { host: side2.host } : {});
  let traced: TracedPass;
  try {
    traced = await runTracedPass(ctx, node, { tag: node.name, label: pass.label, argv: pass.argv, cpus: pass.cpus, durationS: pass.boundS });
  } catch (error) {
    const seen = await readHostSide(ctx, node, side, undefined);
    return compose({ ...base, pass: { command, boundS: pass.boundS, recurred: false, note: 'it could not run' }, ...hostOf(seen) }, describeError(error));
  }
  let read: ReturnType<typeof pass.read>;
  try {
    read = pass.read(traced);
  } catch (error) {
    const seen = await readHostSide(ctx, node, side, undefined);
    const why = traced.outcome.exitCode === 3 ? `tracing could not start: ${traced.outcome.stderr.trim().split('\n').slice(-2).join(' | ')}` : describeError(error);
    return compose({ ...base, pass: { command, boundS: pass.boundS, recurred: false, note: 'its output could not be read' }, tracing: traced.setup, ...hostOf(seen) }, why);
  }
  const seen = await readHostSide(ctx, node, side, read.recurred ? read.cpu : undefined);
  const d: Omit<BreachDiagnosis, 'text'> = { ...base, pass: { command, boundS: pass.boundS, recurred: read.recurred, note: read.note }, tracing: traced.setup, ...hostOf(seen) };
  if (seen?.file) d.traceFiles.push(seen.file);
  // A pass without a breach leaves no trace file: there is nothing to explain in it.
  if (!read.recurred || !read.summarize) return compose(d, read.recurred ? 'the pass output names no breaking CPU' : undefined);
  if (!traced.trace) return compose(d, traced.traceProblem ?? 'no trace');
  try {
    const summary = read.summarize(traced.trace);
    d.summary = summary;
    d.traceFiles.unshift(await writeTrace(ctx, `${node.name}/trace-breach.txt`, cutTraceText(traced.trace, summary.window.startUs - contextUs(summary), `${node.name} CPU ${summary.cpu}, the last milliseconds of the diagnostic pass's trace`)));
    return compose(d, undefined, broken.limitUs);
  } catch (error) {
    return compose(d, describeError(error));
  }
}

/** Timer: after a breach, cyclictest -b <limit> on the same CPUs, traced; undefined when nothing broke or tracing is off. */
export async function traceTimerBreach(
  ctx: CaseContext,
  node: PodNode,
  m: { binary: string; mainCpu: number; intervalUs: number; priority: number; histogramUs: number; overall: LatencySummary },
): Promise<BreachDiagnosis | undefined> {
  const broken = findBrokenMaxLimit(ctx, node, m.overall);
  if (!broken || ctx.signal.aborted) return undefined;
  const boundS = readTracePolicy(ctx).passS;
  const session = await ctx.session(node);
  const breakUs = Math.max(1, Math.floor(broken.limitUs));
  const command = buildCyclictestCommand({ binary: m.binary, rtCpus: node.rtCpus, mainCpu: m.mainCpu, durationS: boundS, intervalUs: m.intervalUs, priority: m.priority, histogramUs: m.histogramUs, breakUs, jsonPath: `${session.runDir}/cyclictest-${node.name}-pass.json` });
  return diagnose(ctx, node, broken, {
    label: 'cyclictest -b (diagnostic pass)',
    argv: command.argv,
    cpus: command.threadCpus,
    boundS,
    read: (p) => {
      const text = parseCyclictestHistogramText(p.commandStdout);
      if (text.breakThreadId === null || text.breakThread === null || text.breakValue === null) return { recurred: false, note: `the breach did not recur (no sample above ${breakUs} us)` };
      const cpu = command.threadCpus[text.breakThread] as number;
      const pid = text.breakThreadId;
      const breakUsSeen = text.breakValue;
      return { recurred: true, cpu, note: `thread ${text.breakThread} on CPU ${cpu} broke at ${breakUsSeen} us`, summarize: (t) => summarizeWakeupBreach(t, { cpu, pid, breakUs: breakUsSeen }) };
    },
  });
}

// The polling threads on a CPU are the tasks named oslat that ran there at a real-time priority
// (--rtprio); the main thread starts there too before it moves to its housekeeping CPU.
export function findOslatThreads(trace: TraceText, cpu: number): number[] {
  const named = buildCpuTimeline(trace.events, cpu).slices.filter((s) => s.comm === 'oslat');
  const polling = named.filter((s) => isRealtimePrio(s.prio));
  return [...new Set((polling.length > 0 ? polling : named).map((s) => s.pid))];
}

/** oslat: after a breach, oslat again for the pass, traced; the longest interruption of its threads is read. */
export async function traceOslatBreach(ctx: CaseContext, node: PodNode, m: { command: OslatCommand; overall: LatencySummary; durationS: number }): Promise<BreachDiagnosis | undefined> {
  const broken = findBrokenMaxLimit(ctx, node, m.overall);
  if (!broken || ctx.signal.aborted) return undefined;
  const boundS = readTracePolicy(ctx).passS;
  const at = m.command.argv.indexOf('--duration');
  const argv = m.command.argv.map((a, i) => (i === at + 1 ? String(boundS) : a));
  return diagnose(ctx, node, broken, {
    label: 'oslat (diagnostic pass)',
    argv,
    cpus: m.command.threadCpus,
    boundS: boundS + 1,
    read: (p) => {
      const out = parseOslatOutput(p.commandStdout);
      const worst = out.threads.reduce((w, t) => (t.maxUs > w.maxUs ? t : w));
      if (worst.maxUs <= broken.limitUs) return { recurred: false, note: `the breach did not recur (oslat's max in the pass: ${worst.maxUs} us)` };
      return {
        recurred: true,
        cpu: worst.cpu,
        note: `oslat's max in the pass was ${worst.maxUs} us on CPU ${worst.cpu}`,
        summarize: (t) => summarizePreemption(t, { cpu: worst.cpu, pids: findOslatThreads(t, worst.cpu) }),
      };
    },
  });
}
