// Test plan, design considerations: before any latency is measured, audit every node
// against the tuning guide (docs/tuning.md): kernel, command line, runtime settings,
// guest placement and data ports. One JUnit test per check and node; the threshold
// profile's preflight: section says which failures block (<failure>) and which are
// advisory (a pass that names its finding). Checks only read; nothing is changed.
import { useCase } from '../lib/harness/case-context.ts';
import {
  auditPreflightNode,
  buildCheckFailure,
  loadPreflightPolicy,
  parsePreflightArgs,
  planPreflight,
  type NodeAudit,
} from '../lib/cases/preflight.ts';

const ctx = useCase();
const args = parsePreflightArgs(ctx.args);
const policy = loadPreflightPolicy(ctx);
const planned = planPreflight({ pod: ctx.pod, policy, args });

describe('preflight', () => {
  if (planned.length === 0) {
    it('audited', function () {
      ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no node with a role the checks apply to` });
      this.skip();
    });
  }
  for (const plan of planned) {
    describe(plan.node.name, () => {
      if (plan.checks.length === 0) {
        it('audited', function () {
          ctx.annotate({ skipReason: `every check for a ${plan.node.role} node is off in threshold profile ${ctx.thresholdProfile}` });
          this.skip();
        });
        return;
      }
      let audit: NodeAudit;

      before(async () => {
        audit = await auditPreflightNode(ctx, plan);
      });

      for (const { check } of plan.checks) {
        it(`${check.id} ${check.title}`, function () {
          const verdict = audit.verdicts.get(check.id);
          if (!verdict) throw new Error(`preflight: no verdict for ${check.id} on ${plan.node.name}`);
          ctx.annotate({ properties: verdict.properties, ...(verdict.systemOut ? { systemOut: verdict.systemOut } : {}) });
          if (verdict.status === 'skip') {
            ctx.annotate({ skipReason: verdict.message ?? 'skipped' });
            this.skip();
          }
          if (verdict.status === 'fail') throw buildCheckFailure(verdict);
        });
      }
    });
  }
});
