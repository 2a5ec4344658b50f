// The shape of a preflight check: data for the tuning guide plus one pure function that
// judges a NodeSnapshot. Severity is not here: the threshold profile maps ids to
// blocking, advisory or off, so one check list serves every pod.
import type { NodeRole } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { UnknownState } from './read.ts';

export type CheckCategory = 'kernel' | 'cmdline' | 'runtime' | 'guest-placement' | 'forwarding';
export type CheckOutcome = 'pass' | 'fail' | 'unknown';

export interface CheckResult {
  outcome: CheckOutcome;
  /** What a tuned node shows, in this node's terms (e.g. "isolcpus covers 2-5"). */
  expected: string;
  /** What the snapshot showed. */
  found: string;
  /** The exact kernel parameter, sysctl or command that would make it pass. Always set on fail. */
  fix?: string;
  /** Why the outcome is unknown, or extra context for a fail. */
  reason?: string;
}

/** A data port as the audit needs it. */
export interface PortContext {
  name: string;
  interface?: string;
  pci?: string;
  /** The driver the port must be bound to: vfio-pci for DPDK, 'kernel' for an SR-IOV PF or a kernel NIC. */
  binding: 'vfio-pci' | 'kernel';
}

/** An SR-IOV physical function and the VFs it must expose. */
export interface SriovPf {
  /** Data port name from pod.yaml, for messages. */
  port: string;
  pci?: string;
  interface?: string;
  minVfs: number;
}

/** What the audit knows about a node besides its snapshot: its role and its CPU plan. */
export interface NodeContext {
  node: string;
  role: NodeRole;
  /** CPUs the measurement (or vCPUs, or PMD threads) runs on; they must be isolated. */
  rtCpus: readonly number[];
  /** CPUs left for the kernel, IRQs, QEMU's own threads and the harness. */
  housekeepingCpus: readonly number[];
  /** `uname -r` when already known; otherwise read from the snapshot. */
  kernelRelease?: string;
  /** SR-IOV is used on this node (IOMMU needed on a host). */
  usesSriov: boolean;
  dataPorts: readonly PortContext[];
  sriovPfs: readonly SriovPf[];
  /** Free hugepages each NUMA node with rt CPUs must still have; `sizeKb` limits the page size counted. */
  hugepages: { minFreePerNode: number; sizeKb?: number };
  /** Guests the harness launches on this host (pod.yaml launch:), as the forwarding placement checks need them. */
  launchedGuests?: readonly LaunchedGuestContext[];
  /** CPUs pod.yaml gives OVS's PMD threads on this host (extra.ovs_pmd_cpus), when it does. */
  ovsPmdCpus?: readonly number[];
}

/** A guest the harness launches on the audited host. */
export interface LaunchedGuestContext {
  name: string;
  /** Its real-time vCPUs, where the VNF's forwarding lcores run. */
  rtVcpus: readonly number[];
  /** The host CPU of each, in the same order. */
  vcpuPins: readonly number[];
  /** It has vhost-user NICs: its RAM must be shared with the vswitch, on hugepages. */
  vhostUser: boolean;
}

export interface CheckCondition {
  /** Shown in the guide, e.g. "SR-IOV is used". */
  text: string;
  holds(context: NodeContext): boolean;
}

export interface CheckDefinition {
  /** Stable id the threshold profile refers to, e.g. `cmdline.isolcpus`. */
  id: string;
  title: string;
  category: CheckCategory;
  appliesTo: readonly NodeRole[];
  /** A further condition; when it does not hold the harness skips the check. */
  condition?: CheckCondition;
  /** Why it matters for latency. */
  why: string;
  /** What a tuned node shows, in general terms (for the guide and unknown outcomes). */
  expected: string;
  /** How to fix, in general terms (the result's `fix` is the node-specific form). */
  howToFix: string;
  /** Files and commands the check reads. */
  reads: readonly string[];
  /** Pure, never throws, reads only the snapshot and the context. */
  evaluate(snapshot: NodeSnapshot, context: NodeContext): CheckResult;
}

// A check must never crash the audit nor pass by accident: every throw becomes unknown,
// and a fail without a fix borrows the general one so the report always says what to do.
/** `spec.evaluate` may throw UnknownState (through the read helpers) to end as unknown. */
export function defineCheck(spec: CheckDefinition): CheckDefinition {
  const evaluate = (snapshot: NodeSnapshot, context: NodeContext): CheckResult => {
    try {
      const result = spec.evaluate(snapshot, context);
      if (result.outcome === 'fail' && !result.fix) return { ...result, fix: spec.howToFix };
      return result;
    } catch (error) {
      if (error instanceof UnknownState) return { outcome: 'unknown', expected: spec.expected, found: error.found ?? 'not readable', reason: error.message };
      return { outcome: 'unknown', expected: spec.expected, found: 'not evaluated', reason: `internal error in check ${spec.id}: ${describeError(error)}` };
    }
  };
  return Object.freeze({ ...spec, evaluate });
}

// The harness runs a check only where it applies; a check that does not apply is a skip, not a pass.
export function checkApplies(check: CheckDefinition, context: NodeContext): { applies: true } | { applies: false; reason: string } {
  if (!check.appliesTo.includes(context.role)) return { applies: false, reason: `applies to ${check.appliesTo.join(', ')} nodes, not ${context.role}` };
  if (check.condition && !check.condition.holds(context)) return { applies: false, reason: `applies only where ${check.condition.text}` };
  return { applies: true };
}

// Result builders keep the field set uniform across checks.
export function passResult(expected: string, found: string, reason?: string): CheckResult {
  return reason === undefined ? { outcome: 'pass', expected, found } : { outcome: 'pass', expected, found, reason };
}

// A fail always carries a fix, by signature.
export function failResult(expected: string, found: string, fix: string, reason?: string): CheckResult {
  return reason === undefined ? { outcome: 'fail', expected, found, fix } : { outcome: 'fail', expected, found, fix, reason };
}

// An unknown always carries a reason, by signature.
export function unknownResult(expected: string, found: string, reason: string): CheckResult {
  return { outcome: 'unknown', expected, found, reason };
}
