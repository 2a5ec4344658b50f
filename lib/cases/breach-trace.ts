// The trace at a breach, common to the latency cases. The measurement always runs its full length
// untraced and is judged as it is; only when its max broke an assert limit does the case run a
// separate, bounded diagnostic pass, traced in a tracefs instance of its own (kfn-trace, lib/tools/
// ftrace/script.ts), to catch the breach again and see what ran. The pass's figures are evidence,
// never figures: they stay out of the verdict, InfluxDB, the regression gate and the comparison.
import type { PodNode } from '../config/pod-model.ts';
import type { Limit } from '../config/thresholds.ts';
import { isTraceOnBreach, parseTraceOnBreachPolicy, type TraceOnBreachPolicy } from '../config/trace-on-breach.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { runDetachedMeasurement, type MeasurementOutcome } from '../harness/detached-measurement.ts';
import { buildShellCommand, quoteArg } from '../remote/quote.ts';
import type { DetachedProcess, NodeSession } from '../remote/types.ts';
import type { LatencySummary } from '../results/model.ts';
import { parseTraceText, type TraceText } from '../tools/ftrace/parse.ts';
import { buildInstanceRemovalScript, buildTraceScript, KVM_TRACE_EVENTS, parseTraceScriptOutput, TRACE_EVENTS } from '../tools/ftrace/script.ts';
import { registerUndo } from '../topology/undo.ts';
import { convert } from '../verdict/units.ts';
import { describeLimit, evaluateLimit } from '../verdict/limits.ts';
import { buildLatencyFigures } from './latency-figures.ts';

export interface BrokenLimit {
  limit: Limit;
  limitUs: number;
  /** e.g. `max ≤ 250 ms (assert)` */
  text: string;
}

/** What the tracing script reported about its setup. */
export type TraceSetup = ReturnType<typeof parseTraceScriptOutput>;

export interface TracedPass {
  outcome: MeasurementOutcome;
  /** Where the traced command's stdout went, read back. */
  commandStdout: string;
  trace: TraceText | undefined;
  /** Why there is no trace, when there is none. */
  traceProblem?: string;
  setup: TraceSetup;
}

const BUFFER_KB_PER_CPU = 8192;
const BUFFER_KB_TOTAL_CAP = 256 * 1024;

export function readTracePolicy(ctx: CaseContext): TraceOnBreachPolicy {
  return parseTraceOnBreachPolicy(ctx.thresholds.sections.trace_on_breach, ctx.thresholds.file);
}

/**
 * The smallest assert max limit the node's overall figures broke, when tracing at a breach is on
 * for this case; undefined otherwise (no breach, nothing to trace, or tracing off).
 */
export function findBrokenMaxLimit(ctx: CaseContext, node: PodNode, overall: LatencySummary): BrokenLimit | undefined {
  if (!isTraceOnBreach(readTracePolicy(ctx), ctx.caseName, ctx.traceOnBreach)) return undefined;
  const broken = ctx
    .limitsFor(node)
    .filter((l) => l.metric === 'max' && l.max !== undefined && l.action === 'assert')
    .filter((l) => evaluateLimit(l, buildLatencyFigures('max', [{ where: node.name, summary: overall }])).outcome === 'fail')
    .map((limit) => ({ limit, limitUs: convert(limit.max as number, limit.unit, 'us'), text: `${describeLimit(limit)} (${limit.action})` }))
    .sort((a, b) => a.limitUs - b.limitUs);
  return broken[0];
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '-');
}

// The script, uploaded, with the instance's removal recorded in the node's undo log first: the
// script removes it itself on every exit it lives through, the undo covers one it does not.
async function prepareTraceScript(session: NodeSession, ctx: CaseContext, tag: string, cpus: readonly number[], run: Parameters<typeof buildTraceScript>[0]['run'], kvm: boolean) {
  const s = traceScriptFor(session, ctx, tag, cpus, run, kvm);
  await registerUndo(ctx, { label: `remove the trace instance ${s.instance} on ${session.node.name}`, session, script: buildInstanceRemovalScript(s.instance) });
  await session.upload(s.script, s.paths.script, { mode: 0o755 });
  return s;
}

function traceScriptFor(session: NodeSession, ctx: CaseContext, tag: string, cpus: readonly number[], run: Parameters<typeof buildTraceScript>[0]['run'], kvm: boolean) {
  const name = safeName(`kfn-trace-${tag}`).slice(0, 60);
  const instance = safeName(`kfn-${ctx.runId}-${tag}`).slice(0, 60);
  const paths = { script: `${session.runDir}/${name}`, out: `${session.runDir}/${name}.trace`, ready: `${session.runDir}/${name}.ready` };
  const events = kvm ? [...TRACE_EVENTS, ...KVM_TRACE_EVENTS] : [...TRACE_EVENTS];
  const script = buildTraceScript({ instance, cpus, bufferKbPerCpu: BUFFER_KB_PER_CPU, bufferKbTotalCap: BUFFER_KB_TOTAL_CAP, events, outPath: paths.out, readyPath: paths.ready, run });
  return { name, instance, paths, script };
}

async function readTrace(session: NodeSession, path: string): Promise<{ trace?: TraceText; problem?: string }> {
  const text = await session.download(path).then(
    (b) => b.toString('utf8'),
    () => undefined,
  );
  if (text === undefined) return { problem: `the trace file ${path} was not written (tracing could not start, or the pass was stopped)` };
  try {
    return { trace: parseTraceText(text) };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Runs `argv` once on the node, traced on `cpus`; the trace stops the moment the command exits.
 * The command's own output goes to files of its own, read back into commandStdout.
 */
export async function runTracedPass(ctx: CaseContext, node: PodNode, pass: { tag: string; label: string; argv: readonly string[]; cpus: readonly number[]; durationS: number }): Promise<TracedPass> {
  const session = await ctx.session(node);
  const out = `${session.runDir}/${safeName(pass.tag)}-pass.out`;
  const command = `${buildShellCommand(pass.argv)} >${quoteArg(out)} 2>&1`;
  const s = await prepareTraceScript(session, ctx, pass.tag, pass.cpus, { command }, false);
  const outcome = await runDetachedMeasurement(ctx, session, { name: s.name, command: [s.paths.script], durationS: pass.durationS, label: pass.label });
  const commandStdout = await session.download(out).then((b) => b.toString('utf8'), () => '');
  const setup = parseTraceScriptOutput(outcome.stdout);
  const read = outcome.interrupted ? { problem: `the pass was stopped: ${outcome.interrupted}` } : await readTrace(session, s.paths.out);
  return { outcome, commandStdout, setup, trace: read.trace, ...(read.problem ? { traceProblem: `${read.problem}${outcome.stderr.trim() ? ` (${outcome.stderr.trim().split('\n').slice(-2).join(' | ')})` : ''}` } : {}) };
}

/** A trace of another node's CPUs running beside a pass, until stopped (a guest's host). */
export interface CompanionTrace {
  node: PodNode;
  stop(): Promise<{ trace?: TraceText; problem?: string; setup: TraceSetup }>;
}

export async function startCompanionTrace(ctx: CaseContext, node: PodNode, tag: string, cpus: readonly number[], maxS: number): Promise<CompanionTrace> {
  const session = await ctx.session(node);
  const stopFile = `${session.runDir}/${safeName(`kfn-trace-${tag}`)}.stop`;
  const s = await prepareTraceScript(session, ctx, tag, cpus, { stopFile, maxS }, true);
  let started: DetachedProcess | undefined;
  let done = false;
  const unregister = ctx.cleanup.push(`stop the trace of ${node.name}`, async () => {
    if (started && !done) await session.stopDetached(started, { signal: 'INT', graceMs: 10_000 });
  });
  started = await session.startDetached({ name: s.name, command: [s.paths.script], label: `trace ${node.name} CPUs ${cpus.join(',')}` });
  // Tracing must be on before the pass starts, or its first breach would go unseen.
  const ready = quoteArg(s.paths.ready);
  await session.exec({ script: `i=0; while [ ! -e ${ready} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${ready} ]` }, { reject: false, label: 'wait for tracing', timeoutMs: 20_000 });
  const process = started;
  return {
    node,
    async stop() {
      await session.exec(['touch', stopFile], { reject: false, label: 'stop tracing' });
      const outcome = await session.waitDetached(process, { timeoutMs: 60_000, stop: { signal: 'INT', graceMs: 10_000 } });
      done = true;
      unregister();
      const setup = parseTraceScriptOutput(outcome.stdout);
      const read = await readTrace(session, s.paths.out);
      return { ...read, setup };
    },
  };
}
