// The hwlatdetect case's procedure on one host: where the kernel has the hwlat tracer,
// hwlatdetect (wrapped in kfn-hwlat, which saves and restores the global tracing files it
// writes) runs for the configured duration on the host's RT CPUs; where it has not, the case
// says so and its tests are skipped with that reason, never passed.
import { z } from 'zod';
import type { PodNode } from '../config/pod-model.ts';
import { MeasurementError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { runDetachedMeasurement } from '../harness/detached-measurement.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { ensureTool, type ToolSpec } from '../provision/ensure-tool.ts';
import { buildHwlatdetectCommand, buildHwlatRestoreScript, buildHwlatWrapperScript, buildTracerProbeScript, HWLAT_WRAPPER_EXIT, parseTracerProbe } from '../tools/hwlatdetect/command.ts';
import { registerUndo } from '../topology/undo.ts';
import { parseHwlatdetectOutput, type HwlatdetectOutput } from '../tools/hwlatdetect/parse.ts';
import type { Figure } from '../verdict/limits.ts';
import { convert } from '../verdict/units.ts';
import { parseCaseArgs } from './case-args.ts';

export const HWLATDETECT_TOOL: ToolSpec = { binary: 'hwlatdetect', packages: { apt: 'rt-tests', dnf: 'realtime-tests', yum: 'rt-tests' } };

/** max: the largest gap (µs); samples_exceeding: gaps above the threshold (count). */
export const HWLATDETECT_METRICS = ['max', 'samples_exceeding'] as const;

const argsSchema = z
  .strictObject({
  duration_s: z.number().int().positive().default(60),
  threshold_us: z.number().int().min(1).default(10),
  window_us: z.number().int().min(2).default(1_000_000),
  width_us: z.number().int().min(1).default(500_000),
}).superRefine((a, c) => {
  if (a.width_us >= a.window_us) c.addIssue({ code: 'custom', path: ['width_us'], message: `expected a width below window_us (${a.window_us}), got ${a.width_us}` });
});

export type HwlatdetectArgs = z.output<typeof argsSchema>;

export function parseHwlatdetectArgs(args: unknown): HwlatdetectArgs {
  return parseCaseArgs(argsSchema, args, 'hwlatdetect');
}

export type HwlatOutcome = { kind: 'skipped'; reason: string } | { kind: 'measured'; node: string; output: HwlatdetectOutput; durationS: number };

// A threshold above the profile's max limit would leave "below threshold" unable to say whether the limit held.
function effectiveThreshold(ctx: CaseContext, node: PodNode, asked: number): number {
  const limits = ctx.limitsFor(node).filter((l) => l.metric === 'max' && l.max !== undefined);
  const lowest = Math.min(...limits.map((l) => Math.floor(convert(l.max as number, l.unit, 'us'))));
  return Number.isFinite(lowest) ? Math.max(1, Math.min(asked, lowest)) : asked;
}

export async function measureHwlatdetect(ctx: CaseContext, node: PodNode, args: HwlatdetectArgs): Promise<HwlatOutcome> {
  const session = await ctx.session(node);
  const probe = await session.exec({ script: buildTracerProbeScript(session.runDir) }, { reject: false, label: 'available tracers' });
  if (ctx.dryRun) throw new DryRunStop();
  if (probe.failed) throw new MeasurementError(`could not read the tracers of ${node.name}'s kernel: ${probe.stderr.trim() || `exit ${probe.exitCode}`}`);
  const tracing = parseTracerProbe(probe.stdout);
  const { tracers, current } = tracing;
  if (!tracers.includes('hwlat')) {
    const release = ctx.nodeInfo?.(node.name)?.kernelRelease;
    return { kind: 'skipped', reason: `the kernel of ${node.name}${release ? ` (${release})` : ''} has no hwlat tracer (available_tracers: ${tracers.join(' ') || 'none'}); hwlatdetect needs CONFIG_HWLAT_TRACER` };
  }
  if (current !== null && current !== 'nop') throw new MeasurementError(`the global tracer of ${node.name} is in use (current_tracer ${current}); hwlatdetect would take it over, so it was not run`);
  if (node.rtCpus.length === 0) throw new MeasurementError(`pod.yaml gives node ${node.name} no rt_cpus; hwlatdetect runs on them`);

  const binary = await ensureTool(session, HWLATDETECT_TOOL);
  const durationS = Math.max(1, Math.round(ctx.durationOverrideS ?? args.duration_s));
  const argv = buildHwlatdetectCommand({ binary, durationS, thresholdUs: effectiveThreshold(ctx, node, args.threshold_us), windowUs: args.window_us, widthUs: args.width_us, cpus: node.rtCpus });
  const script = `${session.runDir}/kfn-hwlat`;
  // kfn-hwlat restores the global tracing files itself; the undo covers a kfn-hwlat that was killed.
  await registerUndo(ctx, { label: `restore the global tracer of ${node.name} after hwlatdetect`, session, script: buildHwlatRestoreScript(session.runDir, tracing) });
  await session.upload(buildHwlatWrapperScript(argv), script, { mode: 0o755 });
  const outcome = await runDetachedMeasurement(ctx, session, { name: `kfn-hwlat-${node.name}`, command: [script], durationS, label: 'hwlatdetect' });
  await ctx.writeRaw(`${node.name}/hwlatdetect.stdout`, outcome.stdout);
  await ctx.writeRaw(`${node.name}/hwlatdetect.stderr`, outcome.stderr);
  if (outcome.exitCode === HWLAT_WRAPPER_EXIT.noHwlat) return { kind: 'skipped', reason: outcome.stderr.trim() };
  if (outcome.interrupted) throw new MeasurementError(`hwlatdetect on ${node.name} was stopped before the end: ${outcome.interrupted}; its samples so far are in the raw outputs`);
  // hwlatdetect exits 1 when a sample exceeded its threshold: that is a figure, not a failure of the tool.
  if (outcome.exitCode !== 0 && outcome.exitCode !== 1) throw new MeasurementError(`hwlatdetect on ${node.name} exited with ${outcome.exitCode}: ${outcome.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const output = parseHwlatdetectOutput(outcome.stdout);
  ctx.recordDetails(node.name, {
    node: node.name,
    durationS,
    thresholdUs: output.thresholdUs,
    windowUs: output.windowUs,
    widthUs: output.widthUs,
    cpuList: output.cpuList,
    maxUs: output.maxUs,
    maxBelowThreshold: output.maxUs === null,
    samplesRecorded: output.samplesRecorded,
    samplesExceeding: output.samplesExceeding,
    smis: output.smis,
    samples: output.samples.slice(0, 1000),
    command: argv.join(' '),
  });
  return { kind: 'measured', node: node.name, output, durationS };
}

/** The figures a limit is judged on; "below threshold" is the threshold as an upper bound, which passes only limits at or above it. */
export function buildHwlatFigures(metric: string, outcome: HwlatOutcome | undefined): Figure[] {
  if (!outcome || outcome.kind !== 'measured') return [];
  const { output, node } = outcome;
  if (metric === 'samples_exceeding') return [{ value: output.samplesExceeding, unit: 'count', where: node }];
  if (output.maxUs === null) return [{ value: output.thresholdUs, unit: 'us', where: `${node} (no gap reached the ${output.thresholdUs} us threshold: max is below it)` }];
  return [{ value: output.maxUs, unit: 'us', where: node }];
}
