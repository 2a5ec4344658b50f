// Test plan, Timer test: cyclictest in the guest measures guest timer latency (from when
// the timer should fire to when it fires); the host runs the same as the reference.
import { useCase } from '../lib/harness/case-context.ts';
import { annotateEmulation, declareLimitTests } from '../lib/harness/limit-tests.ts';
import { buildLatencyFigures, summaryMeasurements } from '../lib/cases/latency-figures.ts';
import { measureTimer, parseTimerArgs, type TimerMeasurement } from '../lib/cases/timer.ts';
import { formatLatencyTable } from '../lib/report/latency-table.ts';

const ctx = useCase();
const args = parseTimerArgs(ctx.args);

describe('timer', () => {
  for (const role of args.roles) {
    const nodes = ctx.nodes(role);
    if (nodes.length === 0) {
      it(`${role}: measured`, function () {
        ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no ${role} node` });
        this.skip();
      });
    }
    for (const node of nodes) {
      describe(node.name, () => {
        let measured: TimerMeasurement;

        before(async () => {
          measured = await measureTimer(ctx, node, args);
        });

        it('cyclictest measured every thread', async () => {
          // The per-thread table goes to a raw file: Jenkins cuts a passing test's output.
          const table = await ctx.writeRaw(`${node.name}/latency-table.txt`, formatLatencyTable([...measured.threads, measured.overall]));
          annotateEmulation(ctx, node);
          ctx.annotate({
            properties: { role: node.role, cyclictest: measured.version, duration_s: measured.durationS, load: measured.load, table },
            measurements: summaryMeasurements(`${node.name}`, measured.overall.summary),
          });
        });

        declareLimitTests(ctx, node, (metric) => buildLatencyFigures(metric, measured.threads));
      });
    }
  }
});
