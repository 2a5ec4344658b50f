// TestAPI's rules for `POST /api/v1/results`, checked before sending so a payload the server
// would refuse is reported as ours, with every problem at once. Sources (public repositories):
// - opnfv/releng-testresults testapi/opnfv_testapi/handlers/result_handlers.py, ResultsCLHandler.post:
//   miss_fields = pod_name, project_name, case_name; values_check criteria.upper() in PASS, FAIL;
//   carriers pods, projects, testcases must exist (that one is a 403 only the server can check).
// - opnfv/releng-testresults testapi/opnfv_testapi/common/check.py: miss_fields refuses a field that
//   is None or '' (400); values_check refuses a bad value (400); a body that is not JSON is a 400
//   (handlers/base_handlers.py prepare, json.loads).
// - opnfv/releng-testresults testapi/opnfv_testapi/models/result_models.py, ResultCreateRequest: the
//   eleven fields below. The server stores dates as given and its period/from/to queries compare them
//   as strings (result_handlers.py set_query), so only one fixed format sorts right.
// - opnfv/functest-xtesting xtesting/core/testcase.py push_to_db: criteria 'PASS' or 'FAIL', dates
//   strftime('%Y-%m-%d %H:%M:%S'), version from BUILD_TAG or "unknown", every field set.
// We are stricter than the server where Xtesting is (criteria upper case, dates, all fields present).

export const TESTAPI_FIELDS = [
  'project_name',
  'case_name',
  'pod_name',
  'installer',
  'version',
  'scenario',
  'criteria',
  'start_date',
  'stop_date',
  'build_tag',
  'details',
] as const;

/** Fields whose absence (None or '') makes TestAPI answer 400 (check.miss_fields). */
const SERVER_REQUIRED = new Set(['pod_name', 'project_name', 'case_name']);
const DATE_FORMAT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

// Returns every problem as one line naming the field and what was expected; empty means valid.
export function validateTestApiPayload(payload: unknown): string[] {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return [`payload: expected a JSON object, found ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`];
  }
  const record = payload as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(record)) {
    if (!(TESTAPI_FIELDS as readonly string[]).includes(key)) issues.push(`${key}: not a field of TestAPI's ResultCreateRequest`);
  }
  for (const field of TESTAPI_FIELDS) {
    if (field === 'details') continue;
    const value = record[field];
    if (value === undefined || value === null || value === '') {
      issues.push(`${field}: missing${SERVER_REQUIRED.has(field) ? ' (TestAPI answers 400)' : ' (Xtesting always sets it)'}`);
    } else if (typeof value !== 'string') {
      issues.push(`${field}: expected a string, found ${typeof value}`);
    }
  }
  const criteria = record.criteria;
  if (typeof criteria === 'string' && criteria !== 'PASS' && criteria !== 'FAIL') {
    issues.push(`criteria: expected "PASS" or "FAIL", found ${JSON.stringify(criteria)}`);
  }
  const start = checkDate('start_date', record.start_date, issues);
  const stop = checkDate('stop_date', record.stop_date, issues);
  if (start !== undefined && stop !== undefined && stop < start) {
    issues.push(`stop_date: ${String(record.stop_date)} is before start_date ${String(record.start_date)}`);
  }
  const details = record.details;
  if (details === undefined || details === null) {
    issues.push('details: missing (Xtesting always sends an object, {} when empty)');
  } else if (typeof details !== 'object' || Array.isArray(details)) {
    issues.push(`details: expected an object, found ${Array.isArray(details) ? 'an array' : typeof details}`);
  } else {
    const lost = findNonJson(details, 'details');
    if (lost) issues.push(`${lost}: not representable in JSON (it would be lost or changed on the way)`);
  }
  return issues;
}

function checkDate(field: string, value: unknown, issues: string[]): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const m = DATE_FORMAT.exec(value);
  if (!m) {
    issues.push(`${field}: expected "%Y-%m-%d %H:%M:%S" (e.g. 2026-03-12 10:15:02), found ${JSON.stringify(value)}`);
    return undefined;
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    issues.push(`${field}: ${JSON.stringify(value)} is not a real date and time`);
    return undefined;
  }
  return ms;
}

/** The path of the first value JSON cannot carry faithfully (NaN, Infinity, undefined, function, bigint, class instance). */
function findNonJson(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findNonJson(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      const found = findNonJson(inner, `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return path;
}
