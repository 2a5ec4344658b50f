// One JUnit testcase per threshold limit, declared the same way by every suite: the
// message names the value, the limit, the unit, the node and the thread.
import type { PodNode } from '../config/pod-model.ts';
import type { Limit } from '../config/thresholds.ts';
import type { Figure } from '../verdict/limits.ts';
import { describeLimit, enforceVerdict, evaluateLimit } from '../verdict/limits.ts';
import type { CaseContext } from './case-context.ts';

export interface LimitTestOptions {
  /**
   * Why a limit cannot apply to this setup (a figure the declared clock case cannot give, a
   * kernel without the tracer the tool needs): the test is skipped with that reason, never passed.
   */
  withheld?: (limit: Limit) => string | undefined;
  /** Why a limit failed, when the case found out (a trace at the breach): added to the failure message. */
  explain?: (limit: Limit) => string | undefined;
}

// The label every test about an emulated guest carries, in JUnit properties and output alike.
export function annotateEmulation(ctx: CaseContext, node: PodNode): void {
  const label = ctx.emulation(node);
  if (label) ctx.annotate({ properties: { emulated: true, accelerator: 'tcg' }, systemOut: label });
}

/** Declares an `it` per limit that applies to the node; figures are read when the test runs. */
export function declareLimitTests(ctx: CaseContext, node: PodNode, figuresFor: (metric: string) => Figure[], options: LimitTestOptions = {}): void {
  for (const limit of ctx.limitsFor(node)) {
    it(`${describeLimit(limit)} (${limit.action})`, function () {
      // Asked when the test runs: what the measurement found out (a kernel without the tracer) counts too.
      const withheld = options.withheld?.(limit);
      if (withheld) {
        ctx.annotate({ properties: { metric: limit.metric, action: limit.action, outcome: 'not computed' }, skipReason: withheld });
        this.skip();
      }
      annotateEmulation(ctx, node);
      const judged = evaluateLimit(limit, figuresFor(limit.metric));
      const why = judged.outcome === 'fail' ? options.explain?.(limit) : undefined;
      const verdict = why ? { ...judged, message: `${judged.message}. ${why}` } : judged;
      // A monitor limit never fails the run, but an unknown figure must not read as a pass:
      // it is reported as skipped with the reason. Under assert it stays an error.
      if (verdict.outcome === 'unknown' && limit.action === 'monitor') {
        ctx.annotate({ skipReason: `monitor: ${verdict.message}` });
        this.skip();
      }
      ctx.annotate({
        properties: {
          metric: limit.metric,
          limit: limit.max ?? limit.min ?? '',
          limit_kind: limit.max !== undefined ? 'max' : 'min',
          unit: limit.unit,
          action: limit.action,
          outcome: verdict.outcome,
          ...(verdict.decisive?.value != null ? { measured: verdict.decisive.value, measured_unit: verdict.decisive.unit } : {}),
          ...(verdict.decisive ? { where: verdict.decisive.where } : {}),
        },
      });
      const { monitorViolation } = enforceVerdict(verdict, { profile: ctx.thresholdProfile });
      if (monitorViolation) {
        ctx.annotate({ properties: { monitor_violation: true }, systemOut: `monitor: ${verdict.message}` });
      }
    });
  }
}
