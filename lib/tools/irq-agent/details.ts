// The Device Interrupt Test's figures in the shared result schema (results.json `details`),
// built from the two parsed summaries: pure, so that recorded outputs test it fully.
import type { LatencySummary } from '../../results/model.ts';
import { toLatencySummary, type IrqHistogramLayout, type IrqLatencyFigure } from './histogram.ts';
import type { AgentRtState, IrqGenSummary, IrqRecvSummary } from './parse.ts';

/** One latency distribution: the summary a verdict reads, and the histogram kept whole. */
export interface IrqFigureDetails {
  /** ns; null when the figure was not computed (see reason). */
  summary: LatencySummary | null;
  reason: string | null;
  /** Non-empty buckets `[lower_ns, upper_ns_inclusive, count]`, exactly as the agent printed them. */
  buckets: Array<[number, number, number]>;
  /** Samples below zero (clocks out of step); never in a bucket. */
  negatives: number;
}

export interface IrqCounts {
  /** Seqs the generator assigned (withheld ones included). */
  sequence_numbers: number;
  sent: number;
  /** Withheld on purpose with skip_seq: each must show as exactly one missed. */
  withheld: number;
  send_errors: number;
  received: number;
  unique: number;
  /** Interrupts missed: frames the generator sent (or failed to send) that never reached the handler; withheld ones excluded. */
  missed: number;
  /** The receiver's own count of seqs in 1..last_seq never received, withheld ones included: missed + withheld. */
  missed_seqs: number;
  /** Null when wire-to-handler is not computed. */
  late: number | null;
  duplicate: number;
  out_of_order: number;
  too_old: number;
  stray: number;
  rx_timestamp_missing: number;
  last_seq: number;
  last_seq_source: string;
  tail_known: boolean;
}

export interface AgentDetails {
  version: string;
  stopped_by: string;
  cpu: number | null;
  ran_on_cpu: number;
  policy: string;
  priority: number | null;
  mlockall: boolean;
}

export interface DeviceInterruptDetails {
  /** What raised the interrupts, e.g. "veth (no hardware interrupt; software timestamps)". */
  device: string;
  clock_case: { domain: string; offset_ns: number | null; wire_clock: string | null; reason: string | null };
  /** Which receive timestamp receive_to_handler starts from. */
  timestamp_kind: 'software' | 'hardware';
  hw_fallback_reason: string | null;
  period_ns: number;
  late_ns: number | null;
  late_ns_source: string;
  counts: IrqCounts;
  wire_to_handler: IrqFigureDetails;
  receive_to_handler: IrqFigureDetails;
  receive_to_handler_source: string;
  /** The generator's wake time minus its deadline: how late the device raised each interrupt. */
  pacing_error: IrqFigureDetails & { overruns: number };
  histogram_layout: IrqHistogramLayout;
  receiver: AgentDetails & { listen: string };
  generator: AgentDetails & { dest: string; port: number; iface: string | null };
}

function figureDetails(fig: IrqLatencyFigure | null, layout: IrqHistogramLayout, reason: string | null): IrqFigureDetails {
  if (!fig) return { summary: null, reason: reason ?? 'not computed', buckets: [], negatives: 0 };
  return {
    summary: toLatencySummary(fig, layout),
    reason: null,
    buckets: fig.buckets.map((b) => [b.lowerNs, b.upperNs, b.count]),
    negatives: fig.negatives,
  };
}

function agentDetails(version: string, stoppedBy: string, rt: AgentRtState): AgentDetails {
  return { version, stopped_by: stoppedBy, cpu: rt.cpu, ran_on_cpu: rt.ranOnCpu, policy: rt.policy, priority: rt.priority, mlockall: rt.mlockall };
}

// Both summaries as one record; a figure that cannot be judged is null with its reason.
export function buildDeviceInterruptDetails(input: { gen: IrqGenSummary; recv: IrqRecvSummary; device: string }): DeviceInterruptDetails {
  const { gen, recv } = input;
  const f = recv.frames;
  return {
    device: input.device,
    clock_case: { domain: recv.clockDomain, offset_ns: recv.clockOffsetNs, wire_clock: recv.wireClock, reason: recv.wireToHandlerReason },
    timestamp_kind: recv.rxTimestamp,
    hw_fallback_reason: recv.hwFallbackReason,
    period_ns: gen.periodNs,
    late_ns: recv.lateNs,
    late_ns_source: recv.lateNsSource,
    counts: {
      sequence_numbers: gen.lastSeq,
      sent: gen.framesSent,
      withheld: gen.framesSkipped,
      send_errors: gen.sendErrors,
      received: f.received,
      unique: f.unique,
      missed: Math.max(0, f.missed - gen.framesSkipped),
      missed_seqs: f.missed,
      late: f.late,
      duplicate: f.duplicate,
      out_of_order: f.outOfOrder,
      too_old: f.tooOld,
      stray: f.stray,
      rx_timestamp_missing: f.rxTimestampMissing,
      last_seq: f.lastSeq,
      last_seq_source: f.lastSeqSource,
      tail_known: f.tailKnown,
    },
    wire_to_handler: figureDetails(recv.wireToHandler, recv.layout, recv.wireToHandlerReason),
    receive_to_handler: figureDetails(recv.receiveToHandler, recv.layout, null),
    receive_to_handler_source: recv.receiveToHandlerSource,
    pacing_error: { ...figureDetails(gen.pacingError, gen.layout, null), overruns: gen.overruns },
    histogram_layout: recv.layout,
    receiver: { ...agentDetails(recv.version, recv.stoppedBy, recv.rt), listen: recv.listen },
    generator: { ...agentDetails(gen.version, gen.stoppedBy, gen.rt), dest: gen.dest, port: gen.port, iface: gen.iface },
  };
}

/** Why the two summaries cannot belong to one measurement, or nothing when they can. */
export function checkIrqPairing(gen: IrqGenSummary, recv: IrqRecvSummary): string[] {
  const issues: string[] = [];
  if (gen.streamId !== recv.streamId) issues.push(`expected one stream id, found generator ${gen.streamId} and receiver ${recv.streamId}`);
  if (recv.frames.expect !== null && recv.frames.expect !== gen.lastSeq) {
    issues.push(`expected the generator to assign the ${recv.frames.expect} seqs the receiver expected, found ${gen.lastSeq}`);
  }
  if (recv.frames.highestSeq > gen.lastSeq) issues.push(`expected no seq above the generator's last (${gen.lastSeq}), found ${recv.frames.highestSeq}`);
  // Every withheld seq must show as missed; fewer means the accounting cannot be trusted.
  if (recv.frames.missed < gen.framesSkipped) issues.push(`expected at least one missed per withheld frame (${gen.framesSkipped}), found ${recv.frames.missed} missed`);
  return issues;
}
