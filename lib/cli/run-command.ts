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
import { installAbortHandlers } from '../harness/abort.ts';
import { createNodeSessions } from '../harness/node-sessions.ts';
import { createProgress } from '../harness/progress.ts';
import { createGroupBoard } from '../harness/group-progress.ts';
import { executeRun, failedStartRun } from '../harness/run.ts';
import { parseRegressionPolicy } from '../regression/index.ts';
import { parsePreflightPolicy } from '../audit/severity.ts';
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
import { lockPod } from './pod-lock.ts';
import { createPushReporters, settlePushOutcome } from './push-reporters.ts';
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
  createPushReporters({ enabled: options.report, log: () => {} });
  parseCompareAcross(options.compareAcross);
  await checkBaselineOption(options.baseline);
  return { catalogue, profileName };
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { catalogue, profileName } = await validateInputs(options);
  const resultsRoot = resolve(options.results);
  const runId = makeRunId();
  const runDir = join(resultsRoot, runId);
  await mkdir(runDir, { recursive: true });
  const runLog = await openRunLog(join(runDir, 'run.log'));
  const progress = createProgress();
  const log = (line: string) => runLog.write(line);
  const environment = readOpnfvEnvironment();
  const reporterList = [createResultsJsonReporter(runDir), createJunitReporter(runDir), createPlotPropertiesReporter(runDir)];

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
  const removeLab = async () => {
    if (lab && !options.keepLab) await lab.remove();
  };
  const abort = installAbortHandlers({
    log: (line) => {
      progress.note(line);
      log(line);
    },
    emergencyCleanup: async () => {
      await stopGuests().catch(() => {});
      await sessions.cleanupAll().catch(() => {});
      await releaseLock().catch(() => {});
      await removeLab().catch(() => {});
    },
  });

  let run: RunResult | undefined;
  let lockLost: string | undefined;
  // Another run measuring the same nodes makes every figure from then on suspect.
  const onLockLost = (node: string, detail: string) => {
    lockLost ??= `the pod lock on ${node} was lost (${detail}): another run may have measured this pod at the same time, so this run stopped`;
    abort.abortFromWithin(`pod lock on ${node} lost`);
  };
  try {
    const lock = options.dryRun ? undefined : await lockPod({ pod, sessions, runId, buildTag: environment.buildTag, log, onLost: onLockLost });
    if (lock) releaseLock = () => lock.release();
    for (const r of lock?.refused ?? []) notes.push(`compute group ${r.unit} was not measured: ${r.reason}`);
    if (selectionNeedsGuests(selectCases(catalogue, options.test))) {
      guests = await startPodGuests({ pod, sessions, dryRun: options.dryRun, log, note: (l) => progress.note(l) });
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
        hookTimeoutMs: timeoutFor(options.duration ?? 3600) * 4,
        board: (groups) => createGroupBoard({ groups }),
      },
    });
  } catch (error) {
    // Only a failure around the cases lands here (the pod lock); the cases never throw.
    run = failedStartRun({ catalogue, selection: options.test, runId, environment, reason: describeError(error), profile: profile.name, lab: pod.lab, pod });
  } finally {
    await stopGuests().catch((e: unknown) => log(`stopping the guests failed: ${describeError(e)}`));
    await sessions.cleanupAll().catch((e: unknown) => log(`cleanup failed: ${describeError(e)}`));
    await releaseLock().catch((e: unknown) => log(`pod lock release failed: ${describeError(e)}`));
    await sessions.closeAll().catch(() => {});
  }
  const labProblem = await removeLab().then(() => undefined, describeError);
  abort.dispose();
  const guestProblem = guestProblems.length > 0 ? guestProblems.join('; ') : undefined;
  return finishRun({ run, runDir, resultsRoot, labProblem, guestProblem, lockLost, received: abort.received(), options, profile, reporters, runLog, log });
}

async function finishRun(args: {
  run: RunResult;
  runDir: string;
  resultsRoot: string;
  labProblem: string | undefined;
  guestProblem: string | undefined;
  lockLost: string | undefined;
  received: NodeJS.Signals | undefined;
  options: RunCommandOptions;
  profile: ReturnType<typeof loadThresholds>;
  reporters: ReporterMultiplexer;
  runLog: RunLog;
  log: (line: string) => void;
}): Promise<number> {
  const { run, options } = args;
  if (args.labProblem) run.notes.push(`the lab pod could not be removed completely: ${args.labProblem}`);
  if (args.guestProblem) run.notes.push(`a launched guest was not removed cleanly: ${args.guestProblem}`);
  if (args.received) run.notes.push(`aborted by ${args.received}`);
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
    notMeasured: outcome.notMeasured || Boolean(args.labProblem) || Boolean(args.guestProblem) || Boolean(args.received) || Boolean(args.lockLost) || Boolean(regressionProblem),
    regression: run.regression?.failing ?? false,
  });
  // The reporters end with the pushes, then settle the exit code (a failed push is 69
  // below everything else) and rewrite results.json, and the console prints last.
  await args.reporters.onEnd(run);
  if (!options.dryRun) await recordHistory({ run, runDir: args.runDir, resultsRoot: args.resultsRoot, log: args.log });
  await args.runLog.close();
  return run.exitCode;
}
