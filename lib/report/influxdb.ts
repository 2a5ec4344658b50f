// The InfluxDB push of -r: the run's points (lib/report/influx-points.ts) in InfluxDB 1.x
// line protocol, one POST to the server INFLUXDB_URL names; skipped with a note when unset.
import { ConfigError, PushError } from '../errors.ts';
import { buildInfluxPoints, type InfluxFieldValue, type InfluxPoint } from './influx-points.ts';
import { newPushOutcome, postWithTimeout, redactUrl, refuseUnfinishedPush, shortServerText, type FetchLike, type PushReporter } from './push-http.ts';

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
      if (refuseUnfinishedPush(run, outcome)) return log(outcome.notes[0] as string);
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
