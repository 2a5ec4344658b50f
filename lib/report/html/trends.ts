// Trends across the results history: the regression figures (timer p99 and max per node,
// forwarding NDR/PDR per frame size) of the comparable earlier runs and this one, in start
// order. Comparable means what the regression gate needs first: same pod, same threshold
// profile, same duration. Pure: runs in, series out; reading history.jsonl is load-inputs.ts.
import type { RunResult } from '../../results/model.ts';
import { FIGURE_EXTRACTORS, POD_WIDE, type RegressionFigure } from '../../regression/figures.ts';
import { isUnfinished } from '../../results/status.ts';

export interface TrendPoint {
  runId: string;
  startedAt: string;
  /** Null when the run had no such figure; the line has a gap there. */
  value: number | null;
  /** True when the value is only a lower bound (an overflowed histogram's max). */
  bound: boolean;
}

export interface TrendSeries {
  /** e.g. `guest all threads max` */
  name: string;
  points: TrendPoint[];
}

export interface TrendChart {
  id: string;
  caseName: string;
  /** `latency` in microseconds or `throughput` in Mpps. */
  kind: 'latency' | 'throughput';
  unit: 'us' | 'Mpps';
  runs: { runId: string; startedAt: string }[];
  series: TrendSeries[];
}

export interface TrendView {
  charts: TrendChart[];
  /** Runs shown, oldest first; the last one is this run. */
  runs: { runId: string; startedAt: string; status: string; kernels: string }[];
  /** What was left out and why, e.g. `3 earlier runs used another duration`. */
  notes: string[];
}

/** Runs beyond this many are left out of the trend, oldest first. */
export const MAX_TREND_RUNS = 30;

// Like findBaseline's filter, plus the duration: max over different lengths misleads.
export function isTrendComparable(current: RunResult, other: RunResult): boolean {
  return other.runId !== current.runId && !isUnfinished(other) && other.pod.name === current.pod.name && other.thresholds.profile === current.thresholds.profile
    && other.options.durationS === current.options.durationS && Date.parse(other.startedAt) < Date.parse(current.startedAt);
}

function figuresOf(run: RunResult): RegressionFigure[] {
  return run.cases
    .filter((c) => c.status === 'pass' || c.status === 'fail')
    .flatMap((c) => FIGURE_EXTRACTORS[c.caseName]?.(c).figures ?? []);
}

function displayValue(f: RegressionFigure): { value: number | null; bound: boolean } {
  const raw = f.value ?? f.atLeast ?? null;
  if (raw === null) return { value: null, bound: false };
  const value = f.unit === 'ns' ? raw / 1000 : f.unit === 'pps' ? raw / 1e6 : raw;
  return { value, bound: f.value === null };
}

function seriesName(f: RegressionFigure): string {
  const where = f.node === POD_WIDE || f.where.startsWith(`${f.node} `) ? f.where : `${f.node} ${f.where}`;
  return `${where} ${f.metric}`;
}

function kernelsOf(run: RunResult): string {
  const kernels = [...new Set(Object.values(run.nodes).map((n) => n.kernelRelease ?? 'unknown'))];
  return kernels.length === 0 ? 'not recorded' : kernels.join(', ');
}

// Charts only when there is something to trend: at least one earlier comparable run.
export function buildTrendView(current: RunResult, history: readonly RunResult[]): TrendView {
  const notes: string[] = [];
  const comparable = history.filter((r) => isTrendComparable(current, r));
  const skipped = history.filter((r) => r.runId !== current.runId).length - comparable.length;
  if (skipped > 0) notes.push(`${skipped} run${skipped === 1 ? '' : 's'} of the history left out: another pod, threshold profile or duration, or not earlier than this run`);
  const sorted = [...comparable].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  if (sorted.length > MAX_TREND_RUNS - 1) notes.push(`only the ${MAX_TREND_RUNS - 1} most recent of ${sorted.length} comparable earlier runs are shown`);
  const runs = [...sorted.slice(-(MAX_TREND_RUNS - 1)), current];
  const view: TrendView = {
    charts: [],
    runs: runs.map((r) => ({ runId: r.runId, startedAt: r.startedAt, status: r.status, kernels: kernelsOf(r) })),
    notes,
  };
  if (runs.length < 2) {
    notes.push('no comparable earlier run in the results history: nothing to trend yet');
    return view;
  }
  const kernels = new Set(view.runs.map((r) => r.kernels));
  if (kernels.size > 1) notes.push('the kernels differ between these runs (see the table): a step in a line may be the kernel, not the change under test');
  const perRun = runs.map((r) => new Map(figuresOf(r).map((f) => [f.id, f])));
  const charts = new Map<string, TrendChart>();
  const order: string[] = [];
  for (const figures of perRun) {
    for (const f of figures.values()) {
      const kind = f.metric === 'ndr' || f.metric === 'pdr' ? 'throughput' : 'latency';
      const key = `${f.caseName}:${kind}`;
      let chart = charts.get(key);
      if (!chart) {
        chart = { id: `trend-${f.caseName}-${kind}`, caseName: f.caseName, kind, unit: kind === 'latency' ? 'us' : 'Mpps', runs: view.runs.map(({ runId, startedAt }) => ({ runId, startedAt })), series: [] };
        charts.set(key, chart);
        order.push(key);
      }
      if (chart.series.some((s) => s.name === seriesName(f))) continue;
      chart.series.push({
        name: seriesName(f),
        points: runs.map((r, i) => ({ runId: r.runId, startedAt: r.startedAt, ...(perRun[i]?.has(f.id) ? displayValue(perRun[i].get(f.id) as RegressionFigure) : { value: null, bound: false }) })),
      });
    }
  }
  view.charts = order.map((k) => charts.get(k) as TrendChart);
  if (view.charts.length === 0) notes.push('these runs have no figures to trend: their cases ended in error or skip, or have no regression figures');
  return view;
}
