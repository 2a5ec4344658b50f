// Test plan, Packet forwarding (DPDK OVS): a frame goes from the traffic generator to a host
// port, through OVS-DPDK and vhost-user to a VNF (dpdk-testpmd, io or macswap), back through
// OVS-DPDK to another host port and to the generator (PVP). Per frame size: NDR and PDR
// (binary search, verified), latency at shares of the NDR, loss at a fixed rate; OVS's PMD
// statistics and flow counters are kept as evidence, and the flow counters prove the path.
import { useCase } from '../lib/harness/case-context.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { declareForwardingSuite } from '../lib/cases/forwarding-suite.ts';
import { createOvsDpdkTopology, findOvsHost, ovsDpdkArgsShape } from '../lib/topology/ovs-dpdk.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: ovsDpdkArgsShape });
const host = findOvsHost(ctx, args);
const missing = [!host && 'host', ctx.nodes('tgen').length === 0 && 'tgen', !args.vnf.node && ctx.nodes('guest').length === 0 && 'guest'].filter(Boolean);

declareForwardingSuite(ctx, {
  args,
  createTopology: () => createOvsDpdkTopology(args),
  judged: host,
  missing: host && missing.length === 0 ? undefined : `pod ${ctx.pod.name} has no ${missing.join(' or ')} node: OVS-DPDK PVP needs a host with OVS, a guest for the VNF and a traffic generator`,
  properties: { vswitch: `OVS-DPDK (${args.ovs})`, vnf: `testpmd ${args.forward_mode}` },
});
