// Builds "current runs" from the hand-written baseline fixture, one change at a time, so
// each test states exactly what differs from the baseline.
import { readFileSync } from 'node:fs';
import { loadLabOvsDpdkRun } from '../../fixtures/report/lab-runs.ts';
import { fileURLToPath } from 'node:url';
import type { CaseResult, LatencySummary, RunResult } from '../../../lib/results/model.ts';
import { buildDeviceInterruptDetails, type DeviceInterruptDetails } from '../../../lib/tools/irq-agent/details.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../lib/tools/irq-agent/parse.ts';

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

/** The forwarding case of a run built from the baseline fixture. */
export function forwardingOf(run: RunResult): CaseResult {
  const fwd = run.cases.find((c) => c.caseName === 'ovs_dpdk_forwarding');
  if (!fwd) throw new Error('fixture has no ovs_dpdk_forwarding case');
  return fwd;
}

/** The case as it ended, for tests that make it error or skip. */
export function timerCaseOf(run: RunResult): CaseResult {
  const timer = run.cases.find((c) => c.caseName === 'timer');
  if (!timer) throw new Error('fixture has no timer case');
  return timer;
}

const irqFixture = (name: string) => readFileSync(new URL(`../../fixtures/irq-agent/${name}`, import.meta.url), 'utf8');

/**
 * details[guest] of a device_interrupt case as lib/cases/device-interrupt.ts records it, built
 * from a recorded kfn-irqgen/kfn-irqrecv pair (test/fixtures/irq-agent/<name>.*.source.md).
 */
export function buildIrqDetails(name = 'veth-monotonic'): Record<string, unknown> & DeviceInterruptDetails {
  const details = buildDeviceInterruptDetails({ gen: parseIrqGenSummary(irqFixture(`${name}.irqgen.json`)), recv: parseIrqRecvSummary(irqFixture(`${name}.irqrecv.json`)), device: 'veth' });
  return { ...details, generator_node: 'tgen', duration_s: 2, load: 'idle', commands: { receiver: 'kfn-irqrecv ...', generator: 'kfn-irqgen ...' } };
}

/** Adds a device_interrupt case whose guest entry `change` may alter. */
export function withDeviceInterrupt(run: RunResult, change: (d: Record<string, unknown> & DeviceInterruptDetails) => void = () => {}, name = 'veth-monotonic'): RunResult {
  const details = buildIrqDetails(name);
  change(details);
  const timer = timerCaseOf(run);
  run.cases.push({ ...structuredClone(timer), caseName: 'device_interrupt', testcases: [], details: { guest: details } });
  return run;
}

/** A real forwarding case (test/fixtures/report/lab-ovs-dpdk.run.source.md). */
export function loadLabOvsCase(): CaseResult {
  return loadLabOvsDpdkRun().cases[0]!;
}
