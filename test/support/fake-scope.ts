// A RunScope with no pod behind it, for running fixture suites through the real runner.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../../lib/config/pod-model.ts';
import type { Limit, ThresholdProfile } from '../../lib/config/thresholds.ts';
import type { RunScope } from '../../lib/harness/run-case.ts';
import { createProgress } from '../../lib/harness/progress.ts';

export const FIXTURE_SUITES = fileURLToPath(new URL('../fixtures/suites/', import.meta.url));

export const EMPTY_POD: Pod = { file: 'pod.yaml', name: 'test-pod', lab: false, nodes: [], notes: [] };

/** A profile with the given limits for every case, and no other section. */
export function buildTestProfile(limits: Limit[] = [], sections: Record<string, unknown> = {}): ThresholdProfile {
  return { name: 'test', file: 'test-profile.yaml', limitsByCase: {}, sections, limitsFor: () => limits };
}

export async function buildFakeScope(overrides: Partial<RunScope> = {}): Promise<RunScope> {
  return {
    runId: 'test-run',
    runDir: await mkdtemp(join(tmpdir(), 'kfn-test-run-')),
    pod: EMPTY_POD,
    thresholds: buildTestProfile(),
    durationOverrideS: undefined,
    dryRun: false,
    signal: new AbortController().signal,
    progress: createProgress({ quiet: true }),
    session: () => Promise.reject(new Error('no sessions in this test')),
    log: () => {},
    recordSystemInfo: () => {},
    recordToolVersion: () => {},
    hookTimeoutMs: 5000,
    suitesDir: FIXTURE_SUITES,
    ...overrides,
  };
}

export function catalogueCase(suite: string, caseName = suite.replace(/-/g, '_')) {
  return { caseName, tier: 'latency', blocking: false, enabled: true, description: '', dependencies: [], suite, args: {} };
}
