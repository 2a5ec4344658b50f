// The InfluxDB points of a run, for the Grafana dashboards that Yardstick fed for kvmfornfv:
// the timer case writes `kvmfornfv_cyclictest_<host load>_idle` (idle, cpustress,
// memorystress, iostress, as in kvmfornfv's idle_idle ... iostress_idle scenarios), every
// other case `kvmfornfv_<case_name>`. Timer: one point per node. Forwarding (details.throughput,
// lib/cases/forwarding-figures.ts): one point per frame size. hwlatdetect: one point per host.
// Others (oslat, device_interrupt): one point per latency summary in the case's details.
//
// Every point is tagged pod, scenario, installer, build, case, node and load (role,
// frame_size and series where they apply), so a dashboard can GROUP BY node, load. node is
// where the figure was measured; load is kvmfornfv's name of the load beside it: forwarding
// cases run none (idle); `unknown` when a case did not record one. Fields carry their unit in
// their key; latency is always in us (`max_us`, `p99_us`), ns figures kept to the ns.
// `samples` and `overflows` are integers; `max_is_lower_bound` says when max is only a bound.
// Timestamp: the case start, written in ns (`precision=ns`), exact to the millisecond the
// result model keeps. Pushing the same run again overwrites the same points.
import { PushError } from '../errors.ts';
import type { CaseResult, LatencySummary, RunResult } from '../results/model.ts';
import { FORWARDING_CASES } from './comparison.ts';

export type InfluxFieldValue = number | bigint | boolean | string;

export interface InfluxPoint {
  measurement: string;
  tags: Record<string, string>;
  /** number is written as a float, bigint as an integer (`i`), boolean and string as such. */
  fields: Record<string, InfluxFieldValue>;
  timestampNs: bigint;
}

/** kvmfornfv's load names, keyed by the timer case's `load` argument (lib/tools/stress-ng LOAD_KINDS). */
export const KVMFORNFV_LOAD_NAMES: Record<string, string> = { idle: 'idle', cpu: 'cpustress', memory: 'memorystress', io: 'iostress' };

const FIGURES = ['min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999'] as const;
const LOADLESS_CASES: readonly string[] = FORWARDING_CASES;

// Pure: the same run always gives the same points, so tests read them back from a real server.
export function buildInfluxPoints(run: RunResult): InfluxPoint[] {
  return run.cases
    .filter((c) => c.status !== 'skip')
    .flatMap((c) => {
      if (c.caseName === 'timer') return timerPoints(run, c);
      if (c.caseName === 'hwlatdetect') return hwlatdetectPoints(run, c);
      if (Array.isArray(c.details.throughput)) return forwardingPoints(run, c, c.details.throughput);
      return genericPoints(run, c);
    });
}

interface Where {
  node: string;
  load: string;
}

function baseTags(run: RunResult, result: CaseResult, where: Where): Record<string, string> {
  const known = (value: string) => (value.trim() !== '' ? value : 'unknown');
  const tags: Record<string, string> = {
    pod: known(run.environment.nodeName !== '' ? run.environment.nodeName : run.pod.name),
    scenario: known(run.environment.deployScenario),
    installer: known(run.environment.installerType),
    build: known(run.environment.buildTag),
    case: result.caseName,
    node: where.node,
    load: where.load,
  };
  const role = run.nodes[where.node]?.role;
  if (role) tags.role = role;
  return tags;
}

function caseTimestampNs(result: CaseResult): bigint {
  const ms = Date.parse(result.startedAt);
  if (!Number.isFinite(ms)) throw new PushError('other', `case ${result.caseName}: startedAt "${result.startedAt}" is not a timestamp`);
  return BigInt(ms) * 1_000_000n;
}

function summaryFields(summary: LatencySummary): Record<string, InfluxFieldValue> {
  const fields: Record<string, InfluxFieldValue> = {
    samples: BigInt(Math.round(summary.samples)),
    overflows: BigInt(Math.round(summary.overflows)),
    max_is_lower_bound: summary.maxIsLowerBound,
  };
  for (const figure of FIGURES) {
    const value = summary[figure];
    if (value !== null && Number.isFinite(value)) fields[`${figure}_us`] = summary.unit === 'ns' ? Math.round(value) / 1000 : value;
  }
  return fields;
}

// kvmfornfv's name of the load a case recorded beside a figure: `load` is lib/cases/load.ts's
// description ("idle", "cpu on host cpus 0,1"), whose first word is the kind.
function loadNameOf(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const { load, loadKind } = entry as { load?: unknown; loadKind?: unknown };
  const kind = typeof load === 'string' ? (load.trim().split(/\s+/)[0] ?? '') : typeof loadKind === 'string' ? loadKind : undefined;
  return kind === undefined ? undefined : (KVMFORNFV_LOAD_NAMES[kind] ?? 'unknown');
}

// The timer records `{node, load, overall: {summary}}` per node (lib/cases/timer.ts); the
// overall summary is the node's figure, as Yardstick's one value per run was.
function timerPoints(run: RunResult, result: CaseResult): InfluxPoint[] {
  const points: InfluxPoint[] = [];
  for (const [key, value] of Object.entries(result.details)) {
    const entry = value as { node?: unknown; overall?: { summary?: unknown } } | null;
    const summary = entry?.overall?.summary;
    if (!isLatencySummary(summary)) continue;
    const where = { node: typeof entry?.node === 'string' ? entry.node : key, load: loadNameOf(entry) ?? 'unknown' };
    points.push({ measurement: `kvmfornfv_cyclictest_${where.load}_idle`, tags: baseTags(run, result, where), fields: summaryFields(summary), timestampNs: caseTimestampNs(result) });
  }
  return points;
}

// hwlatdetect (lib/cases/hwlatdetect.ts) records no distribution: per host, the largest gap
// (`max_us`, absent when none reached the threshold, then `max_below_threshold` is true), the
// threshold and how many gaps exceeded it.
function hwlatdetectPoints(run: RunResult, result: CaseResult): InfluxPoint[] {
  const points: InfluxPoint[] = [];
  for (const [key, value] of Object.entries(result.details)) {
    const d = value as { node?: unknown; maxUs?: unknown; maxBelowThreshold?: unknown; thresholdUs?: unknown; samplesExceeding?: unknown; durationS?: unknown } | null;
    if (typeof d?.maxBelowThreshold !== 'boolean' || typeof d.samplesExceeding !== 'number') continue;
    const fields: Record<string, InfluxFieldValue> = { max_below_threshold: d.maxBelowThreshold, samples_exceeding: BigInt(Math.round(d.samplesExceeding)) };
    if (typeof d.maxUs === 'number') fields.max_us = d.maxUs;
    if (typeof d.thresholdUs === 'number') fields.threshold_us = d.thresholdUs;
    if (typeof d.durationS === 'number') fields.duration_s = d.durationS;
    const where = { node: typeof d.node === 'string' ? d.node : key, load: 'idle' };
    points.push({ measurement: `kvmfornfv_${result.caseName}`, tags: baseTags(run, result, where), fields, timestampNs: caseTimestampNs(result) });
  }
  return points;
}

// The node that runs the forwarder under test: the one the forwarder's evidence names (the
// OVS-DPDK VNF), else the last node of the recorded path (bare metal: the device; SR-IOV: the
// VNF; OVS-DPDK: host, then VNF).
function forwarderNodeOf(details: Record<string, unknown>): string | undefined {
  const named = (details.forwarder as { node?: unknown } | undefined)?.node;
  if (typeof named === 'string' && named !== '') return named;
  const path = (details.topology as { nodes?: unknown } | undefined)?.nodes;
  const last: unknown = Array.isArray(path) ? path[path.length - 1] : undefined;
  return typeof last === 'string' && last !== '' ? last : undefined;
}

/** What this view reads of one ThroughputEntry (lib/cases/forwarding-figures.ts). */
interface ThroughputShape {
  frameSize?: unknown;
  durationS?: unknown;
  ndrPps?: unknown;
  pdrPps?: unknown;
  ndr?: { isLowerBound?: unknown } | null;
  pdr?: { isLowerBound?: unknown } | null;
  ceilingPps?: unknown;
  lossAtRate?: { ratePps?: unknown; lossPercent?: unknown; valid?: unknown } | null;
  latency?: { ratePps?: unknown; lossPercent?: unknown; valid?: unknown; summary?: unknown } | null;
  calibration?: { maxTxPps?: unknown } | null;
}

// One point per frame size: NDR and PDR (all directions together) only when a trial confirmed
// them, with `*_confirmed` saying so; the loss at the fixed rate when the generator held it;
// the latency the regression gate reads (highest load, directions merged), in us. Rates
// `*_per_direction_pps` are per direction, as the trials were paced.
function forwardingPoints(run: RunResult, result: CaseResult, entries: readonly unknown[]): InfluxPoint[] {
  const where = { node: forwarderNodeOf(result.details) ?? 'unknown', load: 'idle' };
  const points: InfluxPoint[] = [];
  for (const raw of entries) {
    const entry = (raw ?? {}) as ThroughputShape;
    const frameSize = typeof entry.frameSize === 'number' || entry.frameSize === 'imix' ? String(entry.frameSize) : undefined;
    if (frameSize === undefined) continue;
    const fields: Record<string, InfluxFieldValue> = {};
    const put = (key: string, value: unknown) => {
      if (typeof value === 'number' && Number.isFinite(value)) fields[key] = value;
    };
    put('duration_s', entry.durationS);
    for (const [target, pps] of [['ndr', entry.ndrPps], ['pdr', entry.pdrPps]] as const) {
      const confirmed = typeof pps === 'number' && Number.isFinite(pps);
      fields[`${target}_confirmed`] = confirmed;
      if (confirmed) {
        fields[`${target}_pps`] = pps;
        fields[`${target}_is_lower_bound`] = entry[target]?.isLowerBound === true;
      }
    }
    put('ceiling_pps', entry.ceilingPps);
    put('generator_max_pps', entry.calibration?.maxTxPps);
    if (entry.lossAtRate?.valid === true) {
      put('loss_at_rate_percent', entry.lossAtRate.lossPercent);
      put('fixed_rate_per_direction_pps', entry.lossAtRate.ratePps);
    }
    // A latency trial the generator could not drive measured less load than asked: not plotted.
    if (entry.latency && entry.latency.valid !== false && isLatencySummary(entry.latency.summary)) {
      Object.assign(fields, summaryFields(entry.latency.summary));
      put('latency_rate_per_direction_pps', entry.latency.ratePps);
      put('latency_loss_percent', entry.latency.lossPercent);
    }
    const tags = { ...baseTags(run, result, where), frame_size: frameSize };
    points.push({ measurement: `kvmfornfv_${result.caseName}`, tags, fields, timestampNs: caseTimestampNs(result) });
  }
  return points;
}

// A summary under a node's name was measured on that node, except the generator's own figure
// that the device interrupt records beside the receiver's (`pacing_error`, with
// `generator_node`, lib/cases/device-interrupt.ts).
function measuredNodeOf(run: RunResult, path: readonly string[], top: unknown): string | undefined {
  const key = path[0];
  if (key === undefined || !run.nodes[key]) return undefined;
  const generatorNode = (top as { generator_node?: unknown } | null | undefined)?.generator_node;
  return path[1] === 'pacing_error' && typeof generatorNode === 'string' && generatorNode !== '' ? generatorNode : key;
}

// Other cases: every latency summary found in details is a point. Its node is the first key
// when that names a pod node, else the forwarder's node, else `unknown`; its load the one
// recorded beside it; a frameSize beside it becomes the frame_size tag; the numbers beside it
// (rxMpps, overruns) become fields; its path is the series tag that keeps two summaries of one
// case apart.
function genericPoints(run: RunResult, result: CaseResult): InfluxPoint[] {
  const points: InfluxPoint[] = [];
  const caseNode = forwarderNodeOf(result.details);
  const caseLoad = LOADLESS_CASES.includes(result.caseName) ? 'idle' : undefined;
  const visit = (value: unknown, path: string[], parents: Record<string, unknown>[], depth: number) => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    if (isLatencySummary(value)) {
      const top = path[0] === undefined ? undefined : result.details[path[0]];
      const where = { node: measuredNodeOf(run, path, top) ?? caseNode ?? 'unknown', load: loadNameOf(top) ?? caseLoad ?? 'unknown' };
      const tags: Record<string, string> = { ...baseTags(run, result, where), series: path.join('.') };
      const parent = parents[parents.length - 1];
      const frameSize = [...parents].reverse().map(frameSizeOf).find((f) => f !== undefined);
      if (frameSize !== undefined) tags.frame_size = String(frameSize);
      const fields = { ...siblingFields(parent, value), ...summaryFields(value) };
      points.push({ measurement: `kvmfornfv_${result.caseName}`, tags, fields, timestampNs: caseTimestampNs(result) });
      return;
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (const [key, inner] of entries) visit(inner, [...path, key], Array.isArray(value) ? parents : [...parents, value as Record<string, unknown>], depth + 1);
  };
  visit(result.details, [], [], 0);
  return points;
}

function frameSizeOf(obj: Record<string, unknown>): number | undefined {
  const value = obj.frameSize ?? obj.frame_size;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function siblingFields(parent: Record<string, unknown> | undefined, summary: unknown): Record<string, InfluxFieldValue> {
  const fields: Record<string, InfluxFieldValue> = {};
  if (!parent) return fields;
  for (const [key, value] of Object.entries(parent)) {
    if (value === summary || key === 'frameSize' || key === 'frame_size') continue;
    if (typeof value === 'number' && Number.isFinite(value)) fields[snakeCase(key)] = value;
  }
  return fields;
}

function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function isLatencySummary(value: unknown): value is LatencySummary {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (v.unit === 'us' || v.unit === 'ns') && typeof v.samples === 'number' && 'max' in v && 'min' in v && 'avg' in v;
}
