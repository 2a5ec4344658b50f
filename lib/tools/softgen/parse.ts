// Parses the one JSON document kfn-softgen prints into typed per-direction results.
// Shape first (zod), then the figures must agree with each other: a document whose counts
// contradict themselves is rejected rather than turned into a loss figure that could pass.
import { z } from 'zod';
import { ToolOutputParseError } from '../../errors.ts';
import { checkSoftgenConsistency } from './consistency.ts';

export const SOFTGEN_TOOL = 'kfn-softgen';

/** One latency histogram bucket: values lowNs..highNs inclusive, in ns. */
export interface HistogramBucket {
  lowNs: number;
  highNs: number;
  count: number;
}

export interface LatencyResult {
  samples: number;
  /** Samples with rx before tx (clock stepped); kept out of every figure. */
  negative: number;
  /** Frames without a tx timestamp (pktgen NO_TIMESTAMP). */
  noTimestamp: number;
  /** Samples at or above 2^40 ns, in the last bucket. */
  overflow: number;
  /** 1 for softgen headers, 1000 when kernel pktgen (us) timestamps were used. */
  timestampResolutionNs: number;
  minNs: number | null;
  avgNs: number | null;
  maxNs: number | null;
  /** Mean absolute difference of consecutive latencies. */
  jitterNs: number | null;
  p50Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
  p9999Ns: number | null;
  histogram: HistogramBucket[];
}

/** One direction (stream) of a run. Send fields are null in rx mode, receive fields in tx mode. */
export interface TrialResult {
  streamId: number;
  header: 'softgen' | 'pktgen';
  txIf: string | null;
  rxIf: string | null;
  /** Distinct sequence numbers sent. */
  txFrames: number | null;
  txRetries: number | null;
  firstSeq: number;
  lastSeq: number | null;
  /** 0 = as fast as possible. */
  requestedPps: number | null;
  achievedTxPps: number | null;
  durationS: number;
  rxFrames: number | null;
  lost: number | null;
  lossRatio: number | null;
  dropped: number | null;
  duplicate: number | null;
  outOfOrder: number | null;
  latency: LatencyResult | null;
}

export interface StrayCounts {
  notIpv4Udp: number;
  noMagic: number;
  unknownStream: number;
  malformed: number;
}

export interface RxInterfaceResult {
  name: string;
  ringPackets: number;
  /** Frames the receiver's own ring lost: a trial with any is invalid. */
  ringDrops: number;
  strays: StrayCounts;
}

export interface SoftgenOutput {
  version: string;
  mode: 'trial' | 'tx' | 'rx';
  txMethod: 'sendmmsg' | 'tx_ring' | null;
  qdiscBypass: boolean | null;
  batch: number | null;
  frameSize: number | null;
  imix: boolean;
  flows: number;
  drainMs: number;
  interrupted: boolean;
  directions: TrialResult[];
  rxInterfaces: RxInterfaceResult[];
  strays: StrayCounts & { total: number };
}

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const signedCount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const real = z.number().min(0);

const latencySchema = z.object({
  samples: count,
  negative: count,
  no_timestamp: count,
  overflow: count,
  timestamp_resolution_ns: z.union([z.literal(1), z.literal(1000)]),
  min: count.nullable(),
  avg: real.nullable(),
  max: count.nullable(),
  jitter: real.nullable(),
  p50: count.nullable(),
  p99: count.nullable(),
  p999: count.nullable(),
  p9999: count.nullable(),
  histogram: z.array(z.tuple([count, count, count.min(1)])),
});

const streamSchema = z.object({
  stream_id: z.number().int().min(0).max(65_535),
  header: z.enum(['softgen', 'pktgen']),
  tx_if: z.string().min(1).nullable(),
  rx_if: z.string().min(1).nullable(),
  tx_frames: count.nullable(),
  tx_retries: count.nullable(),
  first_seq: count,
  last_seq: count.nullable(),
  requested_pps: count.nullable(),
  achieved_tx_pps: real.nullable(),
  duration_s: real,
  rx_frames: count.nullable(),
  lost: signedCount.nullable(),
  loss_ratio: z.number().nullable(),
  dropped: count.nullable(),
  duplicate: count.nullable(),
  out_of_order: count.nullable(),
  latency_ns: latencySchema.nullable(),
});

const straysSchema = z.object({ not_ipv4_udp: count, no_magic: count, unknown_stream: count, malformed: count });

const documentSchema = z.object({
  tool: z.literal(SOFTGEN_TOOL),
  version: z.string(),
  mode: z.enum(['trial', 'tx', 'rx']),
  tx_method: z.enum(['sendmmsg', 'tx_ring']).nullable(),
  qdisc_bypass: z.boolean().nullable(),
  batch: count.nullable(),
  clock: z.literal('CLOCK_REALTIME'),
  rx_timestamp: z.string(),
  frame_size: z.number().int().min(64).max(1518).nullable(),
  imix: z.boolean(),
  flows: z.number().int().min(1),
  drain_ms: count,
  interrupted: z.boolean(),
  streams: z.array(streamSchema).min(1).max(2),
  rx_interfaces: z.array(z.object({ if: z.string().min(1), ring_packets: count, ring_drops: count, strays: straysSchema })),
  strays: straysSchema.extend({ total: count }),
});

type RawDocument = z.infer<typeof documentSchema>;
type RawStream = z.infer<typeof streamSchema>;
type RawStrays = z.infer<typeof straysSchema>;

// Turns kfn-softgen's stdout into typed results, or says exactly what is wrong with it.
export function parseSoftgenOutput(text: string, source?: string): SoftgenOutput {
  const where = source === undefined ? {} : { source };
  const trimmed = text.trim();
  if (trimmed === '') throw new ToolOutputParseError(SOFTGEN_TOOL, 'no output: expected one JSON document', where);
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToolOutputParseError(SOFTGEN_TOOL, `expected one complete JSON document (truncated output?): ${reason}`, {
      ...where,
      line: trimmed.slice(-80),
    });
  }
  const checked = documentSchema.safeParse(data);
  if (!checked.success) {
    const first = checked.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ToolOutputParseError(SOFTGEN_TOOL, first.join('; '), where);
  }
  const output = toOutput(checked.data);
  const problems = checkSoftgenConsistency(output);
  if (problems.length > 0) throw new ToolOutputParseError(SOFTGEN_TOOL, problems.join('; '), where);
  return output;
}

function toOutput(d: RawDocument): SoftgenOutput {
  return {
    version: d.version,
    mode: d.mode,
    txMethod: d.tx_method,
    qdiscBypass: d.qdisc_bypass,
    batch: d.batch,
    frameSize: d.frame_size,
    imix: d.imix,
    flows: d.flows,
    drainMs: d.drain_ms,
    interrupted: d.interrupted,
    directions: d.streams.map(toTrialResult),
    rxInterfaces: d.rx_interfaces.map((r) => ({
      name: r.if,
      ringPackets: r.ring_packets,
      ringDrops: r.ring_drops,
      strays: toStrays(r.strays),
    })),
    strays: { ...toStrays(d.strays), total: d.strays.total },
  };
}

function toStrays(s: RawStrays): StrayCounts {
  return { notIpv4Udp: s.not_ipv4_udp, noMagic: s.no_magic, unknownStream: s.unknown_stream, malformed: s.malformed };
}

function toTrialResult(s: RawStream): TrialResult {
  const l = s.latency_ns;
  return {
    streamId: s.stream_id,
    header: s.header,
    txIf: s.tx_if,
    rxIf: s.rx_if,
    txFrames: s.tx_frames,
    txRetries: s.tx_retries,
    firstSeq: s.first_seq,
    lastSeq: s.last_seq,
    requestedPps: s.requested_pps,
    achievedTxPps: s.achieved_tx_pps,
    durationS: s.duration_s,
    rxFrames: s.rx_frames,
    lost: s.lost,
    lossRatio: s.loss_ratio,
    dropped: s.dropped,
    duplicate: s.duplicate,
    outOfOrder: s.out_of_order,
    latency:
      l === null
        ? null
        : {
            samples: l.samples,
            negative: l.negative,
            noTimestamp: l.no_timestamp,
            overflow: l.overflow,
            timestampResolutionNs: l.timestamp_resolution_ns,
            minNs: l.min,
            avgNs: l.avg,
            maxNs: l.max,
            jitterNs: l.jitter,
            p50Ns: l.p50,
            p99Ns: l.p99,
            p999Ns: l.p999,
            p9999Ns: l.p9999,
            histogram: l.histogram.map(([lowNs, highNs, n]) => ({ lowNs, highNs, count: n })),
          },
  };
}
