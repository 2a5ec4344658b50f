// The oslat case's procedure on one node: oslat polls on the node's RT CPUs like a DPDK PMD
// thread, its main thread on a housekeeping CPU, for the configured duration, with the optional
// load beside it; every raw output is kept and every thread parsed. Host and guest are measured
// one after the other, as the timer case does.
import { z } from 'zod';
import type { PodNode } from '../config/pod-model.ts';
import { MeasurementError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { runDetachedMeasurement, requireCompleteMeasurement } from '../harness/detached-measurement.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { ensureTool, type ToolSpec } from '../provision/ensure-tool.ts';
import { buildOslatCommand, OSLAT_DEFAULTS } from '../tools/oslat/command.ts';
import { parseOslatOutput } from '../tools/oslat/parse.ts';
import { summarizeOslat, type OslatResult } from '../tools/oslat/summary.ts';
import { parseCaseArgs } from './case-args.ts';
import type { LocatedSummary } from './latency-figures.ts';
import { loadArgsShape, startLoad } from './load.ts';
import { traceOslatBreach, type BreachDiagnosis } from './breach-passes.ts';

export const OSLAT_TOOL: ToolSpec = { binary: 'oslat', packages: { apt: 'rt-tests', dnf: 'realtime-tests', yum: 'rt-tests' } };

const oslatArgsSchema = z.strictObject({
  duration_s: z.number().int().positive().default(60),
  priority: z.number().int().min(1).max(99).default(OSLAT_DEFAULTS.priority),
  bucket_size: z.number().int().min(5).max(1024).default(OSLAT_DEFAULTS.bucketSize),
  ...loadArgsShape,
  roles: z.array(z.enum(['host', 'guest'])).min(1).default(['host', 'guest']),
});

export type OslatArgs = z.output<typeof oslatArgsSchema>;

// The catalogue's run.args are input like any other: a typo must be exit 2, not a default.
export function parseOslatArgs(args: unknown): OslatArgs {
  return parseCaseArgs(oslatArgsSchema, args, 'oslat');
}

export interface OslatMeasurement {
  node: string;
  version: string;
  durationS: number;
  load: string;
  threads: LocatedSummary[];
  overall: LocatedSummary;
  /** Set when the overall max broke an assert limit and the case traced a diagnostic pass. */
  breach?: BreachDiagnosis;
}

function placement(node: PodNode): { rtCpus: number[]; mainCpu: number } {
  const mainCpu = node.housekeepingCpus[0];
  if (node.rtCpus.length === 0 || mainCpu === undefined) {
    throw new MeasurementError(`pod.yaml gives node ${node.name} no rt_cpus or no housekeeping_cpus; oslat needs both (its polling threads on rt_cpus, its main thread on a housekeeping CPU)`);
  }
  return { rtCpus: node.rtCpus, mainCpu };
}

/** Measures one node; the duration is whole seconds, as oslat takes it. */
export async function measureOslat(ctx: CaseContext, node: PodNode, args: OslatArgs): Promise<OslatMeasurement> {
  const durationS = Math.max(1, Math.round(ctx.durationOverrideS ?? args.duration_s));
  const session = await ctx.session(node);
  const binary = await ctx.phase('provision', () => ensureTool(session, OSLAT_TOOL));
  const command = buildOslatCommand({ binary, ...placement(node), durationS, priority: args.priority, bucketSize: args.bucket_size });
  const load = await ctx.phase('provision', () => startLoad(ctx, { kind: args.load, node: args.load_node, cpus: args.load_cpus, beside: node.name }, durationS + 30));
  const outcome = await runDetachedMeasurement(ctx, session, { name: `oslat-${node.name}`, command: command.argv, durationS: durationS + 1, label: 'oslat' });
  await ctx.phase('collect', async () => {
    await load.stop();
    if (ctx.dryRun) throw new DryRunStop();
    // Raw outputs are kept before anything is judged: nothing measured is lost.
    await ctx.writeRaw(`${node.name}/oslat.stdout`, outcome.stdout);
    await ctx.writeRaw(`${node.name}/oslat.stderr`, outcome.stderr);
  });
  let result: OslatResult | undefined;
  let parseError: unknown;
  try {
    result = summarizeOslat(parseOslatOutput(outcome.stdout), { cpus: command.threadCpus, bucketSize: command.bucketSize });
  } catch (error) {
    parseError = error;
  }
  const measurement: OslatMeasurement | undefined = result && {
    node: node.name,
    version: result.version,
    durationS,
    load: load.description,
    threads: result.threads.map((t) => ({ where: `${node.name} thread ${t.thread} (cpu ${t.cpu})`, summary: t.summary })),
    overall: { where: `${node.name} all threads`, summary: result.overall },
  };
  const accelerator = ctx.accelerator(node);
  const details = measurement && {
    ...measurement,
    // A guest under TCG measures the emulator: never compared with one under KVM (lib/regression/conditions.ts).
    ...(accelerator ? { accelerator } : {}),
    loadKind: args.load,
    release: result?.release,
    rounding: result?.rounding,
    command: command.argv.join(' '),
    ...(outcome.interrupted ? { interrupted: outcome.interrupted } : {}),
  };
  if (details) ctx.recordDetails(node.name, details);
  if (result) ctx.recordToolVersion(node.name, 'oslat', result.version);
  requireCompleteMeasurement(outcome, `oslat on ${node.name}`);
  if (parseError !== undefined || !result || !measurement || !details) throw parseError ?? new MeasurementError(`oslat on ${node.name}: no result`);

  // SIGINT from anyone still gives a full summary: only Duration says the run was cut short.
  for (const t of result.threads) {
    if (t.durationS < durationS * 0.9) throw new MeasurementError(`oslat on ${node.name} thread ${t.thread} (cpu ${t.cpu}) measured ${t.durationS} s of the ${durationS} s asked: it was stopped early`);
  }
  const breach = await traceOslatBreach(ctx, node, { command, overall: result.overall, durationS });
  if (breach) {
    ctx.recordDetails(node.name, { ...details, breach });
    return { ...measurement, breach };
  }
  return measurement;
}
