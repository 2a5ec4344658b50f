// Runs a small catalogue through the real executeRun with the fixture suites (each case
// loads its suite afresh, so cases may share one), and reads back what Jenkins would see.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalogue, CatalogueCase } from '../../../lib/config/catalogue.ts';
import { executeRun, type RunRequest } from '../../../lib/harness/run.ts';
import { createJunitReporter } from '../../../lib/report/junit.ts';
import { ReporterMultiplexer, type Reporter } from '../../../lib/report/reporter.ts';
import type { CaseResult, RunEnvironment, RunResult, Status } from '../../../lib/results/model.ts';
import { buildFakeScope, FIXTURE_SUITES } from '../../support/fake-scope.ts';
import { readJenkinsJunit, type JenkinsCase } from '../../support/jenkins-junit-reader.ts';

export type Template = 'scripted-outcome' | 'aborted-midway';

export interface CaseSpec {
  name: string;
  tier: string;
  template?: Template;
  outcome?: 'pass' | 'fail' | 'error';
  blocking?: boolean;
  enabled?: boolean;
  dependencies?: Array<Record<string, string>>;
  /** The suite file name; by default the template's. */
  suite?: string;
}

export const ENVIRONMENT: RunEnvironment = { installerType: 'fuel', deployScenario: 'os-nosdn-kvm-ha', nodeName: 'pod1', buildTag: 'jenkins-kvmfornfv-daily-1', ciLoop: 'daily' };

/** Tiers in order of first appearance, cases in the order given: the catalogue order. */
export function buildCatalogue(cases: CaseSpec[]): Catalogue {
  const tiers: Catalogue['tiers'] = [];
  for (const spec of cases) {
    let tier = tiers.find((t) => t.name === spec.tier);
    if (!tier) {
      tier = { name: spec.tier, description: '', cases: [] };
      tiers.push(tier);
    }
    tier.cases.push(toCatalogueCase(spec));
  }
  return { file: 'testcases.yaml', tiers };
}

function toCatalogueCase(spec: CaseSpec): CatalogueCase {
  return {
    caseName: spec.name,
    tier: spec.tier,
    blocking: spec.blocking ?? false,
    enabled: spec.enabled ?? true,
    description: '',
    dependencies: spec.dependencies ?? [],
    suite: suiteOf(spec),
    args: { outcome: spec.outcome ?? 'pass' },
  };
}

function suiteOf(spec: CaseSpec): string {
  return spec.suite ?? spec.template ?? 'scripted-outcome';
}

export interface RunOutcome {
  run: RunResult;
  /** Cases whose suite test body ran, in order (pushed by the fixture suites). */
  ran: string[];
  /** onCaseEnd calls as the reporters saw them, with how many cases the run held then. */
  caseEnds: Array<{ caseName: string; status: Status; casesSoFar: number }>;
  begun: number;
  /** junit.xml as written to the run folder, read as Jenkins does, keyed by suite name. */
  junit: () => Promise<Record<string, JenkinsCase[]>>;
  runDir: string;
}

export interface RunOptions {
  cases: CaseSpec[];
  selection?: string;
  env?: NodeJS.ProcessEnv;
  isBlocking?: RunRequest['isBlocking'];
  controller?: AbortController;
  /** Called when an aborted-midway suite is measuring. */
  onMeasuring?: () => void;
  onCaseEnd?: (result: CaseResult, run: RunResult) => void;
  /** Told the run folder before the run starts. */
  onScope?: (runDir: string) => void;
}

const cleanups: string[] = [];

/** Removes every folder the runs of one test made. */
export async function removeRunFolders(): Promise<void> {
  for (const dir of cleanups.splice(0)) await rm(dir, { recursive: true, force: true });
}

export async function runCatalogue(options: RunOptions): Promise<RunOutcome> {
  const controller = options.controller ?? new AbortController();
  const scope = await buildFakeScope({ suitesDir: FIXTURE_SUITES, signal: controller.signal });
  cleanups.push(scope.runDir);
  options.onScope?.(scope.runDir);
  const ran: string[] = [];
  const hooks = globalThis as unknown as { __kfnRanCases?: string[]; __kfnMeasuring?: () => void };
  hooks.__kfnRanCases = ran;
  hooks.__kfnMeasuring = options.onMeasuring;
  const caseEnds: RunOutcome['caseEnds'] = [];
  let begun = 0;
  const recorder: Reporter = {
    name: 'recorder',
    onBegin: () => {
      begun += 1;
    },
    onCaseEnd: (result, run) => {
      caseEnds.push({ caseName: result.caseName, status: result.status, casesSoFar: run.cases.length });
      options.onCaseEnd?.(result, run);
    },
  };
  const failures: string[] = [];
  const reporters = new ReporterMultiplexer([createJunitReporter(scope.runDir), recorder], (line) => failures.push(line));
  try {
    const run = await executeRun({
      catalogue: buildCatalogue(options.cases),
      selection: options.selection ?? 'all',
      scope,
      environment: ENVIRONMENT,
      ...(options.isBlocking ? { isBlocking: options.isBlocking } : {}),
      reporters,
      env: options.env ?? {},
      nodes: {},
      tools: {},
      notes: [],
    });
    if (failures.length > 0) throw new Error(`a reporter failed: ${failures.join('; ')}`);
    const junit = async () => {
      const suites = readJenkinsJunit(await readFile(join(scope.runDir, 'junit.xml'), 'utf8'));
      return Object.fromEntries(suites.map((s) => [s.name, s.cases]));
    };
    return { run, ran, caseEnds, begun, junit, runDir: scope.runDir };
  } finally {
    hooks.__kfnRanCases = undefined;
    hooks.__kfnMeasuring = undefined;
  }
}

/** [case, status, reason] per case: what a reader of results.json sees first. */
export function summarize(run: RunResult): Array<[string, Status, string | undefined]> {
  return run.cases.map((c) => [c.caseName, c.status, c.reason]);
}
