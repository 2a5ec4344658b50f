// The timing of a forwarding case, planned before any node is touched: how long each trial
// costs, and how many search trials fit the case's budget (lib/traffic/plan.ts's worst-case
// estimate), so the search is shortened, and says so, rather than overrunning a CI slot.
import { searchTrialBounds } from '../measure/ndr-search.ts';
import type { FrameSize } from '../traffic/line-rate.ts';
import { estimatePlanSeconds, fitSearchTrialsToBudget, type PlanEstimate } from '../traffic/plan.ts';
import type { ForwardingArgs } from './forwarding-args.ts';

/** Seconds a trial costs beyond its duration (start, drain, stop, parse), by generator. */
const TRIAL_OVERHEAD_S: Record<ForwardingArgs['generator'], number> = { softgen: 2, trex: 5, pktgen: 4 };

export interface ForwardingPlan {
  frameSizes: FrameSize[];
  trialDurationS: number;
  calibrationDurationS: number;
  /** Calibration trials per frame size: 2 on a loopback (flood, light load), 1 through the path, 0. */
  calibrationTrials: number;
  maxSearchTrials: number;
  epsilonFraction: number;
  converges: 'always' | 'single-target' | 'maybe-not';
  budgetS: number;
  trialOverheadS: number;
  /** Worst-case seconds of one frame size, calibration included. */
  perFrameSizeS: number;
  estimate: PlanEstimate;
}

// Search trials are cut to what the budget allows; calibration counts as a fixed cost.
export function planForwarding(args: ForwardingArgs, a: { durationOverrideS?: number | undefined; calibrationTrials: number }): ForwardingPlan {
  const trialDurationS = a.durationOverrideS ?? args.trial_duration_s;
  const calibrationDurationS = args.calibration_duration_s ?? Math.min(trialDurationS, 10);
  const trialOverheadS = args.trial_overhead_s ?? TRIAL_OVERHEAD_S[args.generator];
  const epsilonFraction = args.search_resolution_percent / 100;
  // Calibration runs its own, shorter trials.
  const calibrationS = args.frame_sizes.length * a.calibrationTrials * (calibrationDurationS + trialOverheadS);
  const timing = {
    frameSizes: args.frame_sizes,
    trialDurationS,
    // Verification of NDR and PDR, and the fallbacks of both when verification loses frames.
    verificationTrials: 2 + 2 * args.verify_fallbacks.length,
    latencyTrials: args.latency_loads.length + 1,
    trialOverheadS,
    fixedOverheadS: args.setup_overhead_s + calibrationS,
  };
  const bounds = searchTrialBounds(epsilonFraction);
  const fit = fitSearchTrialsToBudget({ plan: timing, budgetS: args.budget_s, epsilonFraction, minSearchTrials: Math.min(6, args.max_search_iterations ?? 6) });
  const maxSearchTrials = Math.min(fit.maxSearchTrials, args.max_search_iterations ?? Infinity);
  const converges = maxSearchTrials >= bounds.worst ? 'always' : maxSearchTrials >= bounds.single ? 'single-target' : 'maybe-not';
  return {
    frameSizes: args.frame_sizes,
    trialDurationS,
    calibrationDurationS,
    calibrationTrials: a.calibrationTrials,
    maxSearchTrials,
    epsilonFraction,
    converges,
    budgetS: args.budget_s,
    trialOverheadS,
    perFrameSizeS: estimatePlanSeconds({ ...timing, frameSizes: [0], maxSearchTrials, fixedOverheadS: 0 }).totalS + a.calibrationTrials * (calibrationDurationS + trialOverheadS),
    estimate: estimatePlanSeconds({ ...timing, maxSearchTrials }),
  };
}

