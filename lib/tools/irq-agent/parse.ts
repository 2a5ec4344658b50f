// Parses the one-line JSON summaries of kfn-irqgen and kfn-irqrecv. Anything that does not
// add up is refused: a figure that cannot be trusted must end as an error, never as a PASS.
import { z } from 'zod';
import { ToolOutputParseError } from '../../errors.ts';
import type { ClockDomain } from './command.ts';
import { checkFigure, type IrqHistogramLayout, type IrqLatencyFigure } from './histogram.ts';
import { genSchema, recvSchema } from './summary-schema.ts';

export interface AgentRtState {
  /** CPU the agent was pinned to, or null when not pinned. */
  cpu: number | null;
  /** sched_getcpu() at the end. */
  ranOnCpu: number;
  policy: 'SCHED_FIFO' | 'SCHED_OTHER';
  priority: number | null;
  mlockall: boolean;
  mlockallError: string | null;
}

export type AgentClock = 'CLOCK_REALTIME' | 'CLOCK_MONOTONIC';

export interface IrqGenSummary {
  tool: 'kfn-irqgen';
  version: string;
  dest: string;
  port: number;
  iface: string | null;
  streamId: number;
  /** Clock of the send time carried in each frame. */
  clock: AgentClock;
  periodNs: number;
  stoppedBy: 'count' | 'duration' | 'SIGINT' | 'SIGTERM';
  /** CLOCK_REALTIME ns as exact decimal strings (they exceed 2^53). */
  startRealtimeNs: string;
  endRealtimeNs: string;
  rt: AgentRtState;
  /** Last sequence number assigned; seqs run from 1. */
  lastSeq: number;
  framesSent: number;
  /** Withheld on purpose with --skip-seq. */
  framesSkipped: number;
  sendErrors: number;
  lastSendError: string | null;
  endFramesSent: number;
  /** Sends more than one period behind their deadline. */
  overruns: number;
  layout: IrqHistogramLayout;
  /** Wake time minus absolute deadline, per sent frame. */
  pacingError: IrqLatencyFigure;
}

export interface IrqRecvFrames {
  /** Data frames of our stream, duplicates included. */
  received: number;
  unique: number;
  /** Seqs in 1..lastSeq never received. */
  missed: number;
  duplicate: number;
  outOfOrder: number;
  /** Arrived more than 2^20 seqs behind the highest; not measured, counted as missed. */
  tooOld: number;
  /** Wrong magic, version, size or stream id: counted, never measured. */
  stray: number;
  endFrames: number;
  rxTimestampMissing: number;
  /** Null when wire-to-handler is not computed. */
  late: number | null;
  firstSeq: number;
  highestSeq: number;
  expect: number | null;
  announcedLastSeq: number | null;
  lastSeq: number;
  lastSeqSource: 'announced' | 'expect' | 'highest-seen';
  /** False when frames lost at the end could not be seen. */
  tailKnown: boolean;
}

export interface IrqRecvSummary {
  tool: 'kfn-irqrecv';
  version: string;
  listen: string;
  streamId: number;
  stoppedBy: 'duration' | 'end-frame' | 'SIGINT' | 'SIGTERM';
  startRealtimeNs: string;
  endRealtimeNs: string;
  rt: AgentRtState;
  clockDomain: ClockDomain;
  clockOffsetNs: number | null;
  wireClock: AgentClock | 'mixed' | null;
  rxTimestamp: 'software' | 'hardware';
  hwTimestampIface: string | null;
  hwFallbackReason: string | null;
  /** The late threshold: --late-ns, or the period carried by the first frame; null with neither. */
  lateNs: number | null;
  lateNsSource: 'option' | 'frame-period';
  layout: IrqHistogramLayout;
  frames: IrqRecvFrames;
  wireToHandler: IrqLatencyFigure | null;
  wireToHandlerReason: string | null;
  receiveToHandler: IrqLatencyFigure;
  receiveToHandlerSource: string;
}

interface Where {
  tool: string;
  source: string | undefined;
  lineNumber: number;
  line: string;
}

// Realtime ns exceed 2^53: keep such integers exact as bigint, from their source text.
function reviveBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

function readSummaryLine(text: string, tool: string, source: string | undefined): { value: unknown; where: Where } {
  const lines = text.split('\n');
  let i = lines.length - 1;
  while (i >= 0 && lines[i]!.trim() === '') i--;
  if (i < 0) {
    throw new ToolOutputParseError(tool, 'expected a one-line JSON summary on stdout, found nothing (killed before it printed?)', { source });
  }
  const where = { tool, source, lineNumber: i + 1, line: lines[i]! };
  try {
    return { value: JSON.parse(where.line, reviveBigIntegers), where };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ToolOutputParseError(tool, `expected one complete JSON object, found invalid JSON (${why}), e.g. truncated`, where);
  }
}

function fail(where: Where, issues: string[]): never {
  throw new ToolOutputParseError(where.tool, issues.join('; '), { source: where.source, lineNumber: where.lineNumber, line: where.line });
}

function validate<T>(schema: z.ZodType<T>, value: unknown, where: Where): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  fail(
    where,
    r.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`),
  );
}

function mapRt(r: z.infer<typeof genSchema> | z.infer<typeof recvSchema>): AgentRtState {
  return { cpu: r.cpu, ranOnCpu: r.ran_on_cpu, policy: r.policy, priority: r.priority, mlockall: r.mlockall, mlockallError: r.mlockall_error };
}

// The generator's summary: how many frames went out, how many were withheld, how well it paced.
export function parseIrqGenSummary(text: string, options: { source?: string } = {}): IrqGenSummary {
  const { value, where } = readSummaryLine(text, 'kfn-irqgen', options.source);
  const g = validate(genSchema, value, where);
  const issues = checkFigure(g.pacing_error_ns, g.histogram_layout, 'pacing_error_ns');
  if (g.frames_sent + g.frames_skipped + g.send_errors !== g.last_seq) {
    issues.push(`expected frames_sent + frames_skipped + send_errors = last_seq, found ${g.frames_sent} + ${g.frames_skipped} + ${g.send_errors} != ${g.last_seq}`);
  }
  if (g.pacing_error_ns.samples !== g.frames_sent) {
    issues.push(`expected one pacing sample per frame sent (${g.frames_sent}), found ${g.pacing_error_ns.samples}`);
  }
  if (issues.length > 0) fail(where, issues);
  return {
    tool: g.tool,
    version: g.version,
    dest: g.dest,
    port: g.port,
    iface: g.iface,
    streamId: g.stream_id,
    clock: g.clock,
    periodNs: g.period_ns,
    stoppedBy: g.stopped_by,
    startRealtimeNs: g.start_realtime_ns,
    endRealtimeNs: g.end_realtime_ns,
    rt: mapRt(g),
    lastSeq: g.last_seq,
    framesSent: g.frames_sent,
    framesSkipped: g.frames_skipped,
    sendErrors: g.send_errors,
    lastSendError: g.last_send_error,
    endFramesSent: g.end_frames_sent,
    overruns: g.overruns,
    layout: g.histogram_layout,
    pacingError: g.pacing_error_ns,
  };
}

function checkRecv(r: z.infer<typeof recvSchema>): string[] {
  const f = r.frames;
  const issues: string[] = [];
  if (r.clock_domain === 'unsynchronised') {
    if (r.wire_to_handler !== null) issues.push('expected no wire_to_handler figure under clock_domain unsynchronised, found one');
    if (f.late !== null) issues.push('expected frames.late null under clock_domain unsynchronised, found a count');
    if (r.clock_offset_ns !== null) issues.push('expected no clock_offset_ns under clock_domain unsynchronised, found one');
  }
  if ((r.wire_to_handler === null) === (r.wire_to_handler_reason === null)) {
    issues.push('expected exactly one of wire_to_handler and wire_to_handler_reason');
  }
  if ((r.wire_to_handler === null) !== (f.late === null)) issues.push('expected frames.late exactly when wire_to_handler is reported');
  if (f.unique > f.received || f.duplicate + f.too_old > f.received) {
    issues.push(`expected unique (${f.unique}) and duplicate + too_old (${f.duplicate + f.too_old}) within received (${f.received})`);
  }
  if (f.unique + f.duplicate + f.too_old !== f.received) {
    issues.push(`expected unique + duplicate + too_old = received, found ${f.unique} + ${f.duplicate} + ${f.too_old} != ${f.received}`);
  }
  if (f.last_seq < f.highest_seq || f.missed !== f.last_seq - f.unique) {
    issues.push(`expected missed = last_seq - unique with last_seq >= highest_seq, found missed ${f.missed}, last_seq ${f.last_seq}, unique ${f.unique}, highest_seq ${f.highest_seq}`);
  }
  if (r.receive_to_handler.samples + f.rx_timestamp_missing !== f.unique) {
    issues.push(`expected receive_to_handler.count + rx_timestamp_missing = unique (${f.unique}), found ${r.receive_to_handler.samples} + ${f.rx_timestamp_missing}`);
  }
  if (r.wire_to_handler && r.wire_to_handler.samples !== f.unique) {
    issues.push(`expected wire_to_handler.count = unique (${f.unique}), found ${r.wire_to_handler.samples}`);
  }
  if (f.late !== null && f.late > f.unique) issues.push(`expected late (${f.late}) <= unique (${f.unique})`);
  if (f.tail_known !== (f.expect !== null || f.announced_last_seq !== null)) {
    issues.push('expected tail_known exactly when expect or announced_last_seq is given');
  }
  if (r.wire_to_handler) issues.push(...checkFigure(r.wire_to_handler, r.histogram_layout, 'wire_to_handler'));
  issues.push(...checkFigure(r.receive_to_handler, r.histogram_layout, 'receive_to_handler'));
  return issues;
}

// The receiver's summary: per-frame latencies as histograms, and the frame accounting.
export function parseIrqRecvSummary(text: string, options: { source?: string } = {}): IrqRecvSummary {
  const { value, where } = readSummaryLine(text, 'kfn-irqrecv', options.source);
  const r = validate(recvSchema, value, where);
  const issues = checkRecv(r);
  if (issues.length > 0) fail(where, issues);
  const f = r.frames;
  return {
    tool: r.tool,
    version: r.version,
    listen: r.listen,
    streamId: r.stream_id,
    stoppedBy: r.stopped_by,
    startRealtimeNs: r.start_realtime_ns,
    endRealtimeNs: r.end_realtime_ns,
    rt: mapRt(r),
    clockDomain: r.clock_domain,
    clockOffsetNs: r.clock_offset_ns,
    wireClock: r.wire_clock,
    rxTimestamp: r.rx_timestamp,
    hwTimestampIface: r.hw_timestamp_iface,
    hwFallbackReason: r.hw_fallback_reason,
    lateNs: r.late_ns,
    lateNsSource: r.late_ns_source,
    layout: r.histogram_layout,
    frames: {
      received: f.received,
      unique: f.unique,
      missed: f.missed,
      duplicate: f.duplicate,
      outOfOrder: f.out_of_order,
      tooOld: f.too_old,
      stray: f.stray,
      endFrames: f.end_frames,
      rxTimestampMissing: f.rx_timestamp_missing,
      late: f.late,
      firstSeq: f.first_seq,
      highestSeq: f.highest_seq,
      expect: f.expect,
      announcedLastSeq: f.announced_last_seq,
      lastSeq: f.last_seq,
      lastSeqSource: f.last_seq_source,
      tailKnown: f.tail_known,
    },
    wireToHandler: r.wire_to_handler,
    wireToHandlerReason: r.wire_to_handler_reason,
    receiveToHandler: r.receive_to_handler,
    receiveToHandlerSource: r.receive_to_handler_source,
  };
}
