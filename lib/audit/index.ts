// The preflight audit's public face: every check definition, their ids for threshold
// profiles, and one function that judges a node's snapshot with all of them.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { checkApplies, type CheckCategory, type CheckDefinition, type CheckResult, type NodeContext } from './types.ts';
import { kernelChecks } from './kernel-checks.ts';
import { cmdlineChecks } from './cmdline-checks.ts';
import { runtimeCpuChecks } from './runtime-cpu-checks.ts';
import { runtimeSystemChecks } from './runtime-system-checks.ts';
import { guestPlacementChecks } from './guest-placement-checks.ts';
import { forwardingChecks } from './forwarding-checks.ts';
import { vmForwardingChecks } from './vm-forwarding-checks.ts';

export type { CheckCategory, CheckDefinition, CheckOutcome, CheckResult, NodeContext, PortContext, SriovPf } from './types.ts';
export { checkApplies } from './types.ts';
export { buildNodeContext, type NodeContextOptions } from './context.ts';
export { renderTuningDoc } from './tuning-doc.ts';

export const CHECK_CATEGORIES: readonly CheckCategory[] = ['kernel', 'cmdline', 'runtime', 'guest-placement', 'forwarding'];

export const ALL_CHECKS: readonly CheckDefinition[] = Object.freeze([
  ...kernelChecks,
  ...cmdlineChecks,
  ...runtimeCpuChecks,
  ...runtimeSystemChecks,
  ...guestPlacementChecks,
  ...vmForwardingChecks,
  ...forwardingChecks,
]);

/** Ids a threshold profile may map to blocking, advisory or off. */
export const CHECK_IDS: readonly string[] = Object.freeze(ALL_CHECKS.map((c) => c.id));

export interface AuditEntry {
  check: CheckDefinition;
  /** Set when the check ran; absent when it does not apply to this node. */
  result?: CheckResult;
  /** Why the check was skipped. */
  skipped?: string;
}

// The harness turns these entries into JUnit cases; skipped ones are JUnit skips, never passes.
export function auditNode(options: { snapshot: NodeSnapshot; context: NodeContext; checks?: readonly CheckDefinition[] }): AuditEntry[] {
  return (options.checks ?? ALL_CHECKS).map((check) => {
    const applies = checkApplies(check, options.context);
    if (!applies.applies) return { check, skipped: applies.reason };
    return { check, result: check.evaluate(options.snapshot, options.context) };
  });
}
