// The OPNFV TestAPI view of a run: one `POST /api/v1/results` per executed case, shaped as
// Xtesting's push_to_db sends it (opnfv/functest-xtesting xtesting/core/testcase.py), so
// the OPNFV dashboards read kvmfornfv like any Xtesting project. The push only reads the
// result model: whatever happens here, results.json and junit.xml stay as written.
import { appendFile as fsAppendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, PushError } from '../errors.ts';
import type { CaseResult, RunResult } from '../results/model.ts';
import { newPushOutcome, postWithTimeout, redactUrl, refuseUnfinishedPush, shortServerText, type FetchLike, type PushReporter } from './push-http.ts';
import { describeTestApiRefusal } from './testapi-answer.ts';
import { validateTestApiPayload } from './push-testapi-validate.ts';

export { TESTAPI_FIELDS, validateTestApiPayload } from './push-testapi-validate.ts';

export interface TestApiPayload {
  project_name: string;
  case_name: string;
  pod_name: string;
  installer: string;
  version: string;
  scenario: string;
  criteria: 'PASS' | 'FAIL';
  start_date: string;
  stop_date: string;
  build_tag: string;
  details: Record<string, unknown>;
}

/** Xtesting's `_job_name_rule`: the branch of a Jenkins job name such as `...-daily-master-pod-12`. */
export const XTESTING_JOB_NAME_RULE = /(dai|week)ly-(.+?)-[0-9]*/;

// Same rule as Xtesting so that TestAPI's `version` query finds our results beside Functest's.
export function extractTestApiVersion(buildTag: string | undefined): string {
  const match = buildTag ? XTESTING_JOB_NAME_RULE.exec(buildTag) : null;
  return match?.[2] ?? 'unknown';
}

// Xtesting formats with strftime('%Y-%m-%d %H:%M:%S') in the host's zone; we use UTC so a
// pod's timezone cannot shift results, and TestAPI compares these strings as they sort.
export function formatTestApiDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new PushError('other', `cannot format "${iso}" as a TestAPI date: expected an ISO 8601 timestamp`);
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Xtesting pushes every case it ran and none it skipped (xtesting/ci/run_tests.py run_test:
 * a skipped case returns before push_to_db; push_to_db itself refuses when is_skipped).
 * So pass, fail and error are pushed, with criteria PASS only for pass; skip is not.
 */
export function buildTestApiPayloads(run: RunResult): TestApiPayload[] {
  return run.cases.filter((c) => c.status !== 'skip').map((c) => buildTestApiPayload(run, c));
}

function buildTestApiPayload(run: RunResult, result: CaseResult): TestApiPayload {
  const env = run.environment;
  return {
    project_name: result.projectName,
    case_name: result.caseName,
    // Xtesting sends NODE_NAME; outside Jenkins it is unset, and the pod's own name is the truth.
    pod_name: env.nodeName !== '' ? env.nodeName : run.pod.name,
    installer: env.installerType,
    version: extractTestApiVersion(env.buildTag),
    scenario: env.deployScenario,
    criteria: result.status === 'pass' ? 'PASS' : 'FAIL',
    start_date: formatTestApiDate(result.startedAt),
    stop_date: formatTestApiDate(result.stoppedAt),
    build_tag: env.buildTag,
    details: buildDetails(run, result),
  };
}

// The measured figures stay under `results` exactly as in results.json; the rest says how
// the verdict came about, so a FAIL in the dashboard can be read without the Jenkins log.
function buildDetails(run: RunResult, result: CaseResult): Record<string, unknown> {
  const details: Record<string, unknown> = {
    status: result.status,
    tier: result.tier,
    run_id: run.runId,
    schema_version: run.schemaVersion,
    threshold_profile: run.thresholds.profile,
    duration_s: result.durationMs / 1000,
    lab: run.pod.lab,
    testcases: result.testcases.map((t) => ({
      name: t.title,
      status: t.status,
      ...(t.message !== undefined ? { message: t.message } : {}),
      ...(Object.keys(t.measurements).length > 0 ? { measurements: t.measurements } : {}),
    })),
    results: result.details,
  };
  if (result.reason !== undefined) details.reason = result.reason;
  if (result.explanations && result.explanations.length > 0) details.explanations = result.explanations;
  if (run.tools && Object.keys(run.tools).length > 0) details.tools = run.tools;
  // A non-finite number or an undefined would be lost or refused on the way: send what JSON keeps.
  return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
}

export interface TestApiPushOptions {
  fetch?: FetchLike | undefined;
  /** TEST_DB_TOKEN: sent as X-Auth-Token, the header a TestAPI with auth on checks (releng-testresults common/check.py valid_token). */
  token?: string | undefined;
  /** Used for `file://` URLs; defaults to fs.appendFile. */
  appendFile?: ((path: string, data: string) => Promise<void>) | undefined;
  timeoutMs?: number | undefined;
}

// One payload, one request: the error says which case, which server and what TestAPI said.
export async function pushTestApiPayload(payload: TestApiPayload, url: string, options: TestApiPushOptions = {}): Promise<void> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    const append = options.appendFile ?? (async (p: string, data: string) => {
      await mkdir(dirname(p), { recursive: true });
      await fsAppendFile(p, data);
    });
    try {
      await append(path, `${JSON.stringify(payload)}\n`);
    } catch (error) {
      throw new PushError('other', `TestAPI result of ${payload.case_name}: cannot append to ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return;
  }
  const what = `TestAPI result of ${payload.case_name}`;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (options.token) headers['X-Auth-Token'] = options.token;
  const answer = await postWithTimeout({ url, body: JSON.stringify(payload), headers, fetch: options.fetch, timeoutMs: options.timeoutMs, what });
  if (answer.status >= 200 && answer.status < 300) return;
  // A server that echoes the header back must not put the token in a log.
  const body = options.token ? answer.body.replaceAll(options.token, '***') : answer.body;
  throw describeTestApiRefusal({ answer: { status: answer.status, body }, payload, at: redactUrl(url), tokenSent: Boolean(options.token) });
}

export interface TestApiPushResult {
  accepted: number;
  failures: PushError[];
}

/** `file://` appends one JSON line per payload; http(s) POSTs each. Stops at the first unreachable. */
export async function pushToTestApi(payloads: readonly TestApiPayload[], url: string, options: TestApiPushOptions = {}): Promise<TestApiPushResult> {
  checkTestApiUrl(url);
  const result: TestApiPushResult = { accepted: 0, failures: [] };
  for (const payload of payloads) {
    try {
      await pushTestApiPayload(payload, url, options);
      result.accepted += 1;
    } catch (error) {
      const pushError = error instanceof PushError ? error : new PushError('other', `TestAPI result of ${payload.case_name}: ${String(error)}`, { cause: error });
      result.failures.push(pushError);
      // A 400 or 403 is about one case; a dead server or a refused token is about all of them.
      if (pushError.reason === 'unreachable' || pushError.reason === 'unauthorized') break;
    }
  }
  return result;
}

// A token that cannot go in an HTTP header is bad input too; its value is never shown.
export function checkTestApiToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('environment', [{ path: 'TEST_DB_TOKEN', message: "expected a TestAPI access token: printable ASCII, no spaces or control characters (the value is not shown)" }]);
  }
  return token;
}

// A typo in TEST_DB_URL is bad input, found before the first case runs.
export function checkTestApiUrl(url: string): URL {
  const expected = 'expected http(s)://host/api/v1/results or file:///path/results.json';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('environment', [{ path: 'TEST_DB_URL', message: `"${redactUrl(url)}" is not a URL: ${expected}` }]);
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) {
    throw new ConfigError('environment', [{ path: 'TEST_DB_URL', message: `scheme ${parsed.protocol} is not supported: ${expected}` }]);
  }
  // file://results.jsonl makes "results.jsonl" the host: found here, not after the run.
  if (parsed.protocol === 'file:') {
    try {
      fileURLToPath(parsed);
    } catch {
      throw new ConfigError('environment', [{ path: 'TEST_DB_URL', message: `"${url}" does not name a local file (a file URL has three slashes and an absolute path): ${expected}` }]);
    }
  }
  return parsed;
}

export interface TestApiReporterOptions extends TestApiPushOptions {
  url: string;
  log?: ((line: string) => void) | undefined;
}

// Pushes once, at the end, when every case has its final status; failures are recorded in
// `outcome` (for exit code 69), never thrown, so the other reporters are not disturbed.
export function createTestApiReporter(options: TestApiReporterOptions): PushReporter {
  checkTestApiUrl(options.url);
  checkTestApiToken(options.token);
  const outcome = newPushOutcome('testapi');
  const log = options.log ?? (() => {});
  return {
    name: 'testapi',
    outcome,
    async onEnd(run) {
      if (refuseUnfinishedPush(run, outcome)) return log(outcome.notes[0] as string);
      const payloads = buildTestApiPayloads(run);
      const sendable: TestApiPayload[] = [];
      for (const payload of payloads) {
        const issues = validateTestApiPayload(payload);
        if (issues.length === 0) sendable.push(payload);
        else outcome.failures.push(new PushError('rejected', `TestAPI result of ${payload.case_name} not sent, TestAPI would refuse it: ${issues.join('; ')}`));
      }
      const skipped = run.cases.filter((c) => c.status === 'skip').map((c) => c.caseName);
      if (skipped.length > 0) outcome.notes.push(`not pushed to TestAPI (skipped, as Xtesting does): ${skipped.join(', ')}`);
      if (sendable.length === 0 && outcome.failures.length === 0) {
        outcome.state = 'skipped';
        outcome.notes.push('no executed case to push to TestAPI');
      } else {
        const result = await pushToTestApi(sendable, options.url, options);
        outcome.accepted = result.accepted;
        outcome.failures.push(...result.failures);
        outcome.state = outcome.failures.length > 0 ? 'failed' : 'pushed';
      }
      const auth = options.token && !options.url.startsWith('file:') ? ', X-Auth-Token from TEST_DB_TOKEN' : '';
      log(`TestAPI (${redactUrl(options.url)}${auth}): ${outcome.accepted} of ${payloads.length} results pushed`);
      for (const failure of outcome.failures) log(`TestAPI push failed [${failure.reason}]: ${failure.message}`);
    },
  };
}
