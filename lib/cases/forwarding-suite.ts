// The shape every forwarding suite shares, declared once: set the topology up, measure each
// frame size (with a hook timeout the plan bounds), report the key figures, judge the limits,
// and tear down. A forwarding suite file then only names its topology, the node its limits
// apply to, and what it adds to the JUnit properties.
import type { PodNode } from '../config/pod-model.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { formatForwardingTable } from '../report/forwarding-table.ts';
import type { PropertyValue } from '../results/model.ts';
import type { Topology } from '../topology/types.ts';
import { formatFrameSize } from '../traffic/line-rate.ts';
import type { ForwardingArgs } from './forwarding-args.ts';
import { buildFrameMeasurements, type ThroughputEntry } from './forwarding-figures.ts';
import { declareForwardingLimitTests, startForwarding, type ForwardingRun } from './forwarding.ts';

export interface ForwardingSuiteSpec {
  args: ForwardingArgs;
  /** Created only when the pod can host the case. */
  createTopology: () => Topology;
  /** The node the profile's limits are judged for; undefined when the pod lacks it. */
  judged: PodNode | undefined;
  /** Why the pod cannot host the case (the case is then one skipped test), if it cannot. */
  missing: string | undefined;
  /** What this path adds to each frame size's JUnit properties, e.g. the VNF or vswitch. */
  properties: Record<string, PropertyValue>;
}

export function declareForwardingSuite(ctx: CaseContext, spec: ForwardingSuiteSpec): void {
  const { args, judged } = spec;
  describe(ctx.caseName, () => {
    if (spec.missing !== undefined || !judged) {
      const reason = spec.missing ?? `pod ${ctx.pod.name} cannot host ${ctx.caseName}`;
      it('measured', function () {
        ctx.annotate({ skipReason: reason });
        this.skip();
      });
      return;
    }
    let run: ForwardingRun | undefined;
    const entries: ThroughputEntry[] = [];

    before(async () => {
      run = await startForwarding(ctx, { topology: spec.createTopology(), args });
    });

    after(async () => {
      if (entries.length > 0) await ctx.writeRaw('forwarding-table.txt', formatForwardingTable(entries));
      await run?.finish();
    });

    for (const frameSize of args.frame_sizes) {
      describe(`${formatFrameSize(frameSize)} B`, () => {
        let entry: ThroughputEntry | undefined;

        before(async function () {
          // A sweep outlasts the harness's default hook timeout (4 x the trial's); the plan bounds it.
          if (run) this.timeout(Math.max(this.timeout(), run.frameSizeTimeoutMs));
          entry = await run!.measure(frameSize);
          entries.push(entry);
        });

        it('measured', () => {
          const e = entry!;
          ctx.annotate({
            properties: {
              frame_size: formatFrameSize(frameSize),
              ...spec.properties,
              generator: args.generator,
              direction: e.direction,
              trial_duration_s: e.durationS,
              ceiling_pps: Math.round(e.ceilingPps),
              ceiling_source: e.ceilingSource,
              ndr_status: e.ndr.confirmedBy ?? e.ndr.status,
              trials: e.trials.length,
            },
            measurements: buildFrameMeasurements(e),
            systemOut: formatForwardingTable([e]),
          });
        });

        declareForwardingLimitTests(ctx, judged, frameSize, () => entry);
      });
    }
  });
}
