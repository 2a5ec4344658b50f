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
  await request.reporters.onBegin(run);

  let blockedBy: string | undefined;
  for (const testCase of selected) {
    const result = await runOrSkip(request, testCase, blockedBy);
    run.cases.push(result);
    run.stoppedAt = new Date().toISOString();
    if ((request.isBlocking?.(testCase) ?? testCase.blocking) && (result.status === 'fail' || result.status === 'error')) blockedBy = testCase.caseName;
    await request.reporters.onCaseEnd(result, run);
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

async function runOrSkip(request: RunRequest, testCase: CatalogueCase, blockedBy: string | undefined): Promise<CaseResult> {
  const { scope } = request;
  if (scope.signal.aborted) return wholeCaseResult(testCase, 'skip', 'the run was aborted before this case started');
  if (blockedBy) return wholeCaseResult(testCase, 'skip', `not run: blocking case ${blockedBy} did not pass`);
  if (!testCase.enabled) return wholeCaseResult(testCase, 'skip', 'disabled in testcases.yaml (enabled: false)');
  let unmet: string | undefined;
  try {
    unmet = unmetDependency(testCase, request.env);
  } catch (error) {
    // loadCatalogue refuses bad regexes; a catalogue built otherwise must still not lose the run.
    return wholeCaseResult(testCase, 'error', `its dependencies could not be checked: ${describeError(error)}`);
  }
  return unmet ? wholeCaseResult(testCase, 'skip', unmet) : runCase(scope, testCase);
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

/** A case decided as a whole, before or instead of running: one testcase carrying the reason. */
export function wholeCaseResult(testCase: CatalogueCase, status: 'skip' | 'error', reason: string): CaseResult {
  const now = new Date().toISOString();
  return {
    caseName: testCase.caseName,
    tier: testCase.tier,
    projectName: 'kvmfornfv',
    status,
    startedAt: now,
    stoppedAt: now,
    durationMs: 0,
    reason,
    testcases: [
      {
        title: testCase.caseName,
        classname: `kvmfornfv.${testCase.tier}.${testCase.caseName}`,
        status,
        message: reason,
        durationMs: 0,
        properties: {},
        measurements: {},
      },
    ],
    details: {},
    rawOutputs: [],
  };
}
