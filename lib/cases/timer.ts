// The Timer test's procedure on one node: provision cyclictest, run it detached for the
// configured duration (with the optional load beside it), keep every raw output, and
// parse every thread. The suite file only declares nodes and assertions.
import { z } from 'zod';
import type { PodNode } from '../config/pod-model.ts';
import { MeasurementError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { runDetachedMeasurement, requireCompleteMeasurement } from '../harness/detached-measurement.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { ensureTool, TOOLS } from '../provision/ensure-tool.ts';
import { buildCyclictestCommand } from '../tools/cyclictest/command.ts';
import { parseCyclictestRun } from '../tools/cyclictest/parse.ts';
import { parseCyclictestVersion } from '../tools/cyclictest/version.ts';
import { loadArgsShape, startLoad } from './load.ts';
import { parseCaseArgs } from './case-args.ts';
import type { LocatedSummary } from './latency-figures.ts';
import { traceTimerBreach, type BreachDiagnosis } from './breach-passes.ts';

const timerArgsSchema = z.strictObject({
  duration_s: z.number().positive().default(60),
  interval_us: z.number().int().min(50).max(1_000_000).default(1000),
  priority: z.number().int().min(1).max(99).default(99),
  histogram_us: z.number().int().min(10).max(1_000_000).default(20000),
  ...loadArgsShape,
  roles: z.array(z.enum(['host', 'guest'])).min(1).default(['host', 'guest']),
});

export type TimerArgs = z.output<typeof timerArgsSchema>;

// The catalogue's run.args are input like any other: a typo must be exit 2, not a default.
export function parseTimerArgs(args: unknown): TimerArgs {
  return parseCaseArgs(timerArgsSchema, args, 'timer');
}

export interface TimerMeasurement {
  node: string;
  version: string;
  durationS: number;
  load: string;
  loadKind: string;
  threads: LocatedSummary[];
  overall: LocatedSummary;
  /** Set when the overall max broke an assert limit and the case traced a diagnostic pass. */
  breach?: BreachDiagnosis;
}

/** All threads' 1 µs buckets as `[lower, upper inclusive, count]`, kept for the report's plots. */
function mergeThreadHistograms(threads: ReadonlyArray<{ buckets: ReadonlyArray<{ value: number; count: number }>; overflows: number }>) {
  const counts = new Map<number, number>();
  for (const t of threads) for (const b of t.buckets) if (b.count > 0) counts.set(b.value, (counts.get(b.value) ?? 0) + b.count);
  const buckets = [...counts.entries()].sort(([a], [b]) => a - b).map(([value, count]) => [value, value, count]);
  return { unit: 'us', buckets, overflows: threads.reduce((n, t) => n + t.overflows, 0) };
}

/** Measures one node. Host and guest are measured one after the other, never at once. */
export async function measureTimer(ctx: CaseContext, node: PodNode, args: TimerArgs): Promise<TimerMeasurement> {
  const durationS = ctx.durationOverrideS ?? args.duration_s;
  const session = await ctx.session(node);
  const { binary, version } = await ctx.phase('provision', async () => {
    const found = await ensureTool(session, TOOLS.cyclictest);
    const help = await session.exec([found, '--help'], { reject: false, label: 'cyclictest version', privileged: false });
    return { binary: found, version: ctx.dryRun ? 'dry-run' : parseCyclictestVersion(`${help.stdout}\n${help.stderr}`) };
  });
  ctx.recordToolVersion(node.name, 'cyclictest', version);

  const mainCpu = node.housekeepingCpus[0];
  if (node.rtCpus.length === 0 || mainCpu === undefined) {
    throw new MeasurementError(`pod.yaml gives node ${node.name} no rt_cpus or no housekeeping_cpus; cyclictest needs both (its threads on rt_cpus, its main thread on a housekeeping CPU)`);
  }
  const command = buildCyclictestCommand({
    binary,
    durationS,
    intervalUs: args.interval_us,
    priority: args.priority,
    histogramUs: args.histogram_us,
    rtCpus: node.rtCpus,
    mainCpu,
    jsonPath: `${session.runDir}/cyclictest-${node.name}.json`,
  });
  const load = await ctx.phase('provision', () => startLoad(ctx, { kind: args.load, node: args.load_node, cpus: args.load_cpus, beside: node.name }, durationS + 30));
  const outcome = await runDetachedMeasurement(ctx, session, {
    name: `cyclictest-${node.name}`,
    command: command.argv,
    durationS,
    label: 'cyclictest',
  });
  const json = await ctx.phase('collect', async () => {
    await load.stop();
    if (ctx.dryRun) throw new DryRunStop();
    // Raw outputs are kept before anything is judged: nothing measured is lost.
    await ctx.writeRaw(`${node.name}/cyclictest.stdout`, outcome.stdout);
    await ctx.writeRaw(`${node.name}/cyclictest.stderr`, outcome.stderr);
    const text = await session.download(command.jsonPath).then(
      (b) => b.toString('utf8'),
      () => undefined,
    );
    if (text !== undefined) await ctx.writeRaw(`${node.name}/cyclictest.json`, text);
    return text;
  });

  // An interrupted run still printed its summary: parse and keep it before judging it.
  let result: ReturnType<typeof parseCyclictestRun> | undefined;
  let parseError: unknown;
  try {
    if (json !== undefined) {
      result = parseCyclictestRun({ jsonText: json, stdout: outcome.stdout, histogramLimitUs: command.histogramLimitUs, expectedCpus: command.threadCpus });
    }
  } catch (error) {
    parseError = error;
  }
  const expectedCycles = (durationS * 1e6) / args.interval_us;
  const threads = (result?.threads ?? []).map((t) => ({ where: `${node.name} thread ${t.thread} (cpu ${t.cpu})`, summary: t.summary, cycles: t.cycles }));
  const measurement: TimerMeasurement | undefined = result && {
    node: node.name,
    version,
    durationS,
    load: load.description,
    loadKind: args.load,
    threads: threads.map(({ where, summary }) => ({ where, summary })),
    overall: { where: `${node.name} all threads`, summary: result.overall },
  };
  const accelerator = ctx.accelerator(node);
  const recorded = measurement && {
    ...measurement,
    // A guest under TCG measures the emulator: never compared with one under KVM (lib/regression/conditions.ts).
    ...(accelerator ? { accelerator } : {}),
    command: command.argv.join(' '),
    breakThread: result?.breakThread ?? null,
    histogram: mergeThreadHistograms(result?.threads ?? []),
    ...(outcome.interrupted ? { interrupted: outcome.interrupted } : {}),
  };
  if (recorded) ctx.recordDetails(node.name, recorded);
  requireCompleteMeasurement(outcome, `cyclictest on ${node.name}`);
  if (json === undefined) throw new MeasurementError(`cyclictest on ${node.name} wrote no JSON file at ${command.jsonPath}`);
  if (parseError !== undefined || !result || !measurement) throw parseError ?? new MeasurementError(`cyclictest on ${node.name}: no result`);

  // A thread that ran far fewer loops than the duration allows did not measure what was asked.
  for (const t of threads) {
    if (t.cycles < expectedCycles * 0.5) {
      throw new MeasurementError(`${t.where} ran ${t.cycles} loops, expected about ${Math.round(expectedCycles)} in ${durationS} s at ${args.interval_us} us`);
    }
  }
  if (result.breakThread !== undefined) {
    throw new MeasurementError(`cyclictest on ${node.name} stopped on its break threshold (thread ${result.breakThread}, ${result.breakValue} us)`);
  }
  // The full-length measurement is judged as it is; a breach is explained by a separate pass.
  const breach = await traceTimerBreach(ctx, node, { binary, mainCpu, intervalUs: args.interval_us, priority: args.priority, histogramUs: args.histogram_us, overall: result.overall });
  if (!breach || !recorded) return measurement;
  ctx.recordDetails(node.name, { ...recorded, breach });
  return { ...measurement, breach };
}
