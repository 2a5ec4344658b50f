// `kvmfornfv-test run`: validates every input before touching a node, builds the lab pod
// when no pod is given, locks the pod, runs the selection, judges regressions, and on
// every exit path stops remote processes, undoes pod changes, writes the reports and
// removes the lab.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadCatalogue, selectCases, type Catalogue } from '../config/catalogue.ts';
import { applyXtestingDefaults, readOpnfvEnvironment } from '../config/environment.ts';
import { loadPod } from '../config/pod.ts';
import { podSecrets, type Pod } from '../config/pod-model.ts';
import { loadThresholds } from '../config/thresholds.ts';
import { describeError } from '../errors.ts';
import { createNodeSessions } from '../harness/node-sessions.ts';
import { createProgress } from '../harness/progress.ts';
import { createGroupBoard } from '../harness/group-progress.ts';
import { executeRun, failedStartRun } from '../harness/run.ts';
import { parseRegressionPolicy } from '../regression/index.ts';
import { parsePreflightPolicy } from '../audit/severity.ts';
import { parseTraceOnBreachPolicy } from '../config/trace-on-breach.ts';
import { explainFailures } from '../report/explanations.ts';
import { buildForwardingComparison } from '../report/comparison.ts';
import { listCaseMetrics } from '../cases/metrics.ts';
import { timeoutFor } from '../remote/timeouts.ts';
import { Redactor } from '../remote/redact.ts';
import { createConsoleReporter } from '../report/console.ts';
import { createJunitReporter } from '../report/junit.ts';
import { createHtmlReporter } from '../report/html/index.ts';
import { createPlotPropertiesReporter } from '../report/plot-properties.ts';
import { createResultsJsonReporter } from '../report/results-json.ts';
import { ReporterMultiplexer } from '../report/reporter.ts';
import type { RunResult } from '../results/model.ts';
import { exitCodeFor, isNothingMeasured, outcomeOfCases } from '../results/exit-codes.ts';
import { prepareLabPod, type LabHandle } from './lab-pod.ts';
import { describeRecoveries, lockPod } from './pod-lock.ts';
import { UndoLogs } from '../undo/journal.ts';
import { describeRecovery, recoverNode } from '../undo/recover.ts';
import { createPushReporters, settlePushOutcome } from './push-reporters.ts';
import { createRunAbort, type RunAbort } from './run-abort.ts';
import { checkBaselineOption, judgeRegression, parseCompareAcross, recordHistory } from './regression-stage.ts';
import { openRunLog, type RunLog } from './run-log.ts';
import { createSessionSource } from './session-source.ts';
import { guestNotes, selectionNeedsGuests, startPodGuests, type PodGuests } from '../guest/guests.ts';

export interface RunCommandOptions {
  test: string;
  pod?: string;
  thresholds?: string;
  results: string;
  duration?: number;
  dryRun: boolean;
  hostKeyPolicy: 'strict' | 'accept-new';
  knownHosts?: string;
  keepLab: boolean;
  /** Without --pod: the lab's guest kind (default vm). */
  labGuest?: 'vm' | 'namespace';
  /** -r: push to TestAPI (TEST_DB_URL) and InfluxDB (INFLUXDB_URL). */
  report: boolean;
  /** --baseline last|FILE: judge regressions against an earlier run. */
  baseline?: string;
  /** --compare-across kernel,qemu: compare with the baseline even across these changes. */
  compareAcross?: string;
  /** --trace-on-breach: a broken max limit is explained by a kernel trace of a diagnostic pass. */
  traceOnBreach?: boolean;
  /** --parallel N: compute groups measured at once (default all). */
  parallel?: number;
}

export function makeRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

/** Bad input is found here, before any node is touched or any lab is built. */
async function validateInputs(options: RunCommandOptions): Promise<{ catalogue: Catalogue; profileName: string }> {
  const catalogue = loadCatalogue();
  selectCases(catalogue, options.test);
  const profileName = options.thresholds ?? (options.pod ? 'opnfv-tc028' : 'lab');
  const knownMetrics = listCaseMetrics();
  const profile = options.pod ? loadThresholds(profileName, { podName: loadPod(options.pod).name, knownMetrics }) : loadThresholds(profileName, { knownMetrics });
  parseRegressionPolicy(profile.sections.regression, profile.file);
  parsePreflightPolicy(profile.sections.preflight, profile.file);
  parseTraceOnBreachPolicy(profile.sections.trace_on_breach, profile.file);
  createPushReporters({ enabled: options.report, log: () => {} });
  parseCompareAcross(options.compareAcross);
  await checkBaselineOption(options.baseline);
  return { catalogue, profileName };
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  // Installed first: a signal from here on aborts the run, it never kills the harness mid-way.
  const abort = createRunAbort();
  try {
    return await runWithAbort(options, abort);
  } finally {
    abort.handlers.dispose();
  }
}

async function runWithAbort(options: RunCommandOptions, runAbort: RunAbort): Promise<number> {
  const abort = runAbort.handlers;
  const { catalogue, profileName } = await validateInputs(options);
  const resultsRoot = resolve(options.results);
  const runId = makeRunId();
  const runDir = join(resultsRoot, runId);
  await mkdir(runDir, { recursive: true });
  const runLog = await openRunLog(join(runDir, 'run.log'));
  const progress = createProgress();
  const log = (line: string) => runLog.write(line);
  runAbort.setLog((line) => {
    progress.note(line);
    log(line);
  });
  const environment = readOpnfvEnvironment();
  const reporterList = [createResultsJsonReporter(runDir), createJunitReporter(runDir), createPlotPropertiesReporter(runDir), runAbort.tracker];
  runAbort.setFinalReporters(reporterList.slice(0, 2));

  let lab: LabHandle | undefined;
  let pod: Pod;
  try {
    if (options.pod) {
      pod = loadPod(options.pod);
    } else {
      lab = await prepareLabPod({ dryRun: options.dryRun, guest: options.labGuest ?? 'vm', log: (l) => progress.note(l) });
      pod = loadPod(lab.podYaml);
    }
  } catch (error) {
    // The lab could not be built: every selected case is an error, and the reports say why.
    const run = failedStartRun({ catalogue, selection: options.test, runId, environment, reason: describeError(error), profile: profileName, lab: true });
    await new ReporterMultiplexer([...reporterList, createHtmlReporter(runDir, { resultsRoot }), createConsoleReporter(runDir)], log).onEnd(run);
    if (!options.dryRun) await recordHistory({ run, runDir, resultsRoot, log });
    await runLog.close();
    return run.exitCode;
  }
  runLog.setRedactor(new Redactor(podSecrets(pod)));
  const notes = [...pod.notes];
  if (pod.lab) notes.unshift('embedded lab pod: network namespaces on one machine; its figures test function, not NFV quality');
  const profile = loadThresholds(profileName, { podName: pod.name });
  // A dry run measures nothing, so it pushes nothing; its URLs were still checked above.
  const pushReporters = createPushReporters({ enabled: options.report && !options.dryRun, log });
  const reporters = new ReporterMultiplexer(
    [...reporterList, ...pushReporters, settlePushOutcome(pushReporters, runDir), createHtmlReporter(runDir, { resultsRoot }), createConsoleReporter(runDir)],
    log,
  );

  const source = createSessionSource({ pod, dryRun: options.dryRun, runId, log, hostKeyPolicy: options.hostKeyPolicy, knownHosts: options.knownHosts });
  const sessions = createNodeSessions(pod, source, log);
  let releaseLock: () => Promise<void> = async () => {};
  let guests: PodGuests | undefined;
  let guestProblems: string[] = [];
  const stopGuests = async () => {
    if (guests) guestProblems = await guests.stop();
    guests = undefined;
  };
  // Kept on each node, so the next run or `cleanup` undoes this one if it is killed; none in a dry run.
  const undoLogs = options.dryRun ? undefined : new UndoLogs({ runId, log });
  const removeLab = async () => {
    if (lab && !options.keepLab) await lab.remove();
  };
  runAbort.setEmergencyCleanup(async () => {
    // The run's own undo logs first: they stop its processes (a launched guest's QEMU among them)
    // and undo its pod changes (the guests' hugepages and taps too) in one go.
    for (const session of undoLogs?.sessions() ?? []) {
      for (const line of describeRecovery(await recoverNode(session, { ownRunId: runId, which: 'own', timeoutMs: 60_000 }))) log(`emergency undo: ${line}`);
    }
    await sessions.cleanupAll().catch(() => {});
    await releaseLock().catch(() => {});
    await removeLab().catch(() => {});
  });

  let run: RunResult | undefined;
  let lockLost: string | undefined;
  // Another run measuring the same nodes makes every figure from then on suspect.
  const onLockLost = (node: string, detail: string) => {
    lockLost ??= `the pod lock on ${node} was lost (${detail}): another run may have measured this pod at the same time, so this run stopped`;
    abort.abortFromWithin(`pod lock on ${node} lost`);
  };
  try {
    const taken = options.dryRun ? undefined : await lockPod({ pod, sessions, runId, buildTag: environment.buildTag, log, onLost: onLockLost, ...(undoLogs ? { undoLogs } : {}) });
    const lock = taken?.lock;
    if (lock) releaseLock = () => lock.release();
    notes.push(...describeRecoveries(taken?.recoveries ?? []));
    for (const r of lock?.refused ?? []) notes.push(`compute group ${r.unit} was not measured: ${r.reason}`);
    if (selectionNeedsGuests(selectCases(catalogue, options.test))) {
      guests = await startPodGuests({ pod, sessions, dryRun: options.dryRun, log, ...(undoLogs ? { recordUndo: undoLogs.record } : {}), note: (l) => progress.note(l) });
      notes.push(...guestNotes(guests));
    }
    run = await executeRun({
      catalogue,
      selection: options.test,
      environment,
      isBlocking: (testCase) => testCase.blocking && (testCase.tier !== 'preflight' || parsePreflightPolicy(profile.sections.preflight, profile.file).blocking),
      reporters,
      env: applyXtestingDefaults(process.env),
      nodes: sessions.systemInfo,
      tools: sessions.tools,
      notes,
      ...(options.parallel ? { parallel: options.parallel } : {}),
      scope: {
        runId,
        runDir,
        pod,
        thresholds: profile,
        durationOverrideS: options.duration,
        dryRun: options.dryRun,
        signal: abort.signal,
        progress,
        session: (node) => sessions.session(node),
        log,
        recordSystemInfo: sessions.recordSystemInfo,
        recordToolVersion: sessions.recordToolVersion,
        nodeInfo: (name) => sessions.systemInfo[name],
        traceOnBreach: options.traceOnBreach === true,
        hookTimeoutMs: timeoutFor(options.duration ?? 3600) * 4,
        ...(undoLogs ? { recordUndo: undoLogs.record } : {}),
        board: (groups) => createGroupBoard({ groups }),
      },
    });
  } catch (error) {
    // Only a failure around the cases lands here (the pod lock); the cases never throw.
    run = failedStartRun({ catalogue, selection: options.test, runId, environment, reason: describeError(error), profile: profile.name, lab: pod.lab, pod });
  } finally {
    await stopGuests().catch((e: unknown) => log(`stopping the guests failed: ${describeError(e)}`));
    await sessions.cleanupAll().catch((e: unknown) => log(`cleanup failed: ${describeError(e)}`));
    // Before the lock goes: once another run holds it, every log still on the node reads as a dead run's.
    await undoLogs?.closeAll();
    await releaseLock().catch((e: unknown) => log(`pod lock release failed: ${describeError(e)}`));
    await sessions.closeAll().catch(() => {});
  }
  const labProblem = await removeLab().then(() => undefined, describeError);
  const guestProblem = guestProblems.length > 0 ? guestProblems.join('; ') : undefined;
  return finishRun({ run, runDir, resultsRoot, labProblem, guestProblem, lockLost, abortedBy: abort.abortedBy(), options, profile, reporters, runLog, log });
}

async function finishRun(args: {
  run: RunResult;
  runDir: string;
  resultsRoot: string;
  labProblem: string | undefined;
  guestProblem: string | undefined;
  lockLost: string | undefined;
  /** A signal, or the loss of the harness's caller. */
  abortedBy: string | undefined;
  options: RunCommandOptions;
  profile: ReturnType<typeof loadThresholds>;
  reporters: ReporterMultiplexer;
  runLog: RunLog;
  log: (line: string) => void;
}): Promise<number> {
  const { run, options } = args;
  if (args.labProblem) run.notes.push(`the lab pod could not be removed completely: ${args.labProblem}`);
  if (args.guestProblem) run.notes.push(`a launched guest was not removed cleanly: ${args.guestProblem}`);
  if (args.abortedBy) run.notes.push(`aborted by ${args.abortedBy}`);
  if (args.lockLost) run.notes.push(args.lockLost);
  let regressionProblem: string | undefined;
  if (options.baseline && !options.dryRun) {
    const judged = await judgeRegression({ run, spec: options.baseline, resultsRoot: args.resultsRoot, profile: args.profile, compareAcross: parseCompareAcross(options.compareAcross), log: args.log });
    if (judged.report) run.regression = judged.report;
    if (judged.problem) run.notes.push((regressionProblem = judged.problem));
  }
  explainFailures(run);
  const comparison = buildForwardingComparison(run);
  if (comparison) run.comparison = comparison;
  if (!options.dryRun && isNothingMeasured(run)) run.notes.push('nothing was measured: every selected case was skipped (see each case\'s reason)');
  const outcome = outcomeOfCases(run, { dryRun: options.dryRun });
  run.exitCode = exitCodeFor({
    ...outcome,
    notMeasured: outcome.notMeasured || Boolean(args.labProblem) || Boolean(args.guestProblem) || Boolean(args.abortedBy) || Boolean(args.lockLost) || Boolean(regressionProblem),
    regression: run.regression?.failing ?? false,
  });
  // The reporters end with the pushes, then settle the exit code (a failed push is 69
  // below everything else) and rewrite results.json, and the console prints last.
  await args.reporters.onEnd(run);
  if (!options.dryRun) await recordHistory({ run, runDir: args.runDir, resultsRoot: args.resultsRoot, log: args.log });
  await args.runLog.close();
  return run.exitCode;
}
