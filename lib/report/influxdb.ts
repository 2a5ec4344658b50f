// The InfluxDB view of a run, for the Grafana dashboards that Yardstick fed for kvmfornfv:
// the timer case writes `kvmfornfv_cyclictest_<host load>_idle` (idle, cpustress,
// memorystress, iostress, as in kvmfornfv's idle_idle ... iostress_idle scenarios), every
// other case `kvmfornfv_<case_name>`. One point per latency summary in the case's details.
//
// Fields carry their unit in their key (`max_us`, `p99_us`, `rx_mpps`); `samples` and
// `overflows` are integers; `max_is_lower_bound` says when max is only a bound. Tags: pod,
// scenario, installer, build, case, and where they apply node, role, load, frame_size, series.
// Timestamp: the case start, written in ns (`precision=ns`), exact to the millisecond the
// result model keeps. Pushing the same run again overwrites the same points.
import { ConfigError, PushError } from '../errors.ts';
import type { CaseResult, LatencySummary, RunResult } from '../results/model.ts';
import { newPushOutcome, postWithTimeout, redactUrl, shortServerText, type FetchLike, type PushReporter } from './push-http.ts';

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

// Pure: the same run always gives the same points, so tests read them back from a real server.
export function buildInfluxPoints(run: RunResult): InfluxPoint[] {
  return run.cases.filter((c) => c.status !== 'skip').flatMap((c) => (c.caseName === 'timer' ? timerPoints(run, c) : genericPoints(run, c)));
}

function baseTags(run: RunResult, result: CaseResult): Record<string, string> {
  return {
    pod: run.environment.nodeName !== '' ? run.environment.nodeName : run.pod.name,
    scenario: run.environment.deployScenario,
    installer: run.environment.installerType,
    build: run.environment.buildTag,
    case: result.caseName,
  };
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
    if (value !== null && Number.isFinite(value)) fields[`${figure}_${summary.unit}`] = value;
  }
  return fields;
}

// The timer records `{node, load, overall: {summary}}` per node (lib/cases/timer.ts); the
// overall summary is the node's figure, as Yardstick's one value per run was.
function timerPoints(run: RunResult, result: CaseResult): InfluxPoint[] {
  const points: InfluxPoint[] = [];
  for (const [key, value] of Object.entries(result.details)) {
    const entry = value as { node?: unknown; load?: unknown; overall?: { summary?: unknown } } | null;
    const summary = entry?.overall?.summary;
    if (!isLatencySummary(summary)) continue;
    const node = typeof entry?.node === 'string' ? entry.node : key;
    const loadKind = typeof entry?.load === 'string' ? (entry.load.split(/\s+/)[0] ?? '') : '';
    const load = KVMFORNFV_LOAD_NAMES[loadKind] ?? 'unknown';
    const tags: Record<string, string> = { ...baseTags(run, result), node, load };
    const role = run.nodes[node]?.role;
    if (role) tags.role = role;
    points.push({ measurement: `kvmfornfv_cyclictest_${load}_idle`, tags, fields: summaryFields(summary), timestampNs: caseTimestampNs(result) });
  }
  return points;
}

// Other cases: every latency summary found in details is a point. Its node is the first key
// when that names a pod node; a frameSize beside it becomes the frame_size tag; the numbers
// beside it (rxMpps, lossPercent) become fields; its path is the series tag that keeps two
// summaries of one case apart.
function genericPoints(run: RunResult, result: CaseResult): InfluxPoint[] {
  const points: InfluxPoint[] = [];
  const visit = (value: unknown, path: string[], parents: Record<string, unknown>[], depth: number) => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    if (isLatencySummary(value)) {
      const tags: Record<string, string> = { ...baseTags(run, result), series: path.join('.') };
      const node = path[0] !== undefined && run.nodes[path[0]] ? path[0] : undefined;
      if (node) {
        tags.node = node;
        const role = run.nodes[node]?.role;
        if (role) tags.role = role;
      }
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

// InfluxDB 1.x line protocol escaping: measurement (comma, space), tag keys and values and
// field keys (comma, equals, space), string field values in double quotes (quote, backslash).
// Line breaks cannot be escaped anywhere, so they become spaces; empty tag values are dropped
// because the protocol has no way to write them.
export function formatLinePoint(point: InfluxPoint): string {
  const measurement = escapeWith(point.measurement, /[, ]/g);
  if (measurement === '') throw new PushError('other', 'InfluxDB point without a measurement name');
  const tags = Object.keys(point.tags)
    .sort()
    .filter((k) => point.tags[k] !== undefined && point.tags[k] !== '')
    .map((k) => `${escapeWith(k, /[,= ]/g)}=${escapeWith(point.tags[k] as string, /[,= ]/g)}`);
  const fields = Object.keys(point.fields)
    .sort()
    .flatMap((k) => {
      const value = formatFieldValue(point.fields[k] as InfluxFieldValue);
      return value === undefined ? [] : [`${escapeWith(k, /[,= ]/g)}=${value}`];
    });
  if (fields.length === 0) throw new PushError('other', `InfluxDB point ${point.measurement} has no field with a finite value`);
  return `${[measurement, ...tags].join(',')} ${fields.join(',')} ${point.timestampNs}`;
}

export function formatLineProtocol(points: readonly InfluxPoint[]): string {
  return points.map(formatLinePoint).join('\n');
}

function escapeWith(text: string, special: RegExp): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/\\$/, '\\\\').replace(special, (c) => `\\${c}`);
}

function formatFieldValue(value: InfluxFieldValue): string | undefined {
  if (typeof value === 'bigint') return `${value}i`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `"${value.replace(/[\r\n]+/g, ' ').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return Number.isFinite(value) ? String(value) : undefined;
}

export interface InfluxTarget {
  /** The /write URL with db and precision=ns, credentials removed from the URL. */
  writeUrl: string;
  db: string;
}

/**
 * INFLUXDB_URL is either the write endpoint (`http://host:8086/write?db=kvmfornfv`) or the
 * server's base URL (`http://host:8086`, optionally `?db=NAME`); `/write` is added when the
 * path does not end with it, db defaults to `kvmfornfv`, precision is forced to ns. User and
 * password go in the URL (`http://user:pass@host:8086`, sent as Basic auth) or as u/p query
 * parameters; neither is ever printed.
 */
export function resolveInfluxTarget(raw: string): InfluxTarget {
  const bad = (message: string) => new ConfigError('environment', [{ path: 'INFLUXDB_URL', message }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad(`"${redactUrl(raw)}" is not a URL: expected e.g. http://127.0.0.1:8086/write?db=kvmfornfv`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`scheme ${url.protocol} is not supported: expected http: or https:`);
  if (!url.pathname.endsWith('/write')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/write`;
  const db = url.searchParams.get('db') || 'kvmfornfv';
  url.searchParams.set('db', db);
  url.searchParams.set('precision', 'ns');
  return { writeUrl: url.toString(), db };
}

// One POST for the whole run. 204 is success in InfluxDB 1.x; 400 covers bad lines, type
// conflicts and partial writes; 401/403 credentials; 404 a database that does not exist.
export async function pushToInfluxDb(points: readonly InfluxPoint[], target: InfluxTarget, options: { fetch?: FetchLike | undefined; timeoutMs?: number | undefined } = {}): Promise<void> {
  if (points.length === 0) return;
  const what = `InfluxDB push of ${points.length} points`;
  const answer = await postWithTimeout({
    url: target.writeUrl,
    body: formatLineProtocol(points),
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    what,
  });
  if (answer.status >= 200 && answer.status < 300) return;
  const at = redactUrl(target.writeUrl);
  const server = shortServerText(answer.body);
  if (answer.status === 400) throw new PushError('rejected', `${what} rejected by ${at} (HTTP 400, bad line protocol, field type conflict or partial write): ${server}`);
  if (answer.status === 401 || answer.status === 403) throw new PushError('forbidden', `${what} refused by ${at} (HTTP ${answer.status}): check the user and password in INFLUXDB_URL: ${server}`);
  if (answer.status === 404) throw new PushError('rejected', `${what}: database ${target.db} not found at ${at} (HTTP 404); create it with CREATE DATABASE ${target.db}: ${server}`);
  throw new PushError('other', `${what}: ${at} answered HTTP ${answer.status}: ${server}`);
}

export interface InfluxDbReporterOptions {
  /** INFLUXDB_URL; absent or empty means no push, with a note, and no effect on the exit code. */
  url: string | undefined;
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

// Pushes at onEnd; a bad URL throws here, before the run, as bad input.
export function createInfluxDbReporter(options: InfluxDbReporterOptions): PushReporter {
  const target = options.url ? resolveInfluxTarget(options.url) : undefined;
  const outcome = newPushOutcome('influxdb');
  const log = options.log ?? (() => {});
  return {
    name: 'influxdb',
    outcome,
    async onEnd(run) {
      if (!target) {
        outcome.state = 'skipped';
        outcome.notes.push('INFLUXDB_URL is not set: InfluxDB push skipped');
        log(outcome.notes[0] as string);
        return;
      }
      try {
        const points = buildInfluxPoints(run);
        if (points.length === 0) {
          outcome.state = 'skipped';
          outcome.notes.push('no latency figure to push to InfluxDB');
        } else {
          await pushToInfluxDb(points, target, options);
          outcome.accepted = points.length;
          outcome.state = 'pushed';
        }
        log(`InfluxDB (${redactUrl(target.writeUrl)}): ${outcome.accepted} points pushed`);
      } catch (error) {
        const failure = error instanceof PushError ? error : new PushError('other', `InfluxDB push: ${error instanceof Error ? error.message : String(error)}`);
        outcome.failures.push(failure);
        outcome.state = 'failed';
        log(`InfluxDB push failed [${failure.reason}]: ${failure.message}`);
      }
    },
  };
}
