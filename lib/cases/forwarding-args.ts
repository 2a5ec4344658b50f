// The arguments every forwarding case shares (testcases.yaml run.args), validated like the
// timer's: a typo is exit 2 with the key path, never a silent default. A topology adds its own
// keys (forwarder, OVS or SR-IOV options) with `extra`, a zod shape merged into the same strict object.
import { z } from 'zod';
import { parseCaseArgs } from './case-args.ts';
import { describeBadFrameSize, formatFrameSize, type FrameSize } from '../traffic/line-rate.ts';
import { DEFAULT_FRAME_SIZES } from '../traffic/plan.ts';

const frameSize = z.union([z.number(), z.string()]).transform((v, ctx): FrameSize => {
  const value = typeof v === 'string' && v.toLowerCase() === 'imix' ? 'imix' : v;
  const bad = describeBadFrameSize(value);
  if (bad) {
    ctx.addIssue({ code: 'custom', message: bad });
    return z.NEVER;
  }
  return value as FrameSize;
});

const portPair = z.strictObject({ tx: z.string().min(1), rx: z.string().min(1) });
const percent = (what: string) => z.number({ error: `expected ${what} in percent` }).gt(0).max(100);

export const forwardingArgsShape = {
  /** RFC 2544's sizes plus 1280 and IMIX by default. */
  frame_sizes: z
    .array(frameSize)
    .min(1)
    .default([...DEFAULT_FRAME_SIZES])
    .superRefine((sizes, ctx) => {
      const seen = new Set<string>();
      for (const s of sizes) {
        if (seen.has(formatFrameSize(s))) ctx.addIssue({ code: 'custom', message: `frame size ${formatFrameSize(s)} is listed twice` });
        seen.add(formatFrameSize(s));
      }
    }),
  /** One trial's length; `--duration` overrides it. NFVbench's default is 60 s. */
  trial_duration_s: z.number().positive().max(3600).default(30),
  /** The whole case must fit: the search is shortened (coarser, reported as such) to keep it. */
  budget_s: z.number().positive().default(3600),
  /** A cap on search trials per frame size, below what the budget allows. */
  max_search_iterations: z.number().int().min(1).max(64).optional(),
  /** Search resolution in percent of the ceiling (NFVbench: 0.1). */
  search_resolution_percent: z.number().gt(0).max(50).default(0.1),
  ndr_loss_percent: z.number().min(0).max(10).default(0.001),
  pdr_loss_percent: z.number().min(0).max(50).default(0.1),
  /** Latency trials at these shares of the NDR. */
  latency_loads: z.array(percent('a load')).min(1).default([10, 50, 90]),
  /** The loss-at-fixed-rate trial: a share of the ceiling, or a rate per direction in pps. */
  fixed_rate_percent: percent('a rate').default(10),
  fixed_rate_pps: z.number().int().positive().optional(),
  /** Lower rates tried, as shares of a found rate whose verification lost frames. */
  verify_fallbacks: z.array(z.number().gt(0).lt(1)).max(4).default([0.9, 0.5]),
  flows: z.number().int().min(1).max(65_535).default(1),
  direction: z.enum(['bidirectional', 'one-way']).default('bidirectional'),
  generator: z.enum(['softgen', 'trex', 'pktgen']).default('softgen'),
  generator_options: z
    .strictObject({
      tx_cpu: z.number().int().min(0).optional(),
      rx_cpu: z.number().int().min(0).optional(),
      batch: z.number().int().min(1).max(256).optional(),
      drain_ms: z.number().int().min(0).max(60_000).optional(),
      trex_python: z.string().min(1).optional(),
      trex_api_paths: z.array(z.string().min(1)).optional(),
    })
    .default({}),
  /** Calibrate the generator on its own loopback (tgen port pairs cabled to each other). */
  calibrate: z.boolean().default(true),
  calibration_duration_s: z.number().positive().max(600).optional(),
  /** The generator's ports, by pod.yaml name; default: the tgen ports cabled to the device. */
  tgen_ports: portPair.optional(),
  /** The loopback pair for calibration; default: two tgen ports cabled to each other. */
  calibration_ports: portPair.optional(),
  /** Seconds each trial costs beyond its duration, for the budget; default per generator. */
  trial_overhead_s: z.number().min(0).max(600).optional(),
  /** One-off seconds for topology setup and provisioning, for the budget. */
  setup_overhead_s: z.number().min(0).max(3600).default(30),
};

const baseSchema = z.strictObject(forwardingArgsShape);
export type ForwardingArgs = z.output<typeof baseSchema>;

// Validates the shared keys and a topology's own ones at once; every problem is reported.
export function parseForwardingArgs<E extends z.ZodRawShape = Record<never, never>>(
  args: unknown,
  options: { caseName: string; extra?: E; where?: string },
): ForwardingArgs & z.output<z.ZodObject<E>> {
  const schema = z.strictObject({ ...forwardingArgsShape, ...(options.extra ?? {}) }).superRefine((a, ctx) => {
    if (a.ndr_loss_percent > a.pdr_loss_percent) {
      ctx.addIssue({ code: 'custom', path: ['ndr_loss_percent'], message: `expected at most pdr_loss_percent (${a.pdr_loss_percent}), got ${a.ndr_loss_percent}` });
    }
  });
  return parseCaseArgs(schema, args ?? {}, options.caseName, options.where) as ForwardingArgs & z.output<z.ZodObject<E>>;
}
