// Executes a selection of catalogue cases in order, as Xtesting's run_tests does:
// disabled and unmet cases are skipped with their reason, a blocking failure stops the
// rest, and the result model is handed to the reporters after every case.
import type { Catalogue, CatalogueCase } from '../config/catalogue.ts';
import { selectCases, unmetDependency } from '../config/catalogue.ts';
import type { CaseResult, RunEnvironment, RunResult } from '../results/model.ts';
import { combineStatuses } from '../results/status.ts';
import { describeError } from '../errors.ts';
import { RESULTS_SCHEMA_VERSION } from '../results/model.ts';
import type { ReporterMultiplexer } from '../report/reporter.ts';
import { EXIT, outcomeOfCases, exitCodeFor } from '../results/exit-codes.ts';
import { runCase, type RunScope } from './run-case.ts';
import { computeGroups } from '../config/pod-groups.ts';
import { GROUPED_TIERS, runFanOut } from './fan-out.ts';
import { createGroupBoard } from './group-progress.ts';
import { wholeCaseResult } from './merge-cases.ts';

export interface RunRequest {
  catalogue: Catalogue;
  selection: string;
  scope: RunScope;
  environment: RunEnvironment;
  /** Overrides the catalogue's blocking flag, e.g. a profile's preflight tier that must not block. */
  isBlocking?: (testCase: CatalogueCase) => boolean;
  reporters: ReporterMultiplexer;
  env: NodeJS.ProcessEnv;
  /** Filled in by the caller as sessions record them; shared by reference. */
  nodes: RunResult['nodes'];
  tools: RunResult['tools'];
  notes: string[];
  /** Compute groups measured at once (--parallel); default all. */
  parallel?: number;
}

interface RunHeader {
  runId: string;
  pod: { name: string; file: string; lab: boolean };
  environment: RunEnvironment;
  thresholds: { profile: string; file: string };
  selection: string;
  durationS: number | null;
}

function newRunResult(header: RunHeader, parts: Pick<RunResult, 'nodes' | 'tools' | 'notes'>): RunResult {
  const now = new Date().toISOString();
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId: header.runId,
    startedAt: now,
    stoppedAt: now,
    // No verdict until every case has run: a results.json left by a killed harness says so.
    status: 'running',
    exitCode: EXIT.notMeasured,
    pod: header.pod,
    environment: header.environment,
    thresholds: header.thresholds,
    options: { selection: header.selection, durationS: header.durationS },
    ...parts,
    cases: [],
  };
}

export async function executeRun(request: RunRequest): Promise<RunResult> {
  const { scope } = request;
  const selected = selectCases(request.catalogue, request.selection);
  const run = newRunResult(
    {
      runId: scope.runId,
      pod: { name: scope.pod.name, file: scope.pod.file, lab: scope.pod.lab },
      environment: request.environment,
      thresholds: { profile: scope.thresholds.name, file: scope.thresholds.file },
      selection: request.selection,
      durationS: scope.durationOverrideS ?? null,
    },
    { nodes: request.nodes, tools: request.tools, notes: request.notes },
  );
  const groups = computeGroups(scope.pod);
  // One group is the whole pod, run as before; with several, the grouped tiers fan out.
  const fanOut = groups.groups.length > 1;
  if (fanOut) run.computes = groups.groups.map((g) => ({ name: g.name, host: g.host?.name ?? null, guests: g.guests.map((n) => n.name) }));
  await request.reporters.onBegin(run);

  const isBlocking = (testCase: CatalogueCase) => request.isBlocking?.(testCase) ?? testCase.blocking;
  const emit = async (result: CaseResult) => {
    run.cases.push(result);
    run.stoppedAt = new Date().toISOString();
    await request.reporters.onCaseEnd(result, run);
  };
  let blockedBy: string | undefined;
  for (const segment of segmentCases(selected, fanOut)) {
    if (segment.grouped) {
      const outcome = await runFanOut({
        scope,
        cases: segment.cases,
        groups,
        parallel: request.parallel,
        board: scope.board?.(groups.groups.map((g) => g.name)) ?? createGroupBoard({ groups: [], quiet: true }),
        decide: (testCase) => decideBeforeRunning(request, testCase, blockedBy, { abort: false }),
        isBlocking,
        emit,
      });
      blockedBy ??= outcome.blockedBy;
      continue;
    }
    for (const testCase of segment.cases) {
      const result = decideBeforeRunning(request, testCase, blockedBy, { abort: true }) ?? (await runCase(scope, testCase));
      if (isBlocking(testCase) && (result.status === 'fail' || result.status === 'error')) blockedBy ??= testCase.caseName;
      await emit(result);
    }
  }
  run.stoppedAt = new Date().toISOString();
  run.status = combineStatuses(run.cases.map((c) => c.status));
  run.exitCode = exitCodeFor(outcomeOfCases(run, { dryRun: scope.dryRun }));
  // An abort between two cases leaves only passes and skips: still not a run that passed.
  if (scope.signal.aborted) {
    run.status = 'error';
    run.exitCode = exitCodeFor({ ...outcomeOfCases(run), notMeasured: true });
  }
  return run;
}

// Runs of cases in catalogue order: the grouped tiers together when the pod has several groups.
function segmentCases(cases: readonly CatalogueCase[], fanOut: boolean): Array<{ grouped: boolean; cases: CatalogueCase[] }> {
  const segments: Array<{ grouped: boolean; cases: CatalogueCase[] }> = [];
  for (const testCase of cases) {
    const grouped = fanOut && GROUPED_TIERS.includes(testCase.tier);
    const last = segments[segments.length - 1];
    if (last && last.grouped === grouped) last.cases.push(testCase);
    else segments.push({ grouped, cases: [testCase] });
  }
  return segments;
}

// What decides a case for the whole pod without running it; the groups check an abort themselves.
function decideBeforeRunning(request: RunRequest, testCase: CatalogueCase, blockedBy: string | undefined, options: { abort: boolean }): CaseResult | undefined {
  const { scope } = request;
  if (options.abort && scope.signal.aborted) return wholeCaseResult(testCase, 'skip', 'the run was aborted before this case started');
  if (blockedBy) return wholeCaseResult(testCase, 'skip', `not run: blocking case ${blockedBy} did not pass`);
  if (!testCase.enabled) return wholeCaseResult(testCase, 'skip', 'disabled in testcases.yaml (enabled: false)');
  let unmet: string | undefined;
  try {
    unmet = unmetDependency(testCase, request.env);
  } catch (error) {
    // loadCatalogue refuses bad regexes; a catalogue built otherwise must still not lose the run.
    return wholeCaseResult(testCase, 'error', `its dependencies could not be checked: ${describeError(error)}`);
  }
  return unmet ? wholeCaseResult(testCase, 'skip', unmet) : undefined;
}

/**
 * The run when it could not start (the lab could not be built, the pod is locked by
 * another run): every selected case is an error with the reason, so the reports say why.
 */
export function failedStartRun(args: {
  catalogue: Catalogue;
  selection: string;
  runId: string;
  environment: RunEnvironment;
  reason: string;
  profile: string;
  lab: boolean;
  pod?: { name: string; file: string };
}): RunResult {
  const run = newRunResult(
    {
      runId: args.runId,
      pod: { name: args.pod?.name ?? 'lab', file: args.pod?.file ?? '', lab: args.lab },
      environment: args.environment,
      thresholds: { profile: args.profile, file: '' },
      selection: args.selection,
      durationS: null,
    },
    { nodes: {}, tools: {}, notes: [`the run could not start: ${args.reason}`] },
  );
  run.cases = selectCases(args.catalogue, args.selection).map((c) => wholeCaseResult(c, c.enabled ? 'error' : 'skip', c.enabled ? args.reason : 'disabled in testcases.yaml (enabled: false)'));
  run.status = combineStatuses(run.cases.map((c) => c.status));
  run.exitCode = exitCodeFor(outcomeOfCases(run));
  return run;
}
