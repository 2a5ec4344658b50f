// Parses the one JSON document kfn-trex-trial.py prints into a TrialResult. The document holds
// TRex's own get_stats() dicts (port stats, pg-id flow_stats and latency, keys as strings),
// plus the spec the script ran; anything missing or not a count is refused, because a trial
// we cannot read must end as an error, never as a loss-free PASS.
import { z } from 'zod';
import { MeasurementError, ToolOutputParseError } from '../../errors.ts';
import type { SequenceErrors, TrialLatency } from '../../traffic/generator.ts';
import { buildTrialResult, type DirectionMeasurement } from '../../traffic/trial.ts';
import type { TrialResult } from '../../traffic/generator.ts';
import { convertTrexLatency } from './latency.ts';
import type { TrexDirectionSpec, TrexTrialSpec } from './spec.ts';

const TOOL = 'kfn-trex-trial';
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/**
 * A latency figure: TRex truncates each to whole microseconds (a uint32_t, trex-core v3.0.7
 * src/time_histogram.h get_usec), so a fraction cannot come from TRex. Its client fills a missing
 * figure with StatNotAvailable, which prints as "N/A".
 */
const figure = z.unknown().transform((v, ctx): number | null => {
  if (v === 'N/A' || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  ctx.addIssue({ code: 'custom', message: `expected whole microseconds or "N/A", found ${JSON.stringify(v)}: TRex truncates every latency figure to a uint32_t (time_histogram.h get_usec)` });
  return z.NEVER;
});
/** A per-port counter dict: {"0": n, "1": n, "total": n}. */
const perPort = z.record(z.string(), count);

const directionSpec = z.object({
  name: z.enum(['forward', 'reverse']),
  tx_port: count,
  rx_port: count,
  load_pps: z.number().nonnegative(),
  latency_pps: z.number().nonnegative(),
  load_pg_ids: z.array(count).min(1),
  latency_pg_id: count.nullable(),
});

const documentSchema = z.object({
  tool: z.literal(TOOL),
  version: z.string(),
  api: z.string(),
  spec: z.object({
    duration_s: z.number().positive(),
    frame_size: z.union([z.number().int(), z.literal('imix')]),
    flows: count,
    count_load: z.enum(['flow-stats', 'port-counters']),
    directions: z.array(directionSpec).min(1).max(2),
  }),
  elapsed_s: z.number().nonnegative(),
  ports: z.record(z.string(), z.object({ opackets: count, ipackets: count })),
  flow_stats: z.record(z.string(), z.unknown()),
  latency: z.record(z.string(), z.unknown()),
  warnings: z.array(z.string()),
});

const flowStatSchema = z.object({ tx_pkts: perPort, rx_pkts: perPort });
const latencyStatSchema = z.object({
  err_cntrs: z.object({ dropped: z.number().int(), dup: count, out_of_order: count, seq_too_high: count, seq_too_low: count }),
  latency: z.object({
    average: figure,
    jitter: figure,
    total_max: figure,
    total_min: figure,
    histogram: z.record(z.string(), count),
  }),
});

const errorSchema = z.object({ tool: z.literal(TOOL), error: z.object({ kind: z.string(), message: z.string() }) });

type Doc = z.infer<typeof documentSchema>;
type DirSpec = Pick<TrexDirectionSpec, 'name' | 'tx_port' | 'rx_port' | 'load_pps' | 'latency_pps' | 'load_pg_ids' | 'latency_pg_id'>;

// The whole of stdout, or its last JSON line when the TRex client printed warnings before it.
function readDocument(stdout: string, source?: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    // fall through to the last line that looks like a document
  }
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new ToolOutputParseError(TOOL, 'expected one JSON document on stdout, found none', { source, line: stdout.trim().split('\n')[0] });
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new ToolOutputParseError(TOOL, `expected a JSON document: ${(e as Error).message}`, { source, line });
  }
}

function fail(message: string, source?: string): never {
  throw new ToolOutputParseError(TOOL, message, source === undefined ? undefined : { source });
}

function check<T>(schema: z.ZodType<T>, value: unknown, where: string, source?: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = [where, ...issue.path.map(String)].filter(Boolean).join('.');
    fail(`${path}: ${issue.message}`, source);
  }
  return r.data;
}

function flowStat(doc: Doc, pgId: number, source?: string): z.infer<typeof flowStatSchema> | undefined {
  const raw = doc.flow_stats[String(pgId)];
  return raw === undefined ? undefined : check(flowStatSchema, raw, `flow_stats.${pgId}`, source);
}

// Frames one pg id sent on the tx port and received on the rx port; a stream that had a rate must have stats.
function pgFrames(doc: Doc, a: { pgId: number; d: DirSpec; hadRate: boolean; source?: string }): { tx: number; rx: number } {
  const fs = flowStat(doc, a.pgId, a.source);
  if (!fs) {
    if (a.hadRate) fail(`flow_stats has no entry for pg id ${a.pgId} (${a.d.name} direction)`, a.source);
    return { tx: 0, rx: 0 };
  }
  const tx = fs.tx_pkts[String(a.d.tx_port)];
  const rx = fs.rx_pkts[String(a.d.rx_port)] ?? 0;
  if (tx === undefined) fail(`flow_stats.${a.pgId}.tx_pkts has no count for tx port ${a.d.tx_port}`, a.source);
  return { tx, rx };
}

function measureDirection(doc: Doc, d: DirSpec, source?: string): DirectionMeasurement {
  let latency: TrialLatency | null = null;
  let sequence: SequenceErrors | null = null;
  let latencyFrames = { tx: 0, rx: 0 };
  if (d.latency_pg_id !== null) {
    latencyFrames = pgFrames(doc, { pgId: d.latency_pg_id, d, hadRate: d.latency_pps > 0, source });
    const raw = doc.latency[String(d.latency_pg_id)];
    if (raw === undefined) fail(`latency has no entry for pg id ${d.latency_pg_id} (${d.name} direction)`, source);
    const lat = check(latencyStatSchema, raw, `latency.${d.latency_pg_id}`, source);
    latency = convertTrexLatency(lat.latency, latencyFrames.rx, source);
    const e = lat.err_cntrs;
    sequence = { scope: 'latency-stream', dropped: e.dropped, duplicate: e.dup, outOfOrder: e.out_of_order };
  }
  let tx: number;
  let rx: number;
  if (doc.spec.count_load === 'flow-stats') {
    tx = latencyFrames.tx;
    rx = latencyFrames.rx;
    const share = d.load_pps / d.load_pg_ids.length;
    for (const pgId of d.load_pg_ids) {
      const f = pgFrames(doc, { pgId, d, hadRate: share > 0, source });
      tx += f.tx;
      rx += f.rx;
    }
  } else {
    const txPort = doc.ports[String(d.tx_port)];
    const rxPort = doc.ports[String(d.rx_port)];
    if (!txPort || !rxPort) fail(`ports has no stats for port ${txPort ? d.rx_port : d.tx_port}`, source);
    tx = txPort.opackets;
    rx = rxPort.ipackets;
  }
  // TRex counts duplicates as received; it can only tell them apart in the latency stream.
  const rxUnique = Math.max(0, rx - (sequence?.duplicate ?? 0));
  return {
    direction: d.name,
    txPort: String(d.tx_port),
    rxPort: String(d.rx_port),
    txFrames: tx,
    rxFrames: rxUnique,
    requestedPps: d.load_pps + d.latency_pps,
    txSeconds: doc.spec.duration_s,
    sequence,
    latency,
  };
}

// The document must be for the trial that was asked for: rates, ports and pg ids all decide the figures.
function checkSameTrial(doc: Doc, expected: TrexTrialSpec, source?: string): void {
  const pick = (s: Pick<TrexTrialSpec, 'duration_s' | 'frame_size' | 'count_load'> & { directions: DirSpec[] }) =>
    JSON.stringify([s.duration_s, s.frame_size, s.count_load, s.directions.map((d) => [d.name, d.tx_port, d.rx_port, d.load_pps, d.latency_pps, d.load_pg_ids, d.latency_pg_id])]);
  if (pick(doc.spec) !== pick(expected)) fail(`the document is for another trial: ran ${pick(doc.spec)}, asked for ${pick(expected)}`, source);
}

// stdout of kfn-trex-trial.py to a TrialResult; an error document becomes a MeasurementError.
export function parseTrexTrial(
  stdout: string,
  options: { source?: string; portNames?: Readonly<Record<number, string>>; expectedSpec?: TrexTrialSpec } = {},
): TrialResult {
  const { source } = options;
  const raw = readDocument(stdout, source);
  const err = errorSchema.safeParse(raw);
  if (err.success) throw new MeasurementError(`TRex trial failed (${err.data.error.kind}): ${err.data.error.message}`);
  const doc = check(documentSchema, raw, '', source);
  if (options.expectedSpec) checkSameTrial(doc, options.expectedSpec, source);
  const directions = doc.spec.directions.map((d) => {
    const m = measureDirection(doc, d, source);
    const name = (port: number) => options.portNames?.[port] ?? `trex port ${port}`;
    return { ...m, txPort: name(d.tx_port), rxPort: name(d.rx_port) };
  });
  const notes = [
    `TRex ${doc.api}, kfn-trex-trial ${doc.version}: load counted with ${doc.spec.count_load === 'flow-stats' ? 'per-stream flow stats (pg ids)' : 'port counters'}, latency from a separate stream per direction`,
    'achieved tx rate = frames sent / the trial duration (TRex stops the streams after it)',
    'sequence errors are those of the latency stream only; load duplicates cannot be told apart',
    ...doc.warnings.map((w) => `TRex warning: ${w}`),
  ];
  return buildTrialResult({
    generator: 'trex',
    trial: { frameSize: doc.spec.frame_size, durationS: doc.spec.duration_s, flows: doc.spec.flows, direction: directions.length === 2 ? 'bidirectional' : 'one-way' },
    directions,
    notes,
  });
}
