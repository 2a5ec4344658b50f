// Test plan, packet forwarding: the host forwards between two data ports cabled to the traffic
// generator, with no virtualisation in the path: the baseline the SR-IOV and OVS-DPDK paths are
// compared with. Per frame size: NDR and PDR (binary search, verified), latency at shares of
// the NDR, loss at a fixed rate; the generator is calibrated on its own loopback beside it.
import { useCase } from '../lib/harness/case-context.ts';
import { declareForwardingLimitTests, startForwarding, type ForwardingRun } from '../lib/cases/forwarding.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { buildFrameMeasurements, type ThroughputEntry } from '../lib/cases/forwarding-figures.ts';
import { formatForwardingTable } from '../lib/report/forwarding-table.ts';
import { baremetalArgsShape, createBaremetalTopology, findDeviceNode } from '../lib/topology/baremetal.ts';
import { formatFrameSize } from '../lib/traffic/line-rate.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: baremetalArgsShape });
const device = findDeviceNode(ctx, args);
const tgen = ctx.nodes('tgen')[0];

describe('baremetal_forwarding', () => {
  if (!device || !tgen) {
    it('measured', function () {
      ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no ${device ? 'tgen' : 'host'} node: bare-metal forwarding needs a host cabled to a traffic generator` });
      this.skip();
    });
    return;
  }
  let run: ForwardingRun | undefined;
  const entries: ThroughputEntry[] = [];

  before(async () => {
    run = await startForwarding(ctx, { topology: createBaremetalTopology(args), args });
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
            forwarder: `${args.forwarder}${args.forwarder === 'testpmd' ? ` ${args.forward_mode}` : ''}`,
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

      declareForwardingLimitTests(ctx, device, frameSize, () => entry);
    });
  }
});
