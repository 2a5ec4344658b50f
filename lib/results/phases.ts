// The phases a case's time is split into in results.json, so that the harness's overhead
// beside the measurement is a recorded figure. `other` is what falls in none of them.

export const CASE_PHASES = ['connect', 'provision', 'build', 'measure', 'collect', 'judge', 'cleanup'] as const;
export type CasePhase = (typeof CASE_PHASES)[number];
/** Milliseconds per phase; together they make the case's durationMs (each rounded). */
export type PhaseTimes = Record<CasePhase | 'other', number>;

// Everything but measuring: what the overhead budget of a latency case counts.
export function overheadMs(times: PhaseTimes): number {
  return Object.entries(times).reduce((sum, [phase, ms]) => (phase === 'measure' ? sum : sum + ms), 0);
}
