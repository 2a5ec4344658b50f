// Latency summaries as the figures a limit is judged on. Each thread (or stream) is its
// own figure, so the worst one decides and the message can name it.
import type { LatencySummary } from '../results/model.ts';
import type { Figure } from '../verdict/limits.ts';

export const LATENCY_METRICS = ['min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999', 'overflows'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

export interface LocatedSummary {
  /** e.g. `guest thread 1 (cpu 1)` */
  where: string;
  summary: LatencySummary;
}

export function buildLatencyFigures(metric: string, summaries: readonly LocatedSummary[]): Figure[] {
  return summaries.map(({ where, summary }) => {
    if (metric === 'overflows') return { value: summary.overflows, unit: 'count', where };
    const value = summary[metric as Exclude<LatencyMetric, 'overflows'>];
    if (metric === 'max' && summary.maxIsLowerBound) {
      const figure: Figure = { value: null, unit: summary.unit, where, note: summary.notes.max ?? 'histogram overflowed' };
      if (value !== null && value !== undefined) figure.atLeast = value;
      return figure;
    }
    if (value === null || value === undefined) {
      return { value: null, unit: summary.unit, where, note: summary.notes[metric] ?? `${metric} not available` };
    }
    return { value, unit: summary.unit, where };
  });
}

/** Key figures for JUnit properties and Jenkins' Measurement Plots, named `<prefix>_<metric>_<unit>`. */
export function summaryMeasurements(prefix: string, summary: LatencySummary): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}_samples`]: summary.samples, [`${prefix}_overflows`]: summary.overflows };
  for (const metric of ['min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999'] as const) {
    const v = summary[metric];
    if (v !== null) out[`${prefix}_${metric}_${summary.unit}`] = v;
  }
  return out;
}
