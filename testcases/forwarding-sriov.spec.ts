// Test plan, Packet forwarding (SR-IOV): like the DPDK OVS case, but a PCI NIC or a VF is
// given to the VNF and no vswitch is in the path: generator → VF → VNF (dpdk-testpmd, io or
// macswap) → VF → generator. Per frame size: NDR and PDR (binary search, verified), latency
// at shares of the NDR, loss at a fixed rate; the VNF's own counters prove the path.
import { useCase } from '../lib/harness/case-context.ts';
import { declareForwardingLimitTests, startForwarding, type ForwardingRun } from '../lib/cases/forwarding.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { buildFrameMeasurements, type ThroughputEntry } from '../lib/cases/forwarding-figures.ts';
import { formatForwardingTable } from '../lib/report/forwarding-table.ts';
import { createSriovTopology, findVnfNode, sriovArgsShape } from '../lib/topology/sriov.ts';
import { formatFrameSize } from '../lib/traffic/line-rate.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: sriovArgsShape });
const vnf = findVnfNode(ctx, args);
const tgen = ctx.nodes('tgen')[0];

describe('sriov_forwarding', () => {
  if (!vnf || !tgen) {
    it('measured', function () {
      ctx.annotate({ skipReason: `pod ${ctx.pod.name} has no ${vnf ? 'tgen' : 'guest'} node: SR-IOV forwarding needs a guest (VNF) with VFs cabled to a traffic generator` });
      this.skip();
    });
    return;
  }
  let run: ForwardingRun | undefined;
  const entries: ThroughputEntry[] = [];

  before(async () => {
    run = await startForwarding(ctx, { topology: createSriovTopology(args), args });
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
            vnf: `testpmd ${args.forward_mode}`,
            vfs: args.sriov ? `${args.sriov.vfs}: ${args.sriov.ports.map((p) => `${p.pf} vf ${p.vf}`).join(', ')}` : ctx.pod.lab ? 'lab analogue (guest owns the links)' : 'node extra.sriov',
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

      declareForwardingLimitTests(ctx, vnf, frameSize, () => entry);
    });
  }
});
