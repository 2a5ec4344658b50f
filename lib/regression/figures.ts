// Which figures of a case the regression gate compares, where in CaseResult.details they
// live, and the case arguments that move them (the like-with-like conditions). One registry
// entry per case name, so a new case plugs in with one line; cases without an entry are
// skipped with a note, never silently.
import type { CaseResult, LatencySummary } from '../results/model.ts';
import type { FigureMetric } from '../results/regression-report.ts';
import { readAccelerator, readDeviceInterruptConditions, readForwardingConditions, readHwlatdetectConditions, readOslatConditions, readTimerConditions } from './conditions.ts';
import { isObject, percent, str } from './values.ts';

/** How a metric gets worse: throughput falls, latency rises. */
export type Direction = 'higher-is-better' | 'lower-is-better';

export const REGRESSION_METRICS = {
  ndr: { direction: 'higher-is-better', what: 'NDR throughput' },
  pdr: { direction: 'higher-is-better', what: 'PDR throughput' },
  p99: { direction: 'lower-is-better', what: 'latency p99' },
  max: { direction: 'lower-is-better', what: 'max latency' },
} as const satisfies Record<FigureMetric, { direction: Direction; what: string }>;

export type RegressionMetric = keyof typeof REGRESSION_METRICS;

/** The node name of a figure that belongs to the pod as a whole (a forwarding path). */
export const POD_WIDE = 'pod';

/** The conditions a figure was measured under; two figures compare only when these match. */
export interface FigureContext {
  /** Undefined: the case has no load setting ("none"); null: not recorded. */
  load?: string | null;
  /** Null: not recorded. */
  durationS?: number | null;
  /** Bytes, or 'imix' for the simple IMIX mix. */
  frameSize?: number | 'imix';
  /**
   * Case arguments that move the figure, named with the run.args key that sets them, e.g.
   * `traffic generator (generator)`: `softgen`. Null: the run should have recorded it and did not.
   */
  conditions?: Record<string, string | null>;
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

/**
 * What this run says about a figure the baseline has and this run lacks altogether: the
 * conditions it would have been measured under, as far as the case recorded them (and why
 * it is missing, when the case says), or why this run was not set up to measure it at all.
 */
export type AbsentFigure = { context: FigureContext; why?: string } | { notMeasuredBecause: string };

export interface Extraction {
  figures: RegressionFigure[];
  /** Details that were present but not usable, e.g. a node entry of the wrong shape. */
  notes: string[];
  /** For baseline figures this run lacks; without it they are judged under unknown conditions. */
  absent?: (baseline: RegressionFigure) => AbsentFigure;
}

export type FigureExtractor = (result: CaseResult) => Extraction;

function makeId(caseName: string, node: string, where: string, metric: string): string {
  return `${caseName} ${node} ${where} ${metric}`;
}


function isSummary(v: unknown): v is LatencySummary {
  return isObject(v) && (v.unit === 'us' || v.unit === 'ns') && typeof v.maxIsLowerBound === 'boolean' && isObject(v.notes) && 'p99' in v && 'max' in v;
}

function isLocated(v: unknown): v is { where: string; summary: LatencySummary } {
  return isObject(v) && typeof v.where === 'string' && isSummary(v.summary);
}

// Why a test of this case could not measure: the first error testcase under `prefix`, else the case's reason.
function errorOf(result: CaseResult, prefix = '', infix = ''): string | undefined {
  const t = result.testcases.find((tc) => tc.status === 'error' && tc.title.startsWith(prefix) && tc.title.includes(infix) && tc.message);
  return t?.message ?? result.reason;
}

type FigureBase = Omit<RegressionFigure, 'id' | 'metric' | 'unit' | 'value' | 'where'>;

// p99 and max of one latency distribution; an overflowed max becomes a lower bound.
function latencyFigures(base: FigureBase, located: { where: string; summary: LatencySummary }): RegressionFigure[] {
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

// p99 and max recorded as not measured, so that a latency the baseline had cannot vanish unseen.
function unmeasuredLatency(base: FigureBase, where: string, unit: string, note: string): RegressionFigure[] {
  return (['p99', 'max'] as const).map((metric) => ({ ...base, id: makeId(base.caseName, base.node, where, metric), where, metric, unit, value: null, note }));
}

/**
 * Timer (lib/cases/timer.ts): details[<node name>] = { node, version, durationS, load, threads, overall, command }.
 * Only `overall` is compared: per-thread figures multiply the comparisons and with them the
 * false alarms, while the worst thread already shows in the overall max and p99. oslat records
 * the same shape (lib/cases/oslat.ts) and is read the same way, with its own conditions.
 */
export function extractTimerFigures(result: CaseResult, readConditions: (command: unknown) => Record<string, string | null> = readTimerConditions): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  for (const [key, value] of Object.entries(result.details)) {
    if (!isObject(value) || !isLocated(value.overall) || typeof value.durationS !== 'number' || typeof value.load !== 'string') {
      notes.push(`${result.caseName}: details.${key} is not a timer measurement ({ node, durationS, load, overall: { where, summary } }); skipped`);
      continue;
    }
    const node = typeof value.node === 'string' ? value.node : key;
    const context: FigureContext = { load: value.load, durationS: value.durationS, conditions: { ...readConditions(value.command), ...readAccelerator(value) } };
    figures.push(...latencyFigures({ caseName: result.caseName, node, context }, value.overall));
  }
  const absent = (b: RegressionFigure): AbsentFigure => {
    // Each measured node has tests titled `<node>: ...`; none means the node was not in this run's plan.
    if (result.testcases.length > 0 && !result.testcases.some((t) => t.title.startsWith(`${b.node}:`))) {
      return { notMeasuredBecause: `node ${b.node} was measured in the baseline run and is not part of this run (roles or the pod changed)` };
    }
    // Every node runs with the same arguments: a node that was measured gives them.
    const sibling = figures[0]?.context;
    const why = errorOf(result, `${b.node}:`);
    return { context: sibling ? { ...sibling } : { load: null, durationS: null }, ...(why ? { why } : {}) };
  };
  return { figures, notes, absent };
}

const lossLimit = (target: unknown) => (isObject(target) ? percent(target.lossPercentLimit) : null);

/**
 * Forwarding cases (lib/cases/forwarding-figures.ts ThroughputEntry):
 * details.throughput = [{ frameSize (bytes or 'imix'), durationS, direction, flows, ndrPps, pdrPps,
 * ndr: { lossPercentLimit }, pdr: {...}, node?, load?, latency: { where, summary } | null }];
 * ndrPps/pdrPps are null when no verification confirmed them. NFVbench gates on exactly these
 * throughput figures against the previous run.
 */
export function extractForwardingFigures(result: CaseResult): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  const caseConditions = readForwardingConditions(result.details);
  const plan = isObject(result.details.plan) ? result.details.plan : undefined;
  const absent = (b: RegressionFigure): AbsentFigure => {
    const size = b.context.frameSize;
    const planned = Array.isArray(plan?.frameSizes) ? (plan.frameSizes as unknown[]) : undefined;
    if (planned && size !== undefined && !planned.includes(size)) {
      return { notMeasuredBecause: `frame sizes (frame_sizes) differ: the baseline measured ${size} B, this run's plan has ${planned.join(', ')} B` };
    }
    const context: FigureContext = { durationS: typeof plan?.trialDurationS === 'number' ? plan.trialDurationS : null, conditions: caseConditions };
    if (size !== undefined) context.frameSize = size;
    if (b.context.load !== undefined) context.load = null;
    const why = errorOf(result, `${size} B:`);
    return { context, ...(why ? { why } : {}) };
  };
  const trials = result.details.throughput;
  if (trials === undefined) return { figures, notes: [`${result.caseName}: details.throughput is absent; nothing to compare`], absent };
  if (!Array.isArray(trials)) return { figures, notes: [`${result.caseName}: details.throughput is not a list; skipped`], absent };
  trials.forEach((t: unknown, i) => {
    if (!isObject(t) || (typeof t.frameSize !== 'number' && t.frameSize !== 'imix') || typeof t.durationS !== 'number') {
      notes.push(`${result.caseName}: details.throughput[${i}] lacks frameSize or durationS; skipped`);
      return;
    }
    const node = typeof t.node === 'string' ? t.node : POD_WIDE;
    const where = `${t.frameSize} B frames`;
    const shared = { ...caseConditions, 'direction (direction)': str(t.direction), 'flows (flows)': typeof t.flows === 'number' ? String(t.flows) : null };
    const contextWith = (conditions: Record<string, string | null>): FigureContext => {
      const context: FigureContext = { frameSize: t.frameSize as number | 'imix', durationS: t.durationS as number, conditions: { ...shared, ...conditions } };
      if (typeof t.load === 'string') context.load = t.load;
      return context;
    };
    for (const [metric, field] of [['ndr', 'ndrPps'], ['pdr', 'pdrPps']] as const) {
      const v = t[field];
      const target = t[metric];
      const context = contextWith({ [`${metric.toUpperCase()} loss tolerance (${metric}_loss_percent)`]: lossLimit(target) });
      const figure: RegressionFigure = { id: makeId(result.caseName, node, where, metric), caseName: result.caseName, node, where, metric, unit: 'pps', value: typeof v === 'number' ? v : null, context };
      // A rate the generator capped is only a floor: the device may forward more.
      if (figure.value !== null && isObject(target) && target.isLowerBound === true) {
        figure.atLeast = figure.value;
        figure.value = null;
        figure.note = `${metric.toUpperCase()} is a lower bound: ${typeof target.limitedBy === 'string' ? `limited by the ${target.limitedBy}` : 'the generator could not load the device further'}`;
      } else if (figure.value === null) {
        figure.note = isObject(target) && typeof target.status === 'string'
          ? `${metric.toUpperCase()} not confirmed: the search found ${target.searchPps} pps per direction (${target.status}) and no verification trial passed`
          : `${field} not recorded`;
      }
      figures.push(figure);
    }
    // The load the latency was taken at is a condition, not part of the id: latency_loads may change.
    const ndrTolerance = { 'NDR loss tolerance (ndr_loss_percent)': lossLimit(t.ndr) };
    const base = { caseName: result.caseName, node };
    const latency: unknown = t.latency;
    if (isLocated(t.latency) && isObject(latency) && latency.valid === false) {
      const reasons = Array.isArray(latency.invalidReasons) ? (latency.invalidReasons as unknown[]).filter((r): r is string => typeof r === 'string') : [];
      const why = `the generator could not drive the latency trial (${t.latency.where})${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`;
      figures.push(...unmeasuredLatency({ ...base, context: contextWith(ndrTolerance) }, `${where}, latency`, 'ns', why));
    } else if (isLocated(t.latency)) {
      const context = contextWith({ ...ndrTolerance, 'latency trial (latency_loads)': t.latency.where });
      figures.push(...latencyFigures({ ...base, context }, { where: `${where}, latency`, summary: t.latency.summary }));
    } else if (t.latency === null) {
      const why = Array.isArray(t.notes) ? t.notes.find((n): n is string => typeof n === 'string' && n.includes('latency')) : undefined;
      figures.push(...unmeasuredLatency({ ...base, context: contextWith(ndrTolerance) }, `${where}, latency`, 'ns', why ?? 'no latency trial ran'));
    }
  });
  return { figures, notes, absent };
}

/**
 * Device interrupt (lib/cases/device-interrupt.ts, lib/tools/irq-agent/details.ts):
 * details[<receiver node>] = { period_ns, clock_case, timestamp_kind, receiver, duration_s, load,
 * wire_to_handler: { summary | null, reason }, receive_to_handler: {...}, counts, ... }.
 * The two latencies the VNF sees are compared; pacing_error is the generator's, not the VNF's.
 */
export function extractDeviceInterruptFigures(result: CaseResult): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  for (const [node, d] of Object.entries(result.details)) {
    if (!isObject(d) || typeof d.period_ns !== 'number' || !isObject(d.wire_to_handler) || !isObject(d.receive_to_handler)) {
      notes.push(`${result.caseName}: details.${node} is not a device interrupt measurement ({ period_ns, wire_to_handler, receive_to_handler, ... }); skipped`);
      continue;
    }
    const context: FigureContext = { load: str(d.load), durationS: typeof d.duration_s === 'number' ? d.duration_s : null, conditions: readDeviceInterruptConditions(d) };
    for (const where of ['wire_to_handler', 'receive_to_handler'] as const) {
      const figure = d[where] as Record<string, unknown>;
      if (isSummary(figure.summary)) figures.push(...latencyFigures({ caseName: result.caseName, node, context }, { where, summary: figure.summary }));
      else figures.push(...unmeasuredLatency({ caseName: result.caseName, node, context }, where, 'ns', str(figure.reason) ?? 'not computed'));
    }
  }
  // A receiver entry that is gone says nothing of the conditions; its own tests (`<generator> ->
  // <receiver>: ...`, one receiver per compute group) say why it is gone.
  const absent = (b: RegressionFigure): AbsentFigure => {
    const why = errorOf(result, '', ` -> ${b.node}:`);
    return { context: { load: null, durationS: null }, ...(why ? { why } : {}) };
  };
  return { figures, notes, absent };
}

/**
 * hwlatdetect (lib/cases/hwlatdetect.ts): details[<host>] = { maxUs, maxBelowThreshold, thresholdUs, ... }.
 * A max below the threshold is compared as the threshold, the bound it is known to stay under.
 */
export function extractHwlatdetectFigures(result: CaseResult): Extraction {
  const figures: RegressionFigure[] = [];
  const notes: string[] = [];
  for (const [node, d] of Object.entries(result.details)) {
    if (!isObject(d) || typeof d.maxBelowThreshold !== 'boolean' || typeof d.thresholdUs !== 'number') {
      notes.push(`${result.caseName}: details.${node} is not a hwlatdetect measurement ({ maxUs, maxBelowThreshold, thresholdUs }); skipped`);
      continue;
    }
    const where = 'hwlat tracer';
    const context: FigureContext = { durationS: typeof d.durationS === 'number' ? d.durationS : null, conditions: readHwlatdetectConditions(d) };
    const value = d.maxBelowThreshold ? d.thresholdUs : typeof d.maxUs === 'number' ? d.maxUs : null;
    const figure: RegressionFigure = { id: makeId(result.caseName, node, where, 'max'), caseName: result.caseName, node, where, metric: 'max', unit: 'us', value, context };
    if (d.maxBelowThreshold) figure.note = `no gap reached the ${d.thresholdUs} us threshold: compared as ${d.thresholdUs} us`;
    figures.push(figure);
  }
  const absent = (): AbsentFigure => ({ context: { durationS: null }, ...(errorOf(result) ? { why: errorOf(result) as string } : {}) });
  return { figures, notes, absent };
}

export const FIGURE_EXTRACTORS: Readonly<Record<string, FigureExtractor>> = {
  timer: extractTimerFigures,
  oslat: (result) => extractTimerFigures(result, readOslatConditions),
  hwlatdetect: extractHwlatdetectFigures,
  device_interrupt: extractDeviceInterruptFigures,
  baremetal_forwarding: extractForwardingFigures,
  sriov_forwarding: extractForwardingFigures,
  ovs_dpdk_forwarding: extractForwardingFigures,
};
