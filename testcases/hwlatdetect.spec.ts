// hwlatdetect, the firmware/SMI latency check of Red Hat's RT-KVM qualification: on each host
// whose kernel has the hwlat tracer. A kernel without it skips every test with that reason.
import { useCase } from '../lib/harness/case-context.ts';
import { declareLimitTests } from '../lib/harness/limit-tests.ts';
import { buildHwlatFigures, measureHwlatdetect, parseHwlatdetectArgs, type HwlatOutcome } from '../lib/cases/hwlatdetect.ts';

const ctx = useCase();
const args = parseHwlatdetectArgs(ctx.args);

describe('hwlatdetect', () => {
  const hosts = ctx.nodes('host');
  if (hosts.length === 0) {
    it('host: measured', function () {
      ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no host node` });
      this.skip();
    });
  }
  for (const node of hosts) {
    describe(node.name, () => {
      let outcome: HwlatOutcome | undefined;

      before(async () => {
        outcome = await measureHwlatdetect(ctx, node, args);
      });

      it('hwlatdetect ran on the hwlat tracer', function () {
        if (outcome?.kind !== 'measured') {
          ctx.annotate({ skipReason: outcome?.reason ?? 'not measured' });
          this.skip();
        }
        const o = outcome.output;
        ctx.annotate({
          properties: { role: node.role, duration_s: outcome.durationS, threshold_us: o.thresholdUs, window_us: o.windowUs, width_us: o.widthUs, samples_exceeding: o.samplesExceeding, ...(o.smis !== null ? { smis: o.smis } : {}) },
          measurements: { [`${node.name}_hwlat_samples_exceeding`]: o.samplesExceeding, ...(o.maxUs !== null ? { [`${node.name}_hwlat_max_us`]: o.maxUs } : {}) },
          systemOut: o.maxUs === null ? `max below the ${o.thresholdUs} us threshold: no sample recorded` : `max ${o.maxUs} us, ${o.samplesExceeding} samples above ${o.thresholdUs} us`,
        });
      });

      declareLimitTests(ctx, node, (metric) => buildHwlatFigures(metric, outcome), { withheld: () => (outcome?.kind === 'skipped' ? outcome.reason : undefined) });
    });
  }
});
