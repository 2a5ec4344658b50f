// Whether a softgen trial measured the DUT at all. NFVbench's rule: a trial whose achieved
// tx rate is below 90 % of the requested one is invalid, the generator could not keep up,
// so its loss says nothing about the DUT. The other reasons guard against loss or latency
// that belongs to the generator itself.
import type { SoftgenOutput } from './parse.ts';

/** Below this fraction of the requested rate a trial is invalid. */
export const MIN_ACHIEVED_RATE_RATIO = 0.9;

export interface TrialValidity {
  valid: boolean;
  /** One line per reason, empty when valid. */
  reasons: string[];
}

// Lists every reason a trial cannot be used, so the verdict can report "error", not "fail".
export function checkTrialValidity(out: SoftgenOutput): TrialValidity {
  const reasons: string[] = [];
  if (out.interrupted) reasons.push('the run was interrupted (SIGINT/SIGTERM) before it finished');
  for (const d of out.directions) {
    const requested = d.requestedPps ?? 0;
    const achieved = d.achievedTxPps ?? 0;
    if (requested > 0 && achieved < MIN_ACHIEVED_RATE_RATIO * requested) {
      const pct = ((100 * achieved) / requested).toFixed(1);
      reasons.push(`stream ${d.streamId}: achieved ${achieved.toFixed(1)} pps is ${pct} % of the requested ${requested} pps (minimum ${100 * MIN_ACHIEVED_RATE_RATIO} %): the generator could not keep up`);
    }
    if (d.latency !== null && d.latency.negative > 0) {
      reasons.push(`stream ${d.streamId}: ${d.latency.negative} negative latencies: the clock was stepped during the trial`);
    }
  }
  for (const r of out.rxInterfaces) {
    if (r.ringDrops > 0) {
      reasons.push(`${r.name}: the receiver's own ring dropped ${r.ringDrops} frames, so part of the loss is the generator's`);
    }
  }
  return { valid: reasons.length === 0, reasons };
}

// The yes/no form of checkTrialValidity, for searches that only need to know.
export function isTrialValid(out: SoftgenOutput): boolean {
  return checkTrialValidity(out).valid;
}
