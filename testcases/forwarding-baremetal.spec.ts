// Test plan, packet forwarding: the host forwards between two data ports cabled to the traffic
// generator, with no virtualisation in the path: the baseline the SR-IOV and OVS-DPDK paths are
// compared with. Per frame size: NDR and PDR (binary search, verified), latency at shares of
// the NDR, loss at a fixed rate; the generator is calibrated on its own loopback beside it.
import { useCase } from '../lib/harness/case-context.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { declareForwardingSuite } from '../lib/cases/forwarding-suite.ts';
import { baremetalArgsShape, createBaremetalTopology, findDeviceNode } from '../lib/topology/baremetal.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: baremetalArgsShape });
const device = findDeviceNode(ctx, args);
const tgen = ctx.nodes('tgen')[0];

declareForwardingSuite(ctx, {
  args,
  createTopology: () => createBaremetalTopology(args),
  judged: device,
  missing: device && tgen ? undefined : `pod ${ctx.pod.name} has no ${device ? 'tgen' : 'host'} node: bare-metal forwarding needs a host cabled to a traffic generator`,
  properties: { forwarder: `${args.forwarder}${args.forwarder === 'testpmd' ? ` ${args.forward_mode}` : ''}` },
});
