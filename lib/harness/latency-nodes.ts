// The suite body shared by the latency cases that measure each host and guest node in turn with
// one tool (timer: cyclictest, oslat): per node, one test that the tool measured every thread,
// then one test per limit, whose failure carries the trace at the breach when the case took one.
import type { NodeRole, PodNode } from '../config/pod-model.ts';
import { buildLatencyFigures, summaryMeasurements, type LocatedSummary } from '../cases/latency-figures.ts';
import { formatLatencyTable } from '../report/latency-table.ts';
import type { CaseContext } from './case-context.ts';
import { annotateEmulation, declareLimitTests } from './limit-tests.ts';

export interface NodeLatencyMeasurement {
  version: string;
  durationS: number;
  load: string;
  threads: LocatedSummary[];
  overall: LocatedSummary;
  /** The trace at a breach: its text is added to a failed max limit's message. */
  breach?: { text: string };
}

/** Declares, for every node of each role, its measurement hook, its "measured" test and its limit tests. */
export function declareLatencyNodes<M extends NodeLatencyMeasurement>(
  ctx: CaseContext,
  spec: { roles: readonly NodeRole[]; tool: string; measuredTitle: string; measure: (node: PodNode) => Promise<M> },
): void {
  for (const role of spec.roles) {
    const nodes = ctx.nodes(role);
    if (nodes.length === 0) {
      it(`${role}: measured`, function () {
        ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no ${role} node` });
        this.skip();
      });
    }
    for (const node of nodes) {
      describe(node.name, () => {
        let measured: M;

        before(async () => {
          measured = await spec.measure(node);
        });

        it(spec.measuredTitle, async () => {
          // The per-thread table goes to a raw file: Jenkins cuts a passing test's output.
          const table = await ctx.writeRaw(`${node.name}/latency-table.txt`, formatLatencyTable([...measured.threads, measured.overall]));
          annotateEmulation(ctx, node);
          ctx.annotate({
            properties: { role: node.role, [spec.tool]: measured.version, duration_s: measured.durationS, load: measured.load, table },
            measurements: summaryMeasurements(`${node.name}`, measured.overall.summary),
          });
        });

        declareLimitTests(ctx, node, (metric) => buildLatencyFigures(metric, measured.threads), { explain: (limit) => (limit.metric === 'max' ? measured.breach?.text : undefined) });
      });
    }
  }
}
