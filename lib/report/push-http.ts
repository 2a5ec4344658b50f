// What TestAPI and InfluxDB pushes share: one HTTP POST with a timeout whose network
// failures all become PushError('unreachable'), URLs shown without credentials, and an
// outcome object the CLI reads after the run to decide on exit code 69.
import { PushError } from '../errors.ts';
import type { Reporter } from './reporter.ts';
import { isUnfinished } from '../results/status.ts';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export interface PushOutcome {
  target: 'testapi' | 'influxdb';
  /** 'not-run' until onEnd; 'skipped' when there was nothing to push or nowhere to push it. */
  state: 'not-run' | 'pushed' | 'skipped' | 'failed';
  /** Payloads (TestAPI) or points (InfluxDB) the server accepted. */
  accepted: number;
  notes: string[];
  failures: PushError[];
}

/** A reporter that pushes; the CLI reads `outcome` after `onEnd`. It records failures instead of throwing. */
export interface PushReporter extends Reporter {
  readonly outcome: PushOutcome;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export const DEFAULT_PUSH_TIMEOUT_MS = 30_000;

// The CLI maps any of these to exit 69, below every higher-precedence code.
export function hasPushFailures(reporters: readonly Reporter[]): boolean {
  return reporters.some((r) => 'outcome' in r && (r as PushReporter).outcome.failures.length > 0);
}

export function newPushOutcome(target: PushOutcome['target']): PushOutcome {
  return { target, state: 'not-run', accepted: 0, notes: [], failures: [] };
}

// A run with no verdict is never pushed: a dashboard would read its finished cases as the run.
// Returns true (and records why) when the push must not happen.
export function refuseUnfinishedPush(run: { runId: string; status: string }, outcome: PushOutcome): boolean {
  if (!isUnfinished(run)) return false;
  outcome.state = 'skipped';
  outcome.notes.push(`run ${run.runId} has no verdict (status ${run.status}): nothing pushed`);
  return true;
}

// Logs and errors name the server, never its password.
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//***@');
  }
  if (parsed.username || parsed.password) {
    parsed.username = parsed.username ? '***' : '';
    parsed.password = '';
  }
  for (const key of ['p', 'password', 'token']) {
    if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

// A hung server must not hang the run: every push has a deadline, and anything below
// HTTP (refused, DNS, reset, timeout) reads as one kind of failure that names the URL.
export async function postWithTimeout(params: {
  url: string;
  body: string;
  headers: Record<string, string>;
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
  what: string;
}): Promise<HttpAnswer> {
  const doFetch = params.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const timeoutMs = params.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const { url, headers } = moveCredentialsToHeader(params.url, params.headers);
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await doFetch(url, { method: 'POST', headers, body: params.body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const why = describeNetworkError(error, timeoutMs).replaceAll(params.url, redactUrl(params.url));
    throw new PushError('unreachable', `${params.what}: no answer from ${redactUrl(params.url)}: ${why}`);
  }
  let body = '';
  try {
    body = await response.text();
  } catch (error) {
    throw new PushError('unreachable', `${params.what}: ${redactUrl(params.url)} answered HTTP ${response.status} but the body could not be read: ${describeNetworkError(error, timeoutMs)}`);
  }
  return { status: response.status, body };
}

// fetch refuses URLs with user:password (and echoes them in its error); servers take Basic auth.
function moveCredentialsToHeader(raw: string, headers: Record<string, string>): { url: string; headers: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw, headers };
  }
  if (!parsed.username && !parsed.password) return { url: raw, headers };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), headers: { ...headers, Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } };
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const code = cause?.code ?? (error as { code?: string } | undefined)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host name not found (DNS)',
    EAI_AGAIN: 'host name lookup failed (DNS)',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return code ? `${message} (${code})` : message;
}

/** Server text for a message: one paragraph, bounded, so a proxy's HTML page cannot flood the log. */
export function shortServerText(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}
