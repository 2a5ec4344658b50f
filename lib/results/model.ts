import type { ForwardingComparison } from './comparison.ts';
import type { RegressionReport } from './regression-report.ts';
import type { PhaseTimes } from './phases.ts';

// One result model, versioned, for all five cases. JUnit, results.json, TestAPI,
// InfluxDB and the HTML report are views of it; none of them reads SSH or mocha.

// Schema history (a minor version only adds fields; a reader of 1.x reads every 1.x file):
// 1.1.0 `pushes`. 1.2.0 bounds stay bounds in every comparison: `comparison` cells gain
// `ndrVsBaseline`, `p99VsBaseline`, `maxVsBaseline` (lib/results/comparison.ts Delta),
// `maxAtLeastNs` and `conditions`, and their signed `*Delta*` fields are set only when both
// figures are exact; `regression.compared[]` gains `change`; `nodes[].launch` records a guest the
// harness launched (accelerator and why, QEMU, guest kernel, thread placement read back).
// 1.3.0 `cases[].windows` (each measurement's window on its node's own clock, to the ms),
// `testcases[].compute` and `computes` (the compute groups measured side by side).
// 1.4.0 `nodes[].launch.nics` (each data NIC, its kind and guest PCI address) and `qmpSocket`;
// a forwarding case whose VNF runs in a launched guest records `vnf`, `accelerator`, and
// `pathCheck.loss` (each direction's counts from the generator through the path and back).
export const RESULTS_SCHEMA_VERSION = '1.4.0';

/** Xtesting's four endings: threshold missed is fail, could not measure is error. */
export type Status = 'pass' | 'fail' | 'error' | 'skip';

/**
 * A run is `running` from its first results.json until its verdict: a file left by a harness
 * that was killed (SIGKILL, the OOM killer) then still says so, and never reads as a pass.
 */
export type RunStatus = Status | 'running';

export type PropertyValue = string | number | boolean;

/** One JUnit testcase: one assertion, one threshold or one check. */
export interface TestcaseResult {
  title: string;
  /** `kvmfornfv.<tier>.<case>` */
  classname: string;
  status: Status;
  /** Failure, error or skip reason: one line. */
  message?: string;
  /** Longer text for the JUnit body (e.g. stderr, the cause chain). */
  details?: string;
  durationMs: number;
  properties: Record<string, PropertyValue>;
  /** Key figures for Jenkins' Measurement Plots plugin. */
  measurements: Record<string, number>;
  systemOut?: string;
  /** The compute group it was measured in, when the pod has several. */
  compute?: string;
}

/** When one measurement ran, read from the clock of the node it ran on, to the millisecond. */
export interface MeasurementWindow {
  node: string;
  /** The tool that measured, e.g. `cyclictest`. */
  what: string;
  /** ISO 8601 with ms, on the node's clock. */
  start: string;
  end: string;
  /** The compute group, when the pod has several. */
  compute?: string;
}

/** A host and its guests, measured one after another; groups were measured side by side. */
export interface ComputeRecord {
  name: string;
  host: string | null;
  guests: string[];
}

/** A latency distribution summary. Percentiles are null when the sample count cannot support them. */
export interface LatencySummary {
  unit: 'us' | 'ns';
  samples: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  p9999: number | null;
  /** Why a figure is null or a bound, keyed by figure name. */
  notes: Record<string, string>;
  /** Samples above the histogram's range. */
  overflows: number;
  /**
   * True when `max` is only a lower bound (samples overflowed the histogram and the tool did
   * not report the true maximum). A threshold on max then fails unless the bound already exceeds it.
   */
  maxIsLowerBound: boolean;
}

export interface NodeSystemInfo {
  node: string;
  role: string;
  kernelRelease: string | null;
  kernelVersion: string | null;
  cmdline: string | null;
  preemptRt: boolean | null;
  /** bare-metal, vm, namespace or unknown, as far as can be told. */
  kind: 'bare-metal' | 'vm' | 'namespace' | 'unknown';
  kindEvidence: string;
  qemuVersion: string | null;
  cpus: number | null;
  /** For a guest the harness launched: how, and what was read back. */
  launch?: GuestLaunchRecord;
}

/** A data NIC of a launched guest. */
export interface GuestNicRecord {
  port: string;
  /** tap on a bridge, macvtap (the VM owns a host link), vhost-user (plugged by the case running the vswitch), vf (passed through). */
  kind: 'tap' | 'macvtap' | 'vhost-user' | 'vf';
  /** Its PCI address inside the guest, fixed by the launcher. */
  guestPci: string;
  /** tap: the tap; macvtap: the host link the VM owns. */
  hostInterface?: string;
  /** vhost-user: the socket QEMU serves once the NIC is plugged. */
  vhostSocket?: string;
  /** vf: the VF's PCI address on the host. */
  hostPci?: string;
}

/** A launched guest as it ran: the accelerator and why, QEMU, and where its threads ran. */
export interface GuestLaunchRecord {
  hostNode: string;
  accelerator: 'kvm' | 'tcg';
  acceleratorReason: string;
  /** TCG: software emulation; the guest's latency figures test function, not quality. */
  emulated: boolean;
  qemuBinary: string;
  qemuVersion: string;
  kernelRelease: string | null;
  kernelCmdline: string;
  bootSeconds: number;
  command: string[];
  /** virtio-net options of each data NIC, by port. */
  nicOptions: Record<string, Record<string, string>>;
  /** Since 1.3.0: each data NIC, how it reaches the wire and its PCI address inside the guest. */
  nics?: GuestNicRecord[];
  /** Since 1.3.0: QEMU's QMP socket on the host, through which a case plugs vhost-user NICs. */
  qmpSocket?: string;
  /** Read back from /proc after pinning. */
  vcpus: Array<{ index: number; tid: number; rt: boolean; hostCpus: number[]; policy: string; priority: number }>;
  threads: Array<{ tid: number; name: string; cpus: number[]; policy: string; priority: number }>;
}

export interface CaseResult {
  caseName: string;
  tier: string;
  projectName: 'kvmfornfv';
  status: Status;
  startedAt: string;
  stoppedAt: string;
  durationMs: number;
  /** Reason when the whole case is error or skip. */
  reason?: string;
  testcases: TestcaseResult[];
  /** Case-specific figures; every measured value lands here, failed or not. */
  details: Record<string, unknown>;
  /** Raw output files, relative to the run folder. */
  rawOutputs: string[];
  /** Failed preflight checks on the nodes this case measured: the "why" for a failure. */
  explanations?: string[];
  /** Where the case's time went (connect, provision, build, measure, collect, judge, cleanup, other); absent for a case that never ran. */
  phasesMs?: PhaseTimes;
  /** Each measurement's window on its node's clock. */
  windows?: MeasurementWindow[];
}

export interface RunEnvironment {
  installerType: string;
  deployScenario: string;
  nodeName: string;
  buildTag: string;
  ciLoop: string;
}

export interface RunResult {
  schemaVersion: string;
  runId: string;
  startedAt: string;
  stoppedAt: string;
  /** `running` (with exit code 70) until the verdict is reached. */
  status: RunStatus;
  exitCode: number;
  pod: { name: string; file: string; lab: boolean };
  environment: RunEnvironment;
  thresholds: { profile: string; file: string };
  options: { selection: string; durationS: number | null };
  nodes: Record<string, NodeSystemInfo>;
  /** Tool versions per node, e.g. `{ guest: { cyclictest: '2.40' } }`. */
  tools: Record<string, Record<string, string>>;
  cases: CaseResult[];
  /** The compute groups, when the pod has more than one: the preflight and latency tiers ran per group. */
  computes?: ComputeRecord[];
  /** The forwarding cases side by side against bare metal, when any ran. */
  comparison?: ForwardingComparison;
  /** The regression verdict against a baseline run, when --baseline was given. */
  regression?: RegressionReport;
  /**
   * The result pushes of -r. Kept apart from the exit code, where 68 and 71 outrank a failed
   * push (69): the ci/ script's nightly mode reads this so a failed push still fails the job.
   */
  pushes?: PushRecord[];
  notes: string[];
}

export interface PushRecord {
  target: 'testapi' | 'influxdb';
  state: 'not-run' | 'pushed' | 'skipped' | 'failed';
  accepted: number;
  failures: string[];
}
