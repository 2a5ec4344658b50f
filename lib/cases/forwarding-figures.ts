// What a forwarding case keeps and judges, per frame size: the results.json entry (the shape
// lib/regression/figures.ts reads: details.throughput = [{frameSize, durationS, ndrPps, pdrPps,
// latency: {where, summary}}]), the compact record of every trial, latency merged over the
// directions, and the figures each threshold metric is judged on. Pure: no I/O.
import type { Limit } from '../config/thresholds.ts';
import { percentilesFromBuckets } from '../measure/hdr.ts';
import type { SearchLimit, TargetName } from '../measure/ndr-search.ts';
import type { LatencySummary } from '../results/model.ts';
import type { StreamDirection, TrialLatency, TrialResult } from '../traffic/generator.ts';
import { formatFrameSize, type FrameSize } from '../traffic/line-rate.ts';
import { toLatencySummary } from '../traffic/trial.ts';
import { convert } from '../verdict/units.ts';
import type { Figure } from '../verdict/limits.ts';

export type TrialPurpose = 'calibration' | 'search' | 'verify' | 'fallback-verify' | 'latency' | 'fixed-rate';

/** One trial as results.json keeps it: enough to redraw the search, without histograms. */
export interface TrialRecord {
  index: number;
  purpose: TrialPurpose;
  /** Requested rate per direction; 0 for an unpaced calibration. */
  ratePps: number;
  durationS: number;
  valid: boolean;
  invalidReasons: string[];
  lossPercent: number;
  txFrames: number;
  rxFrames: number;
  achievedTxPps: number;
  directions: Array<{
    direction: StreamDirection;
    txFrames: number;
    rxFrames: number;
    lostFrames: number;
    achievedTxPps: number;
    sequence: { dropped: number; duplicate: number; outOfOrder: number } | null;
    latency: { samples: number; minNs: number | null; avgNs: number | null; p50Ns: number | null; p99Ns: number | null; maxNs: number | null } | null;
  }>;
}

/** A latency distribution with its histogram as [lowerNs, upperNs, count] rows (both bounds inclusive). */
export interface LatencyRecord {
  summary: LatencySummary;
  histogram: Array<[number, number, number]>;
  jitterNs: number | null;
}

export interface TargetRecord {
  /** The loss this target allows, in percent of frames sent (NDR 0.001, PDR 0.1 by default). */
  lossPercentLimit: number;
  /** The rate the search found, per direction. */
  searchPps: number;
  /** The rate a verification trial confirmed, per direction; null when none passed. */
  confirmedPps: number | null;
  confirmedBy: 'verification' | 'fallback-verification' | 'search (verification off)' | null;
  status: string;
  limitedBy: SearchLimit;
  isLowerBound: boolean;
  converged: boolean;
  interval: { passPps: number; failPps: number | null };
}

export interface LatencyAtLoad {
  loadPercent: number;
  ratePps: number;
  lossPercent: number;
  valid: boolean;
  directions: Array<{ direction: StreamDirection } & LatencyRecord>;
}

export interface CalibrationRecord {
  ports: { tx: string; rx: string };
  /** 'loopback': the generator's ports cabled to each other; 'path': through the device (no loopback). */
  via: 'loopback' | 'path';
  maxTxPps: number;
  /** The generator's own latency at light load (10 % of its maximum), per direction. */
  latencyRatePps: number | null;
  latency: Array<{ direction: StreamDirection } & LatencyRecord>;
  /** Whether the light-load trial was clean (its receive ring dropped nothing, its rate held). */
  latencyValid: boolean | null;
  latencyInvalidReasons: string[];
}

/** One frame size of a forwarding case in results.json details.throughput. */
export interface ThroughputEntry {
  frameSize: FrameSize;
  durationS: number;
  direction: 'one-way' | 'bidirectional';
  flows: number;
  directions: number;
  /** Confirmed NDR, all directions together (frames/s through the device); null when not confirmed. */
  ndrPps: number | null;
  pdrPps: number | null;
  ndr: TargetRecord;
  pdr: TargetRecord;
  ceilingPps: number;
  ceilingSource: 'line-rate' | 'calibration';
  lossAtRate: { ratePps: number; lossPercent: number; valid: boolean; invalidReasons: string[] } | null;
  /**
   * The latency the regression gate, the comparison and InfluxDB read: the highest load,
   * directions merged. valid is false when the generator could not drive that trial's rate:
   * a latency taken under less load than asked must not stand in for it.
   */
  latency: ({ where: string; ratePps: number; lossPercent: number; valid: boolean; invalidReasons: string[] } & LatencyRecord) | null;
  latencyAtLoads: LatencyAtLoad[];
  calibration: CalibrationRecord | null;
  search: { epsilonPps: number; maxSearchTrials: number; generatorLimitPps: number | null; notes: string[] };
  trials: TrialRecord[];
  notes: string[];
}

// The compact form of one trial for results.json.
export function buildTrialRecord(index: number, purpose: TrialPurpose, ratePps: number, r: TrialResult): TrialRecord {
  return {
    index,
    purpose,
    ratePps,
    durationS: r.durationS,
    valid: r.valid,
    invalidReasons: [...r.invalidReasons],
    lossPercent: r.lossPercent,
    txFrames: r.txFrames,
    rxFrames: r.rxFrames,
    achievedTxPps: r.achievedTxPps,
    directions: r.directions.map((d) => ({
      direction: d.direction,
      txFrames: d.txFrames,
      rxFrames: d.rxFrames,
      lostFrames: d.lostFrames,
      achievedTxPps: d.achievedTxPps,
      sequence: d.sequence && { dropped: d.sequence.dropped, duplicate: d.sequence.duplicate, outOfOrder: d.sequence.outOfOrder },
      latency: d.latency && { samples: d.latency.samples, minNs: d.latency.minNs, avgNs: d.latency.avgNs, p50Ns: d.latency.p50Ns, p99Ns: d.latency.p99Ns, maxNs: d.latency.maxNs },
    })),
  };
}

// The results-model view of one latency, with its histogram kept for reports.
export function buildLatencyRecord(l: TrialLatency): LatencyRecord {
  return { summary: toLatencySummary(l), histogram: l.buckets.map((b) => [b.lowerNs, b.upperNs, b.count]), jitterNs: l.jitterNs };
}

// One distribution from several directions: buckets added up where they coincide (same
// generator, same bucket scheme); percentiles are bucket upper bounds, never below the truth.
export function mergeLatencies(latencies: readonly TrialLatency[]): TrialLatency | null {
  const measured = latencies.filter((l) => l.samples > 0);
  if (measured.length === 0) return latencies[0] ?? null;
  if (measured.length === 1) return measured[0]!;
  const buckets = new Map<string, { lowerNs: number; upperNs: number; count: number }>();
  for (const b of measured.flatMap((l) => l.buckets)) {
    const key = `${b.lowerNs}-${b.upperNs}`;
    const have = buckets.get(key);
    if (have) have.count += b.count;
    else buckets.set(key, { ...b });
  }
  const sorted = [...buckets.values()].sort((a, b) => a.lowerNs - b.lowerNs);
  // Different bucket schemes cannot be added: keep the worst direction instead of inventing one.
  if (sorted.some((b, i) => i > 0 && b.lowerNs <= sorted[i - 1]!.upperNs)) {
    return [...measured].sort((a, b) => (b.p99Ns ?? b.maxNs ?? 0) - (a.p99Ns ?? a.maxNs ?? 0))[0]!;
  }
  const samples = measured.reduce((s, l) => s + l.samples, 0);
  const overflows = measured.reduce((s, l) => s + l.overflows, 0);
  const maxNs = Math.max(...measured.map((l) => l.maxNs ?? 0));
  const avgKnown = measured.every((l) => l.avgNs !== null);
  const p = percentilesFromBuckets({ buckets: sorted, overflows, maxNs, resolutionNote: 'upper bound of the merged histogram bucket' });
  return {
    source: measured[0]!.source,
    samples,
    minNs: Math.min(...measured.map((l) => l.minNs ?? Infinity)),
    avgNs: avgKnown ? measured.reduce((s, l) => s + l.avgNs! * l.samples, 0) / samples : null,
    maxNs,
    jitterNs: null,
    p50Ns: p.p50Ns,
    p99Ns: p.p99Ns,
    p999Ns: p.p999Ns,
    p9999Ns: p.p9999Ns,
    resolutionNs: Math.max(...measured.map((l) => l.resolutionNs)),
    buckets: sorted,
    overflows,
    maxIsLowerBound: measured.some((l) => l.maxIsLowerBound),
    notes: { ...p.notes, merged: `${measured.length} directions merged`, jitter: 'null: jitter is per direction (see latencyAtLoads)' },
  };
}

/** Threshold metrics of the forwarding cases; `<metric>@<frame size>` limits one to that size. */
export const FORWARDING_METRICS = ['ndr', 'pdr', 'loss_at_rate', 'latency_min', 'latency_avg', 'latency_p50', 'latency_p99', 'latency_p999', 'latency_p9999', 'latency_max'] as const;
export type ForwardingMetric = (typeof FORWARDING_METRICS)[number];

// Every metric name a profile may give a forwarding case: each metric alone and with each
// standard frame size, for loadThresholds' knownMetrics check.
export function listForwardingMetricNames(frameSizes: readonly (number | 'imix')[] = [64, 128, 256, 512, 1024, 1280, 1518, 'imix']): string[] {
  return FORWARDING_METRICS.flatMap((m) => [m, ...frameSizes.map((s) => `${m}@${s}`)]);
}

// Splits `ndr@64` into the metric and the frame size it is limited to (undefined: every size).
export function parseForwardingMetric(metric: string): { metric: ForwardingMetric; frameSize?: string } | undefined {
  const m = /^([a-z_0-9]+)(?:@(\d+|imix))?$/.exec(metric);
  if (!m || !(FORWARDING_METRICS as readonly string[]).includes(m[1]!)) return undefined;
  return m[2] === undefined ? { metric: m[1] as ForwardingMetric } : { metric: m[1] as ForwardingMetric, frameSize: m[2] };
}

// Whether a limit from the profile is judged on this frame size.
export function limitAppliesTo(limit: Pick<Limit, 'metric'>, frameSize: FrameSize): boolean {
  const parsed = parseForwardingMetric(limit.metric);
  return parsed?.frameSize === undefined || parsed.frameSize === formatFrameSize(frameSize);
}

// The figures one limit is judged on, for one frame size. A rate that is only a lower bound
// (generator, calibrated ceiling, iteration cap) passes a minimum only when the bound already
// reaches it; otherwise it is unknown, never a failure the device did not cause nor a pass.
export function buildForwardingFigures(entry: ThroughputEntry | undefined, metricName: string, limit?: Pick<Limit, 'min' | 'max' | 'unit'>): Figure[] {
  const parsed = parseForwardingMetric(metricName);
  if (!entry) return [];
  const size = `${formatFrameSize(entry.frameSize)} B`;
  if (!parsed) return [{ value: null, unit: 'count', where: size, note: `unknown forwarding metric "${metricName}"; expected one of ${FORWARDING_METRICS.join(', ')} (optionally @<frame size>)` }];
  const { metric } = parsed;
  if (metric === 'ndr' || metric === 'pdr') return [rateFigure(entry, metric, limit)];
  if (metric === 'loss_at_rate') {
    const l = entry.lossAtRate;
    if (!l) return [{ value: null, unit: 'percent', where: size, note: 'no fixed-rate trial ran' }];
    const where = `${size} at ${Math.round(l.ratePps)} pps per direction`;
    if (!l.valid) return [{ value: null, unit: 'percent', where, note: `the generator could not drive the fixed rate: ${l.invalidReasons.join('; ')}` }];
    return [{ value: l.lossPercent, unit: 'percent', where }];
  }
  const key = metric.slice('latency_'.length) as 'min' | 'avg' | 'p50' | 'p99' | 'p999' | 'p9999' | 'max';
  if (entry.latencyAtLoads.length === 0) return [{ value: null, unit: 'ns', where: size, note: 'no latency trial ran (no NDR was confirmed)' }];
  return entry.latencyAtLoads.flatMap((load) =>
    load.directions.map((d): Figure => {
      const where = `${size}, ${load.loadPercent} % of NDR (${Math.round(load.ratePps)} pps), ${d.direction}`;
      const s = d.summary;
      const value = s[key];
      if (!load.valid) return { value: null, unit: s.unit, where, note: 'the generator could not drive this latency trial' };
      if (key === 'max' && s.maxIsLowerBound) return { value: null, unit: s.unit, where, ...(value === null ? {} : { atLeast: value }), note: s.notes.max ?? 'max is only a lower bound' };
      return value === null ? { value: null, unit: s.unit, where, note: s.notes[key] ?? `${key} not available` } : { value, unit: s.unit, where };
    }),
  );
}

function rateFigure(entry: ThroughputEntry, metric: TargetName, limit: Pick<Limit, 'min' | 'max' | 'unit'> | undefined): Figure {
  const t = entry[metric];
  const where = `${formatFrameSize(entry.frameSize)} B, ${entry.direction}`;
  const total = metric === 'ndr' ? entry.ndrPps : entry.pdrPps;
  if (total === null || t.confirmedPps === null) {
    return { value: null, unit: 'pps', where, note: `${metric.toUpperCase()} not confirmed: the search found ${t.searchPps} pps per direction (${t.status}) and no verification trial passed` };
  }
  if (!t.isLowerBound) return { value: total, unit: 'pps', where };
  const why = `${metric.toUpperCase()} is only known to be at least ${Math.round(total)} pps (limited by ${t.limitedBy})`;
  if (limit?.min !== undefined && total >= convert(limit.min, limit.unit, 'pps')) return { value: total, unit: 'pps', where: `${where} (${why})` };
  return { value: null, unit: 'pps', where, note: `${why}; cannot tell whether the device reaches the limit` };
}

// Jenkins Measurement Plots values for one frame size: rates in pps, latency in ns.
export function buildFrameMeasurements(entry: ThroughputEntry): Record<string, number> {
  const fs = formatFrameSize(entry.frameSize);
  const out: Record<string, number> = {};
  if (entry.ndrPps !== null) out[`${fs}_ndr_pps`] = Math.round(entry.ndrPps);
  if (entry.pdrPps !== null) out[`${fs}_pdr_pps`] = Math.round(entry.pdrPps);
  if (entry.lossAtRate?.valid) out[`${fs}_loss_at_rate_percent`] = entry.lossAtRate.lossPercent;
  const s = entry.latency?.summary;
  for (const k of ['p50', 'p99', 'max'] as const) {
    const v = s?.[k];
    if (v !== null && v !== undefined) out[`${fs}_${k}_ns`] = v;
  }
  if (entry.calibration) out[`${fs}_generator_max_pps`] = Math.round(entry.calibration.maxTxPps);
  return out;
}
