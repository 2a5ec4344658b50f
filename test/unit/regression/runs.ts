// Builds "current runs" from the hand-written baseline fixture, one change at a time, so
// each test states exactly what differs from the baseline.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LatencySummary, RunResult } from '../../../lib/results/model.ts';

export const BASELINE_FILE = fileURLToPath(new URL('../../fixtures/regression/baseline-run.json', import.meta.url));

export function loadBaseline(): RunResult {
  return JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as RunResult;
}

/** A later run on the same pod with identical figures, then `change` applied. */
export function withRun(change: (run: RunResult) => void = () => {}): RunResult {
  const run = loadBaseline();
  run.runId = '20261121-020000-bbbb';
  run.startedAt = '2026-11-21T02:00:00.000Z';
  run.stoppedAt = '2026-11-21T02:40:00.000Z';
  change(run);
  return run;
}

interface TimerDetails {
  durationS: number;
  load: string;
  overall: { where: string; summary: LatencySummary };
}

export function timerOf(run: RunResult, node: 'host' | 'guest'): TimerDetails {
  const timer = run.cases.find((c) => c.caseName === 'timer');
  if (!timer) throw new Error('fixture has no timer case');
  return timer.details[node] as TimerDetails;
}

export interface Trial {
  frameSize: number;
  durationS: number;
  ndrPps: number | null;
  pdrPps: number | null;
}

export function trialOf(run: RunResult, frameSize: number): Trial {
  const fwd = run.cases.find((c) => c.caseName === 'ovs_dpdk_forwarding');
  const trial = (fwd?.details.throughput as Trial[] | undefined)?.find((t) => t.frameSize === frameSize);
  if (!trial) throw new Error(`fixture has no ${frameSize} B trial`);
  return trial;
}
