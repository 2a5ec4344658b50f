// Planning a forwarding case before any frame is sent: which frame sizes, what ceiling each
// search climbs to, which loads get a latency trial, and how long it all takes at worst, so
// that a case refuses a budget it cannot keep instead of overrunning the CI slot.
import type { DataPort } from '../config/pod-model.ts';
import { ConfigError } from '../errors.ts';
import { DEFAULT_LATENCY_LOAD_FRACTIONS, NFVBENCH_DEFAULTS, searchTrialBounds } from '../measure/ndr-search.ts';
import { describeBadFrameSize, formatFrameSize, lineRatePps, type FrameSize } from './line-rate.ts';

/** RFC 2544's sizes plus 1280 (the smallest IPv6 MTU) and IMIX, as VSPERF and NFVbench sweep. */
export const DEFAULT_FRAME_SIZES: readonly FrameSize[] = [64, 128, 256, 512, 1024, 1280, 1518, 'imix'];

// Parses `--frame-sizes 64,1518,imix`; every bad item is named with its position.
export function parseFrameSizes(text: string, source = '--frame-sizes'): FrameSize[] {
  const items = text.split(',').map((s) => s.trim());
  const issues: Array<{ path: string; message: string }> = [];
  const out: FrameSize[] = [];
  if (text.trim() === '') {
    throw new ConfigError(source, [{ path: '', message: 'expected a comma-separated list such as 64,1518,imix, found an empty value' }]);
  }
  items.forEach((item, i) => {
    const where = `item ${i + 1}`;
    if (item === '') {
      issues.push({ path: where, message: `expected a frame size, found nothing between commas in ${JSON.stringify(text)}` });
      return;
    }
    const value: FrameSize | undefined = item.toLowerCase() === 'imix' ? 'imix' : /^\d+$/.test(item) ? Number(item) : undefined;
    const bad = value === undefined ? `expected an integer number of bytes or "imix", found ${JSON.stringify(item)}` : describeBadFrameSize(value);
    if (bad || value === undefined) {
      issues.push({ path: where, message: bad ?? 'unreadable' });
    } else if (out.includes(value)) {
      issues.push({ path: where, message: `${formatFrameSize(value)} is listed twice` });
    } else {
      out.push(value);
    }
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  return out;
}

// The search ceiling for one frame size: the lowest line rate of the tx ports, or, when a
// port has no line rate (a lab veth), the rate calibration measured on the generator.
export function resolveCeiling(a: {
  txPorts: readonly DataPort[];
  frameSize: FrameSize;
  calibratedPps?: number;
}): { ceilingPps: number; source: 'line-rate' | 'calibration' } {
  const withoutRate = a.txPorts.filter((p) => p.lineRateBps === undefined);
  if (withoutRate.length === 0 && a.txPorts.length > 0) {
    return { ceilingPps: Math.min(...a.txPorts.map((p) => lineRatePps(p.lineRateBps!, a.frameSize))), source: 'line-rate' };
  }
  if (a.calibratedPps === undefined || !(a.calibratedPps > 0)) {
    const names = withoutRate.map((p) => p.name).join(', ') || '(no port)';
    throw new ConfigError('search ceiling', [
      { path: 'ports', message: `port ${names} has no lineRateBps, so the ceiling must come from calibrating the generator; no calibrated rate was given` },
    ]);
  }
  return { ceilingPps: a.calibratedPps, source: 'calibration' };
}

// The rates of the latency trials: fixed shares of the NDR, skipping any below 1 pps.
export function planLatencyLoads(ndrPps: number, fractions: readonly number[] = DEFAULT_LATENCY_LOAD_FRACTIONS): Array<{ fraction: number; ratePps: number }> {
  return fractions.map((fraction) => ({ fraction, ratePps: Math.floor(ndrPps * fraction) })).filter((l) => l.ratePps >= 1);
}

export interface PlanTiming {
  frameSizes: readonly FrameSize[];
  trialDurationS: number;
  /** Search trials per frame size at most (the search's iteration cap). */
  maxSearchTrials: number;
  /** Verification trials per frame size: 2 when NDR and PDR differ; default 2. */
  verificationTrials?: number;
  /** Latency trials per frame size; default 3 (10, 50, 90 % of NDR). */
  latencyTrials?: number;
  /** Calibration trials per frame size (pps-only ports); default 0. */
  calibrationTrials?: number;
  /** Seconds each trial costs beyond its duration: connect, setup, stats; default 3. */
  trialOverheadS?: number;
  /** One-off seconds for the case: topology setup, uploads; default 0. */
  fixedOverheadS?: number;
}

export interface PlanEstimate {
  trialsPerFrameSize: number;
  totalTrials: number;
  /** Worst case: every search runs to its cap. */
  totalS: number;
  /** One line a case can log or put in its skip/error message. */
  breakdown: string;
}

// Worst-case wall time of a sweep; the searches usually stop earlier, never later.
export function estimatePlanSeconds(plan: PlanTiming): PlanEstimate {
  const verification = plan.verificationTrials ?? 2;
  const latency = plan.latencyTrials ?? DEFAULT_LATENCY_LOAD_FRACTIONS.length;
  const calibration = plan.calibrationTrials ?? 0;
  const overhead = plan.trialOverheadS ?? 3;
  const fixed = plan.fixedOverheadS ?? 0;
  for (const [name, v] of Object.entries({ trialDurationS: plan.trialDurationS, maxSearchTrials: plan.maxSearchTrials, verification, latency, calibration, overhead, fixed })) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`estimatePlanSeconds: ${name} must be a finite number >= 0, got ${v}`);
  }
  const trialsPerFrameSize = plan.maxSearchTrials + verification + latency + calibration;
  const totalTrials = trialsPerFrameSize * plan.frameSizes.length;
  const totalS = totalTrials * (plan.trialDurationS + overhead) + fixed;
  const sizes = plan.frameSizes.map(formatFrameSize).join(', ');
  const breakdown =
    `${plan.frameSizes.length} frame size(s) (${sizes}) x ${trialsPerFrameSize} trials ` +
    `(${plan.maxSearchTrials} search + ${verification} verification + ${latency} latency + ${calibration} calibration) ` +
    `x (${plan.trialDurationS} s + ${overhead} s overhead)${fixed ? ` + ${fixed} s setup` : ''} = ${Math.ceil(totalS)} s at most`;
  return { trialsPerFrameSize, totalTrials, totalS, breakdown };
}

// The largest search cap that keeps the sweep within budget, so the case can shorten the search
// (coarser NDR, recorded as not converged) instead of overrunning; refuses when even the floor does not fit.
export function fitSearchTrialsToBudget(a: {
  plan: Omit<PlanTiming, 'maxSearchTrials'>;
  budgetS: number;
  /** Fewer search trials than this are not worth running; default 6. */
  minSearchTrials?: number;
  epsilonFraction?: number;
}): { maxSearchTrials: number; estimate: PlanEstimate; converges: 'always' | 'single-target' | 'maybe-not' } {
  const floor = a.minSearchTrials ?? 6;
  const bounds = searchTrialBounds(a.epsilonFraction ?? NFVBENCH_DEFAULTS.epsilonFraction);
  let best: number | undefined;
  for (let n = bounds.worst; n >= floor; n--) {
    if (estimatePlanSeconds({ ...a.plan, maxSearchTrials: n }).totalS <= a.budgetS) {
      best = n;
      break;
    }
  }
  if (best === undefined) {
    const needed = estimatePlanSeconds({ ...a.plan, maxSearchTrials: floor });
    throw new ConfigError('time budget', [
      {
        path: 'budget',
        message: `expected at least ${Math.ceil(needed.totalS)} s for the shortest useful sweep, found a budget of ${a.budgetS} s: ${needed.breakdown}; use fewer frame sizes or a shorter --duration`,
      },
    ]);
  }
  const converges = best >= bounds.worst ? 'always' : best >= bounds.single ? 'single-target' : 'maybe-not';
  return { maxSearchTrials: best, estimate: estimatePlanSeconds({ ...a.plan, maxSearchTrials: best }), converges };
}
