// Test plan, Packet forwarding (DPDK OVS): a frame goes from the traffic generator to a host
// port, through OVS-DPDK and vhost-user to a VNF (dpdk-testpmd, io or macswap), back through
// OVS-DPDK to another host port and to the generator (PVP). Per frame size: NDR and PDR
// (binary search, verified), latency at shares of the NDR, loss at a fixed rate; OVS's PMD
// statistics and flow counters are kept as evidence, and the flow counters prove the path.
import { useCase } from '../lib/harness/case-context.ts';
import { declareForwardingLimitTests, startForwarding, type ForwardingRun } from '../lib/cases/forwarding.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { buildFrameMeasurements, type ThroughputEntry } from '../lib/cases/forwarding-figures.ts';
import { formatForwardingTable } from '../lib/report/forwarding-table.ts';
import { createOvsDpdkTopology, findOvsHost, ovsDpdkArgsShape } from '../lib/topology/ovs-dpdk.ts';
import { formatFrameSize } from '../lib/traffic/line-rate.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: ovsDpdkArgsShape });
const host = findOvsHost(ctx, args);
const missing = [!host && 'host', ctx.nodes('tgen').length === 0 && 'tgen', !args.vnf.node && ctx.nodes('guest').length === 0 && 'guest'].filter(Boolean);

describe('ovs_dpdk_forwarding', () => {
  if (!host || missing.length > 0) {
    it('measured', function () {
      ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no ${missing.join(' or ')} node: OVS-DPDK PVP needs a host with OVS, a guest for the VNF and a traffic generator` });
      this.skip();
    });
    return;
  }
  let run: ForwardingRun | undefined;
  const entries: ThroughputEntry[] = [];

  before(async () => {
    run = await startForwarding(ctx, { topology: createOvsDpdkTopology(args), args });
  });

  after(async () => {
    if (entries.length > 0) await ctx.writeRaw('forwarding-table.txt', formatForwardingTable(entries));
    await run?.finish();
  });

  for (const frameSize of args.frame_sizes) {
    describe(`${formatFrameSize(frameSize)} B`, () => {
      let entry: ThroughputEntry | undefined;

      before(async () => {
        entry = await run!.measure(frameSize);
        entries.push(entry);
      });

      it('measured', () => {
        const e = entry!;
        ctx.annotate({
          properties: {
            frame_size: formatFrameSize(frameSize),
            vswitch: `OVS-DPDK (${args.ovs})`,
            vnf: `testpmd ${args.forward_mode}`,
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

      declareForwardingLimitTests(ctx, host, frameSize, () => entry);
    });
  }
});
