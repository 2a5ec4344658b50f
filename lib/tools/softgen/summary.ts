// Maps a softgen latency result onto the shared LatencySummary of lib/results/model.ts.
// Percentiles the sample count cannot support become null with a note, so that a p99.99
// taken from 2 000 samples (really the maximum of a short run) is never reported as such.
import type { LatencySummary } from '../../results/model.ts';
import type { LatencyResult } from './parse.ts';

const SUPPORT: ReadonlyArray<readonly ['p50' | 'p99' | 'p999' | 'p9999', number]> = [
  ['p50', 2],
  ['p99', 100],
  ['p999', 1_000],
  ['p9999', 10_000],
];

// Builds the result-model view of one direction's latency, in ns.
export function buildLatencySummary(latency: LatencyResult): LatencySummary {
  const notes: Record<string, string> = {};
  const raw = { p50: latency.p50Ns, p99: latency.p99Ns, p999: latency.p999Ns, p9999: latency.p9999Ns };
  const percentiles = { ...raw };
  for (const [name, needed] of SUPPORT) {
    if (latency.samples < needed && raw[name] !== null) {
      percentiles[name] = null;
      notes[name] = `${latency.samples} samples cannot support ${name} (needs ${needed})`;
    }
  }
  if (latency.samples > 0) {
    notes.percentiles = 'upper bound of the histogram bucket (width under 0.8 %), never below the true value';
  }
  if (latency.timestampResolutionNs > 1) {
    notes.resolution = `tx timestamps with ${latency.timestampResolutionNs} ns resolution (kernel pktgen header): each latency up to that much too high`;
  }
  if (latency.negative > 0) notes.negative = `${latency.negative} negative samples (clock stepped) left out`;
  return {
    unit: 'ns',
    samples: latency.samples,
    min: latency.minNs,
    avg: latency.avgNs,
    max: latency.maxNs,
    ...percentiles,
    notes,
    overflows: latency.overflow,
    // softgen keeps the exact maximum even when samples overflow the histogram
    maxIsLowerBound: false,
  };
}
