// What a suite file sees of the harness: the pod, its case's arguments and limits,
// sessions to the nodes, and a place to put every figure it measures. The runner sets
// the active context before mocha loads the suite; suites call useCase() at load time.
import type { Pod, PodNode, NodeRole } from '../config/pod-model.ts';
import type { Limit, ThresholdProfile } from '../config/thresholds.ts';
import type { NodeSession } from '../remote/types.ts';
import type { GuestLaunchRecord, NodeSystemInfo, PropertyValue } from '../results/model.ts';
import type { CasePhase } from '../results/phases.ts';
import type { CleanupStack } from './cleanup.ts';
import type { RecordUndo } from '../undo/journal.ts';
import type { Progress } from './progress.ts';

export interface TestAnnotation {
  properties: Record<string, PropertyValue>;
  measurements: Record<string, number>;
  systemOut: string[];
  skipReason?: string;
}

export interface CaseContext {
  readonly caseName: string;
  readonly tier: string;
  /** `kvmfornfv.<tier>.<case>` */
  readonly classname: string;
  readonly runId: string;
  readonly pod: Pod;
  /** `run.args` from testcases.yaml; the suite validates them. */
  readonly args: Readonly<Record<string, unknown>>;
  /** `--duration` from the command line, when given. */
  readonly durationOverrideS: number | undefined;
  readonly thresholdProfile: string;
  /** The resolved profile, for sections a case reads itself (e.g. preflight severities). */
  readonly thresholds: ThresholdProfile;
  readonly dryRun: boolean;
  /** Aborted on Ctrl-C or SIGTERM: long waits stop early and keep what they measured. */
  readonly signal: AbortSignal;
  /** This case's folder for raw outputs, inside the run folder. */
  readonly rawDir: string;
  /** Undo steps for this case; unwound when the case ends, whatever its outcome. */
  readonly cleanup: CleanupStack;
  /**
   * Records an undo command in the node's undo log before a change (lib/topology/undo.ts
   * registerUndo does it): absent in dry runs and tests, where nothing outlives the harness.
   */
  readonly recordUndo?: RecordUndo;
  readonly progress: Progress;
  nodes(role: NodeRole): PodNode[];
  session(node: PodNode): Promise<NodeSession>;
  /** The profile's limits for this case that apply to the node (by role or name). */
  limitsFor(node: PodNode): Limit[];
  log(line: string): void;
  /** Writes a raw output file and lists it in the case result; returns its path. */
  writeRaw(relativePath: string, content: string | Buffer): Promise<string>;
  /** Keeps a figure in results.json under this case's `details`, whatever the verdict. */
  recordDetails(key: string, value: unknown): void;
  /** Keeps when a measurement ran on a node, from that node's clock (ms since the epoch). */
  recordWindow(node: string, what: string, window: { startMs: number; endMs: number }): void;
  recordSystemInfo(info: NodeSystemInfo): void;
  recordToolVersion(node: string, tool: string, version: string): void;
  /** --trace-on-breach: every case that can explains a broken max limit with a kernel trace. */
  readonly traceOnBreach?: boolean;
  /** What is known of a node so far (sysinfo, a launched guest's record with its vCPU threads). */
  nodeInfo?(name: string): NodeSystemInfo | undefined;
  /** Set when the node's figures come from software emulation (a launched guest under TCG): the label to show beside them. */
  emulation(node: PodNode): string | undefined;
  /** The accelerator a guest the harness launched runs under; undefined for any other node. */
  accelerator(node: PodNode): 'kvm' | 'tcg' | undefined;
  /** Runs fn as one phase of the case, for the time split in results.json (see PhaseClock). */
  phase<T>(phase: CasePhase, fn: () => Promise<T>): Promise<T>;
  /** How a guest the harness launched runs (its NICs, QMP socket, placement); undefined for any other node. */
  launch(node: PodNode): GuestLaunchRecord | undefined;
  /** Adds properties, Measurement-Plots figures or output to the JUnit testcase now running. */
  annotate(annotation: Partial<Omit<TestAnnotation, 'systemOut'>> & { systemOut?: string }): void;
}

let active: CaseContext | undefined;

/** Called by the runner only. */
export function setActiveCase(context: CaseContext | undefined): void {
  active = context;
}

// Suites run only under the harness; a clear error beats a TypeError deep in a suite.
export function useCase(): CaseContext {
  if (!active) {
    throw new Error('this suite runs under the kvmfornfv-test harness (kvmfornfv-test run -t <case>), not under plain mocha');
  }
  return active;
}
