// The local history of runs: one JSON line per run in <results root>/history.jsonl, so that
// `--baseline last` finds the previous comparable run without reading every results.json.
// One append per run (a single write with O_APPEND), so two runs on one machine do not mix lines.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { RESULTS_SCHEMA_VERSION, type RunResult, type RunStatus, type Status } from '../results/model.ts';
import { isUnfinished } from '../results/status.ts';
import type { CompareAcross } from './policy.ts';

export const HISTORY_FILE = 'history.jsonl';
/** How many earlier results.json files `last` reads at most before settling. */
const MAX_CANDIDATES = 50;

export interface HistoryEntry {
  v: 1;
  runId: string;
  /** Relative to the results root when inside it, so the root can move. */
  resultsFile: string;
  pod: string;
  lab: boolean;
  profile: string;
  cases: string[];
  caseStatuses: Record<string, Status>;
  startedAt: string;
  /** Always a verdict: appendHistory refuses a run that has none. */
  status: RunStatus;
  exitCode: number;
}

// Pure, so the entry's content is tested without a file system.
export function buildHistoryEntry(input: { resultsRoot: string; run: RunResult; resultsFile: string }): HistoryEntry {
  const { run } = input;
  const rel = relative(resolve(input.resultsRoot), resolve(input.resultsFile));
  return {
    v: 1,
    runId: run.runId,
    resultsFile: rel.startsWith('..') || isAbsolute(rel) ? resolve(input.resultsFile) : rel,
    pod: run.pod.name,
    lab: run.pod.lab,
    profile: run.thresholds.profile,
    cases: run.cases.map((c) => c.caseName),
    caseStatuses: Object.fromEntries(run.cases.map((c) => [c.caseName, c.status])),
    startedAt: run.startedAt,
    status: run.status,
    exitCode: run.exitCode,
  };
}

// Called once per run after results.json is final; dry runs should not be appended. A run with
// no verdict is refused: the history is what `--baseline last` and the trends trust.
export async function appendHistory(input: { resultsRoot: string; run: RunResult; resultsFile: string }): Promise<HistoryEntry> {
  if (isUnfinished(input.run)) throw new Error(`run ${input.run.runId} has no verdict yet (status ${input.run.status}); it is not added to ${HISTORY_FILE}`);
  const entry = buildHistoryEntry(input);
  await mkdir(input.resultsRoot, { recursive: true });
  await appendFile(join(input.resultsRoot, HISTORY_FILE), `${JSON.stringify(entry)}\n`, 'utf8');
  return entry;
}

function isEntry(v: unknown): v is HistoryEntry {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return e.v === 1 && typeof e.runId === 'string' && typeof e.resultsFile === 'string' && typeof e.pod === 'string' && typeof e.profile === 'string'
    && Array.isArray(e.cases) && typeof e.startedAt === 'string' && !Number.isNaN(Date.parse(e.startedAt)) && typeof e.caseStatuses === 'object' && e.caseStatuses !== null;
}

// A line torn by a crash must not hide every other run, so bad lines are reported and skipped.
export function parseHistory(text: string): { entries: HistoryEntry[]; problems: string[] } {
  const entries: HistoryEntry[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${HISTORY_FILE} line ${i + 1}: not JSON; skipped`);
      return;
    }
    if (isEntry(value)) entries.push(value);
    else problems.push(`${HISTORY_FILE} line ${i + 1}: not a history entry (version 1); skipped`);
  });
  return { entries, problems };
}

// A baseline must be a finished run: one that is still running, or whose harness was killed,
// has no verdict to compare with (exit 2 when given by name).
export async function loadBaselineRun(file: string): Promise<RunResult> {
  const run = await loadRunResult(file);
  if (isUnfinished(run)) {
    throw new ConfigError(file, [{ path: 'status', message: `expected a finished run, got status "${run.status}": run ${run.runId} never reached its verdict (still running, or its harness was killed), so it cannot be a baseline` }]);
  }
  return run;
}

// A results.json is user input (report, --baseline): anything but one of this schema is exit 2.
export async function loadRunResult(file: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '', message: `cannot read the baseline (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}); expected a results.json written by kvmfornfv-test` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(file, [{ path: '', message: 'expected a results.json written by kvmfornfv-test, got text that is not JSON' }]);
  }
  const run = value as Partial<RunResult> | null;
  const major = (v: string) => v.split('.')[0];
  if (!run || typeof run !== 'object' || typeof run.schemaVersion !== 'string' || typeof run.runId !== 'string' || !Array.isArray(run.cases) || typeof run.pod?.name !== 'string' || typeof run.thresholds?.profile !== 'string' || typeof run.nodes !== 'object') {
    throw new ConfigError(file, [{ path: '', message: 'expected a results.json written by kvmfornfv-test (schemaVersion, runId, pod, thresholds, nodes, cases)' }]);
  }
  if (major(run.schemaVersion) !== major(RESULTS_SCHEMA_VERSION)) {
    throw new ConfigError(file, [{ path: 'schemaVersion', message: `expected results schema ${major(RESULTS_SCHEMA_VERSION)}.x, got ${run.schemaVersion}` }]);
  }
  return run as RunResult;
}

/** Kernel and QEMU of every node, plus the duration option: what makes two runs alike. */
function systemSignature(run: RunResult, compareAcross: readonly CompareAcross[]): string {
  const nodes = Object.entries(run.nodes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name}:${compareAcross.includes('kernel') ? '*' : `${n.kernelRelease} ${n.kernelVersion}`}|${compareAcross.includes('qemu') ? '*' : n.qemuVersion}`);
  return `${nodes.join(',')};duration:${run.options.durationS}`;
}

export interface FindBaselineInput {
  resultsRoot: string;
  current: RunResult;
  /** `last`: the most recent earlier comparable run of the history; otherwise a results.json path. */
  spec: 'last' | (string & {});
  compareAcross?: readonly CompareAcross[];
  /** Why candidates were passed over, for the run log. */
  onNote?: (line: string) => void;
}

// `last` prefers the most recent earlier run on the same pod, profile and system; when none
// is fully alike it returns the most recent one anyway, so the report can say what differs.
export async function findBaseline(input: FindBaselineInput): Promise<RunResult | undefined> {
  const note = input.onNote ?? (() => {});
  if (input.spec !== 'last') return loadBaselineRun(input.spec);
  const { current } = input;
  let text: string;
  try {
    text = await readFile(join(input.resultsRoot, HISTORY_FILE), 'utf8');
  } catch {
    note(`no ${HISTORY_FILE} in ${input.resultsRoot}: no baseline`);
    return undefined;
  }
  const { entries, problems } = parseHistory(text);
  problems.forEach(note);
  const started = Date.parse(current.startedAt);
  const wanted = new Set(current.cases.map((c) => c.caseName));
  const candidates = entries
    .filter((e) => e.runId !== current.runId && e.pod === current.pod.name && e.profile === current.thresholds.profile && Date.parse(e.startedAt) < started && !isUnfinished(e))
    .filter((e) => e.cases.some((c) => wanted.has(c) && (e.caseStatuses[c] === 'pass' || e.caseStatuses[c] === 'fail')))
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
    .slice(0, MAX_CANDIDATES);
  const signature = systemSignature(current, input.compareAcross ?? []);
  let fallback: RunResult | undefined;
  for (const entry of candidates) {
    const file = isAbsolute(entry.resultsFile) ? entry.resultsFile : join(input.resultsRoot, entry.resultsFile);
    let run: RunResult;
    try {
      run = await loadBaselineRun(file);
    } catch (error) {
      note(`baseline candidate ${entry.runId} skipped: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (systemSignature(run, input.compareAcross ?? []) === signature) return run;
    fallback ??= run;
  }
  if (fallback) note(`no earlier run on ${current.pod.name} has the same kernels, QEMU and duration; comparing with the most recent, ${fallback.runId}`);
  return fallback;
}
