// Zod schemas of the agents' one-line JSON summaries (format 1), field names as printed.
import { z } from 'zod';
import { figureSchema, layoutSchema } from './histogram.ts';

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const realtimeNs = z.union([z.bigint(), z.number().int()]).transform((v) => String(v));
const clock = z.enum(['CLOCK_REALTIME', 'CLOCK_MONOTONIC']);

const rtShape = {
  cpu: count.nullable(),
  ran_on_cpu: z.number().int(),
  policy: z.enum(['SCHED_FIFO', 'SCHED_OTHER']),
  priority: z.number().int().min(1).max(99).nullable(),
  mlockall: z.boolean(),
  mlockall_error: z.string().nullable(),
};

const commonShape = {
  version: z.string().regex(/^1\.\d+\.\d+$/),
  format: z.literal(1),
  stream_id: count,
  start_realtime_ns: realtimeNs,
  end_realtime_ns: realtimeNs,
  histogram_layout: layoutSchema,
  ...rtShape,
};

export const genSchema = z.object({
  ...commonShape,
  tool: z.literal('kfn-irqgen'),
  dest: z.string(),
  port: count,
  iface: z.string().nullable(),
  clock,
  pacing_clock: z.literal('CLOCK_MONOTONIC'),
  period_ns: count.positive(),
  stopped_by: z.enum(['count', 'duration', 'SIGINT', 'SIGTERM']),
  last_seq: count,
  frames_sent: count,
  frames_skipped: count,
  send_errors: count,
  last_send_error: z.string().nullable(),
  end_frames_sent: count,
  overruns: count,
  pacing_error_ns: figureSchema,
});

export const recvSchema = z.object({
  ...commonShape,
  tool: z.literal('kfn-irqrecv'),
  listen: z.string(),
  stopped_by: z.enum(['duration', 'end-frame', 'SIGINT', 'SIGTERM']),
  clock_domain: z.enum(['same-host', 'ptp', 'unsynchronised']),
  clock_offset_ns: z.number().int().nullable(),
  wire_clock: z.enum(['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'mixed']).nullable(),
  rx_timestamp: z.enum(['software', 'hardware']),
  hw_timestamp_iface: z.string().nullable(),
  hw_fallback_reason: z.string().nullable(),
  late_ns: count.positive().nullable(),
  late_ns_source: z.enum(['option', 'frame-period']),
  frames: z.object({
    received: count,
    unique: count,
    missed: count,
    duplicate: count,
    out_of_order: count,
    too_old: count,
    stray: count,
    end_frames: count,
    rx_timestamp_missing: count,
    late: count.nullable(),
    first_seq: count,
    highest_seq: count,
    expect: count.nullable(),
    announced_last_seq: count.nullable(),
    last_seq: count,
    last_seq_source: z.enum(['announced', 'expect', 'highest-seen']),
    tail_known: z.boolean(),
  }),
  wire_to_handler: figureSchema.nullable(),
  wire_to_handler_reason: z.string().nullable(),
  receive_to_handler: figureSchema,
  receive_to_handler_source: z.string(),
});
