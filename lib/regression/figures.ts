// Which figures of a case the regression gate compares, and where in CaseResult.details
// they live. One registry entry per case name, so a new case plugs in with one line;
// cases without an entry are skipped with a note, never silently.
import type { CaseResult, LatencySummary } from '../results/model.ts';

/** How a metric gets worse: throughput falls, latency rises. */
export type Direction = 'higher-is-better' | 'lower-is-better';

export const REGRESSION_METRICS = {
  ndr: { direction: 'higher-is-better', what: 'NDR throughput' },
  pdr: { direction: 'higher-is-better', what: 'PDR throughput' },
  p99: { direction: 'lower-is-better', what: 'latency p99' },
  max: { direction: 'lower-is-better', what: 'max latency' },
} as const satisfies Record<string, { direction: Direction; what: string }>;

export type RegressionMetric = keyof typeof REGRESSION_METRICS;

/** The node name of a figure that belongs to the pod as a whole (a forwarding path). */
export const POD_WIDE = 'pod';

/** The conditions a figure was measured under; two figures compare only when these match. */
export interface FigureContext {
  load?: string;
  durationS?: number;
  /** Bytes, or 'imix' for the simple IMIX mix. */
  frameSize?: number | 'imix';
}

export interface RegressionFigure {
  /** Stable across runs: `<case> <node> <where> <metric>`; baseline and current meet on it. */
  id: string;
  caseName: string;
  node: string;
  /** e.g. `guest all threads`, `64 B frames` */
  where: string;
  metric: RegressionMetric;
  unit: string;
  /** Null when the run could not give the figure; `note` says why. */
  value: number | null;
  /** For a null value: a bound the true value is known to exceed (an overflowed histogram's max). */
  atLeast?: number;
  note?: string;
  context: FigureContext;
}

export interface Extraction {
  figures: RegressionFigure[];
  /** Details that were present but not usable, e.g. a node entry of the wrong shape. */
  notes: string[];
}

export type FigureExtractor = (result: CaseResult) => Extraction;

function makeId(caseName: string, node: string, where: string, metric: string): string {
  return `${caseName} ${node} ${where} ${metric}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isSummary(v: unknown): v is LatencySummary {
  return isObject(v) && (v.unit === 'us' || v.unit === 'ns') && typeof v.maxIsLowerBound === 'boolean' && isObject(v.notes) && 'p99' in v && 'max' in v;
}

function isLocated(v: unknown): v is { where: string; summary: LatencySummary } {
  return isObject(v) && typeof v.where === 'string' && isSummary(v.summary);
}

// p99 and max of one latency distribution; an overflowed max becomes a lower bound.
function latencyFigures(base: Omit<RegressionFigure, 'id' | 'metric' | 'unit' | 'value' | 'where'>, located: { where: string; summary: LatencySummary }): RegressionFigure[] {
  const { where, summary } = located;
  const out: RegressionFigure[] = [];
  for (const metric of ['p99', 'max'] as const) {
    const figure: RegressionFigure = { ...base, id: makeId(base.caseName, base.node, where, metric), where, metric, unit: summary.unit, value: summary[metric] };
    if (metric === 'max' && summary.maxIsLowerBound) {
      figure.value = null;
      if (summary.max !== null) figure.atLeast = summary.max;
      figure.note = summary.notes.max ?? 'the histogram overflowed, so max is only a lower bound';
    } else if (figure.value === null) {
      figure.note = summary.notes[metric] ?? `${metric} not available`;
    }
    out.push(figure);
  }
  return out;
}

/**
 * Timer (lib/cases/timer.ts): details[<node name>] = { node, version, durationS, load, threads, overall }.
 * Only `overall` is compared: per-thread figures multiply the comparisons and with them the
 * false alarms, while the worst thread already shows in the overall max and p99.
 */
export function extractTimerFigures(result: CaseResult): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  for (const [key, value] of Object.entries(result.details)) {
    if (!isObject(value) || !isLocated(value.overall) || typeof value.durationS !== 'number' || typeof value.load !== 'string') {
      notes.push(`${result.caseName}: details.${key} is not a timer measurement ({ node, durationS, load, overall: { where, summary } }); skipped`);
      continue;
    }
    const node = typeof value.node === 'string' ? value.node : key;
    figures.push(...latencyFigures({ caseName: result.caseName, node, context: { load: value.load, durationS: value.durationS } }, value.overall));
  }
  return { figures, notes };
}

/**
 * Forwarding cases (lib/cases/forwarding-figures.ts ThroughputEntry):
 * details.throughput = [{ frameSize (bytes or 'imix'), durationS, ndrPps, pdrPps, node?, load?,
 * latency?: { where, summary } }]; ndrPps/pdrPps are null when no verification confirmed them.
 * NFVbench gates on exactly these throughput figures against the previous run.
 */
export function extractForwardingFigures(result: CaseResult): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  const trials = result.details.throughput;
  if (trials === undefined) return { figures, notes: [`${result.caseName}: details.throughput is absent; nothing to compare`] };
  if (!Array.isArray(trials)) return { figures, notes: [`${result.caseName}: details.throughput is not a list; skipped`] };
  trials.forEach((t: unknown, i) => {
    if (!isObject(t) || (typeof t.frameSize !== 'number' && t.frameSize !== 'imix') || typeof t.durationS !== 'number') {
      notes.push(`${result.caseName}: details.throughput[${i}] lacks frameSize or durationS; skipped`);
      return;
    }
    const node = typeof t.node === 'string' ? t.node : POD_WIDE;
    const where = `${t.frameSize} B frames`;
    const context: FigureContext = { frameSize: t.frameSize, durationS: t.durationS };
    if (typeof t.load === 'string') context.load = t.load;
    for (const [metric, field] of [['ndr', 'ndrPps'], ['pdr', 'pdrPps']] as const) {
      const v = t[field];
      const figure: RegressionFigure = { id: makeId(result.caseName, node, where, metric), caseName: result.caseName, node, where, metric, unit: 'pps', value: typeof v === 'number' ? v : null, context };
      if (figure.value === null) figure.note = `${field} not recorded`;
      figures.push(figure);
    }
    if (isLocated(t.latency)) {
      figures.push(...latencyFigures({ caseName: result.caseName, node, context }, { where: `${where}, ${t.latency.where}`, summary: t.latency.summary }));
    }
  });
  return { figures, notes };
}

export const FIGURE_EXTRACTORS: Readonly<Record<string, FigureExtractor>> = {
  timer: extractTimerFigures,
  baremetal_forwarding: extractForwardingFigures,
  sriov_forwarding: extractForwardingFigures,
  ovs_dpdk_forwarding: extractForwardingFigures,
};
