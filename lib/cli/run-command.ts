// `kvmfornfv-test run`: validates every input before touching a node, builds the lab pod
// when no pod is given, runs the selection, and on every exit path stops remote
// processes, undoes pod changes, writes the reports and removes the lab.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadCatalogue, selectCases } from '../config/catalogue.ts';
import { readOpnfvEnvironment } from '../config/environment.ts';
import { loadPod } from '../config/pod.ts';
import { podSecrets, type Pod } from '../config/pod-model.ts';
import { loadThresholds } from '../config/thresholds.ts';
import { describeError } from '../errors.ts';
import { installAbortHandlers } from '../harness/abort.ts';
import { createNodeSessions } from '../harness/node-sessions.ts';
import { createProgress } from '../harness/progress.ts';
import { executeRun } from '../harness/run.ts';
import { timeoutFor } from '../remote/timeouts.ts';
import { Redactor } from '../remote/redact.ts';
import { createConsoleReporter } from '../report/console.ts';
import { createJunitReporter } from '../report/junit.ts';
import { createResultsJsonReporter } from '../report/results-json.ts';
import { ReporterMultiplexer } from '../report/reporter.ts';
import { EXIT, exitCodeFor, outcomeOfCases } from './exit-codes.ts';
import { openRunLog } from './run-log.ts';
import { createSessionSource } from './session-source.ts';
import { prepareLabPod, type LabHandle } from './lab-pod.ts';

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
}

export function makeRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  // Bad input is found before any node is touched or any lab is built.
  const catalogue = loadCatalogue();
  selectCases(catalogue, options.test);
  const profileName = options.thresholds ?? (options.pod ? 'opnfv-tc028' : 'lab');
  if (options.pod) loadThresholds(profileName, { podName: loadPod(options.pod).name });
  else loadThresholds(profileName);

  const runId = makeRunId();
  const runDir = resolve(options.results, runId);
  await mkdir(runDir, { recursive: true });
  const runLog = await openRunLog(join(runDir, 'run.log'));
  const progress = createProgress();
  const log = (line: string) => runLog.write(line);

  let lab: LabHandle | undefined;
  let pod: Pod;  // NODE_NAME, when set, already names the pod (loadPod)
  const environment = readOpnfvEnvironment();
  const notes: string[] = [];
  try {
    if (options.pod) {
      pod = loadPod(options.pod);
    } else {
      lab = await prepareLabPod({ dryRun: options.dryRun, log: (l) => progress.note(l) });
      pod = loadPod(lab.podYaml);
      notes.push('embedded lab pod: network namespaces on one machine; its figures test function, not NFV quality');
    }
  } catch (error) {
    await runLog.close();
    throw error;
  }
  runLog.setRedactor(new Redactor(podSecrets(pod)));
  notes.push(...pod.notes);
  const profile = loadThresholds(profileName, { podName: pod.name });

  const source = createSessionSource({ pod, dryRun: options.dryRun, runId, log, hostKeyPolicy: options.hostKeyPolicy, knownHosts: options.knownHosts });
  const sessions = createNodeSessions(pod, source, log);
  const abort = installAbortHandlers({
    log: (line) => {
      progress.note(line);
      log(line);
    },
    emergencyCleanup: async () => {
      await sessions.cleanupAll().catch(() => {});
      if (lab && !options.keepLab) await lab.remove().catch(() => {});
    },
  });
  const reporters = new ReporterMultiplexer(
    [createConsoleReporter(runDir), createResultsJsonReporter(runDir), createJunitReporter(runDir)],
    log,
  );
  const durationS = options.duration;
  let exitCode: number = EXIT.notMeasured;
  try {
    const run = await executeRun({
      catalogue,
      selection: options.test,
      environment,
      thresholdsFile: profile.file,
      reporters,
      env: process.env,
      nodes: sessions.systemInfo,
      tools: sessions.tools,
      notes,
      scope: {
        runId,
        runDir,
        pod,
        thresholdProfile: profile.name,
        limitsFor: (caseName) => profile.limitsFor(caseName),
        durationOverrideS: durationS,
        dryRun: options.dryRun,
        signal: abort.signal,
        progress,
        session: (node) => sessions.session(node),
        log,
        recordSystemInfo: sessions.recordSystemInfo,
        recordToolVersion: sessions.recordToolVersion,
        hookTimeoutMs: timeoutFor(durationS ?? 3600) * 4,
      },
    });
    await sessions.cleanupAll();
    await sessions.closeAll();
    let labProblem: string | undefined;
    if (lab && !options.keepLab) labProblem = await lab.remove().then(() => undefined, describeError);
    if (labProblem) run.notes.push(`the lab pod could not be removed completely: ${labProblem}`);
    const received = abort.received();
    if (received) run.notes.push(`aborted by ${received}`);
    const outcome = outcomeOfCases(run);
    run.exitCode = exitCodeFor({ ...outcome, notMeasured: outcome.notMeasured || Boolean(labProblem) || Boolean(received) });
    await reporters.onEnd(run);
    exitCode = run.exitCode;
  } finally {
    abort.dispose();
    await sessions.cleanupAll().catch(() => {});
    if (lab && !options.keepLab) await lab.remove().catch(() => {});
    await runLog.close();
  }
  return exitCode;
}
