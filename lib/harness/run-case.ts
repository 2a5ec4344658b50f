// Runs one catalogue case: its suite under mocha's API with the collecting reporter,
// then its undo steps, and returns the case result. A case never throws: whatever goes
// wrong becomes an error result, so the run can report and clean up.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Mocha from 'mocha';
import type { Pod, PodNode, NodeRole } from '../config/pod-model.ts';
import type { CatalogueCase } from '../config/catalogue.ts';
import type { NodeSession } from '../remote/types.ts';
import type { CaseResult, MeasurementWindow, NodeSystemInfo, TestcaseResult } from '../results/model.ts';
import { combineStatuses } from '../results/status.ts';
import type { ThresholdProfile } from '../config/thresholds.ts';
import { describeError } from '../errors.ts';
import { CleanupStack } from './cleanup.ts';
import { PhaseClock } from './phases.ts';
import { setActiveCase, type CaseContext, type TestAnnotation } from './case-context.ts';
import { collectTestcases, createCollectingReporter, createRunEvents } from './mocha-collector.ts';
import type { Progress } from './progress.ts';
import type { RecordUndo } from '../undo/journal.ts';
import type { GroupBoard } from './group-progress.ts';

export const SUITES_DIR = fileURLToPath(new URL('../../testcases/', import.meta.url));

/** What every case of one run shares. */
export interface RunScope {
  runId: string;
  runDir: string;
  pod: Pod;
  thresholds: ThresholdProfile;
  durationOverrideS: number | undefined;
  dryRun: boolean;
  signal: AbortSignal;
  progress: Progress;
  session(node: PodNode): Promise<NodeSession>;
  log(line: string): void;
  recordSystemInfo(info: NodeSystemInfo): void;
  recordToolVersion(node: string, tool: string, version: string): void;
  /** What is known of a node so far (sysinfo, a launched guest's record). */
  nodeInfo?(node: string): NodeSystemInfo | undefined;
  /** --trace-on-breach from the command line. */
  traceOnBreach?: boolean;
  /** Mocha timeout for one hook or test. */
  hookTimeoutMs: number;
  /** Records undo commands in the nodes' undo logs; absent in dry runs. */
  recordUndo?: RecordUndo;
  /** Progress of compute groups measured side by side; default: none shown. */
  board?: (groups: readonly string[]) => GroupBoard;
  suitesDir?: string;
}

export async function runCase(scope: RunScope, testCase: CatalogueCase): Promise<CaseResult> {
  const started = new Date();
  const classname = `kvmfornfv.${testCase.tier}.${testCase.caseName}`;
  const rawDir = join(scope.runDir, testCase.caseName);
  await mkdir(rawDir, { recursive: true });
  const rawOutputs: string[] = [];
  const details: Record<string, unknown> = {};
  const windows: MeasurementWindow[] = [];
  const events = createRunEvents();
  const cleanup = new CleanupStack({ log: scope.log });
  const clock = new PhaseClock();
  let currentTest: Mocha.Test | undefined;
  let leaveJudge: (() => void) | undefined;

  const annotationOf = (test: Mocha.Test): TestAnnotation => {
    let a = events.annotations.get(test);
    if (!a) {
      a = { properties: {}, measurements: {}, systemOut: [] };
      events.annotations.set(test, a);
    }
    return a;
  };

  const context: CaseContext = {
    caseName: testCase.caseName,
    tier: testCase.tier,
    classname,
    runId: scope.runId,
    pod: scope.pod,
    args: testCase.args,
    durationOverrideS: scope.durationOverrideS,
    thresholdProfile: scope.thresholds.name,
    thresholds: scope.thresholds,
    dryRun: scope.dryRun,
    signal: scope.signal,
    rawDir,
    cleanup,
    ...(scope.recordUndo ? { recordUndo: scope.recordUndo } : {}),
    progress: scope.progress,
    nodes: (role: NodeRole) => scope.pod.nodes.filter((n) => n.role === role),
    session: (node) => clock.run('connect', () => scope.session(node)),
    limitsFor: (node) =>
      scope.thresholds.limitsFor(testCase.caseName).filter((l) => !l.nodes || [node.role, node.name, node.declaredRole].some((n) => l.nodes?.includes(n))),
    log: (line) => scope.log(`[${testCase.caseName}] ${line}`),
    async writeRaw(relativePath, content) {
      const path = join(rawDir, relativePath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      rawOutputs.push(relative(scope.runDir, path));
      return path;
    },
    recordDetails: (key, value) => {
      details[key] = value;
    },
    recordWindow: (node, what, w) => {
      windows.push({ node, what, start: new Date(w.startMs).toISOString(), end: new Date(w.endMs).toISOString() });
    },
    recordSystemInfo: scope.recordSystemInfo,
    recordToolVersion: scope.recordToolVersion,
    accelerator: (node) => scope.nodeInfo?.(node.name)?.launch?.accelerator,
    traceOnBreach: scope.traceOnBreach === true,
    nodeInfo: (name) => scope.nodeInfo?.(name),
    launch: (node) => scope.nodeInfo?.(node.name)?.launch,
    emulation: (node) => {
      const launch = scope.nodeInfo?.(node.name)?.launch;
      return launch?.emulated ? `${node.name} is a QEMU guest under TCG, software emulation: its figures test function, not real-time quality` : undefined;
    },
    phase: (phase, fn) => clock.run(phase, fn),
    annotate(annotation) {
      if (!currentTest) throw new Error('annotate() is for use inside a test (it), not in a hook');
      const a = annotationOf(currentTest);
      Object.assign(a.properties, annotation.properties ?? {});
      Object.assign(a.measurements, annotation.measurements ?? {});
      if (annotation.systemOut) a.systemOut.push(annotation.systemOut);
      if (annotation.skipReason) a.skipReason = annotation.skipReason;
    },
  };

  const mocha = new Mocha({
    reporter: createCollectingReporter(events) as unknown as string,
    timeout: scope.hookTimeoutMs,
    bail: false,
  });
  mocha.rootHooks({
    // Measuring happens in the suites' before hooks; the tests themselves judge.
    beforeEach(this: Mocha.Context) {
      currentTest = this.currentTest;
      leaveJudge = clock.enter('judge');
    },
    afterEach() {
      leaveJudge?.();
    },
  });
  const suiteFile = join(scope.suitesDir ?? SUITES_DIR, `${testCase.suite}.spec.ts`);

  let caseError: unknown;
  let testcases: TestcaseResult[] = [];
  try {
    await loadSuiteFor(context, mocha, suiteFile);
    const onAbort = () => runner.abort();
    const runner = mocha.run();
    scope.signal.addEventListener('abort', onAbort, { once: true });
    await new Promise<void>((resolve) => runner.on('end', () => resolve()));
    scope.signal.removeEventListener('abort', onAbort);
    // An ended runner keeps its process-wide uncaughtException listener and would rethrow a
    // later case's stray async error, killing the run with no reports and no undo.
    runner.dispose();
    testcases = collectTestcases(mocha.suite, events, {
      classname,
      caseName: testCase.caseName,
      notRunReason: scope.signal.aborted ? 'the run was aborted' : 'mocha did not run it',
    });
  } catch (error) {
    caseError = error;
  }
  leaveJudge?.();
  const cleanupReports = await clock.run('cleanup', () => cleanup.unwind());
  const failedCleanups = cleanupReports.filter((r) => !r.ok);
  for (const r of failedCleanups) {
    testcases.push(errorTestcase(classname, `${testCase.caseName}: teardown`, `undo step "${r.label}" failed: ${r.error}`));
  }

  if (caseError !== undefined) {
    testcases.push(errorTestcase(classname, testCase.caseName, `the suite could not be loaded: ${describeError(caseError)}`));
  } else if (testcases.length === 0) {
    // A suite that declares nothing must not read as a pass.
    testcases.push(errorTestcase(classname, testCase.caseName, 'the suite declared no tests for this pod and profile'));
  }
  const stopped = new Date();
  return {
    caseName: testCase.caseName,
    tier: testCase.tier,
    projectName: 'kvmfornfv',
    status: combineStatuses(testcases.map((t) => t.status)),
    startedAt: started.toISOString(),
    stoppedAt: stopped.toISOString(),
    durationMs: stopped.getTime() - started.getTime(),
    ...(caseError !== undefined ? { reason: describeError(caseError) } : {}),
    testcases,
    details,
    rawOutputs,
    phasesMs: clock.totals(),
    ...(windows.length > 0 ? { windows } : {}),
  };
}

let suiteLoads = 0;
let loading: Promise<void> = Promise.resolve();

// Suites read their context with useCase() while they load, from one process-wide slot:
// groups running cases side by side load one suite at a time.
async function loadSuiteFor(context: CaseContext, mocha: Mocha, file: string): Promise<void> {
  const previous = loading;
  let release!: () => void;
  loading = new Promise<void>((r) => (release = r));
  await previous;
  setActiveCase(context);
  try {
    await loadSuiteAfresh(mocha, file);
  } finally {
    setActiveCase(undefined);
    release();
  }
}

// Mocha's loader goes through Node's module cache, so a suite file would declare its tests
// for the first case only; two catalogue cases may share a suite with different args. A
// query string makes each load a new module instance (the lib modules it imports stay shared).
async function loadSuiteAfresh(mocha: Mocha, file: string): Promise<void> {
  mocha.suite.emit('pre-require', globalThis, file, mocha);
  suiteLoads += 1;
  const module: unknown = await import(`${pathToFileURL(file).href}?load=${suiteLoads}`);
  mocha.suite.emit('require', module, file, mocha);
  mocha.suite.emit('post-require', globalThis, file, mocha);
}

export function errorTestcase(classname: string, title: string, message: string): TestcaseResult {
  return { title, classname, status: 'error', message, durationMs: 0, properties: {}, measurements: {} };
}

