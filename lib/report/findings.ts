// Advisory findings: a preflight check that failed under a profile severity of `advisory`
// passes its JUnit testcase (it does not fail the job), but it is a finding, never a pass.
// Every view (console, JUnit, HTML) asks here which testcases are findings and what each
// says, so that none of them shows "host runs a PREEMPT_RT kernel" as a green PASS.
import type { CaseResult, RunResult, Status, TestcaseResult } from '../results/model.ts';

/** What a view shows for a testcase: its JUnit status, or `advisory` for a finding. */
export type DisplayStatus = Status | 'advisory';

export interface AdvisoryFinding {
  caseName: string;
  /** The testcase title, e.g. `host: kernel.preempt-rt PREEMPT_RT kernel`. */
  title: string;
  node: string | null;
  check: string;
  expected: string | null;
  found: string | null;
  fix: string | null;
}

/** One check's record as lib/cases/preflight.ts writes it under details[<node>].checks. */
export interface CheckRecordView {
  id: string;
  title?: string;
  outcome: string;
  severity?: string;
  expected?: string;
  found?: string;
  fix?: string;
}

/** A preflight node record: its checks, or why the node could not be audited. */
export interface NodeRecord {
  error?: string;
  checks: CheckRecordView[];
}

// results.json may come from another version: anything not shaped like a record is ignored.
export function readNodeRecord(value: unknown): NodeRecord | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.error === 'string') return { error: record.error, checks: [] };
  if (!Array.isArray(record.checks)) return undefined;
  const checks = record.checks.filter((c): c is CheckRecordView => c !== null && typeof c === 'object' && typeof c.id === 'string' && typeof c.outcome === 'string');
  return { checks };
}

// A failed advisory check: the preflight case's judgeCheck gives it status pass and these properties.
export function isAdvisoryFinding(tc: Pick<TestcaseResult, 'status' | 'properties'>): boolean {
  return tc.status === 'pass' && tc.properties.severity === 'advisory' && tc.properties.outcome === 'fail';
}

// The status a view shows: a finding is `advisory`, whatever its JUnit status says.
export function displayStatusOf(tc: Pick<TestcaseResult, 'status' | 'properties'>): DisplayStatus {
  return isAdvisoryFinding(tc) ? 'advisory' : tc.status;
}

// `expected: ...` lines of the finding's system-out, for a result without structured records.
function fromOutput(text: string | undefined, key: 'expected' | 'found' | 'fix'): string | null {
  const line = (text ?? '').split('\n').find((l) => l.startsWith(`${key}: `));
  return line === undefined ? null : line.slice(key.length + 2);
}

function findingOf(c: CaseResult, tc: TestcaseResult): AdvisoryFinding {
  const check = String(tc.properties.check ?? tc.title);
  const colon = tc.title.indexOf(': ');
  const node = colon > 0 && c.details[tc.title.slice(0, colon)] !== undefined ? tc.title.slice(0, colon) : null;
  const record = node === null ? undefined : readNodeRecord(c.details[node])?.checks.find((r) => r.id === check);
  return {
    caseName: c.caseName,
    title: tc.title,
    node,
    check,
    expected: record?.expected ?? fromOutput(tc.systemOut, 'expected'),
    found: record?.found ?? fromOutput(tc.systemOut, 'found'),
    fix: record?.fix ?? fromOutput(tc.systemOut, 'fix'),
  };
}

// The findings of one case, in testcase order.
export function collectCaseFindings(c: CaseResult): AdvisoryFinding[] {
  return c.testcases.filter(isAdvisoryFinding).map((tc) => findingOf(c, tc));
}

// Every finding of the run, case by case.
export function collectAdvisoryFindings(run: Pick<RunResult, 'cases'>): AdvisoryFinding[] {
  return run.cases.flatMap(collectCaseFindings);
}

// One line: what was expected, what was found, and the fix.
export function describeFinding(f: AdvisoryFinding, limit = Infinity): string {
  const cut = (s: string | null) => (s === null ? '(not recorded)' : s.length > limit ? `${s.slice(0, limit - 1)}…` : s);
  return `expected ${cut(f.expected)}; found ${cut(f.found)}; fix: ${cut(f.fix)}`;
}
