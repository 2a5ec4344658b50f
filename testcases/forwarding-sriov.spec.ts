// Test plan, Packet forwarding (SR-IOV): like the DPDK OVS case, but a PCI NIC or a VF is
// given to the VNF and no vswitch is in the path: generator → VF → VNF (dpdk-testpmd, io or
// macswap) → VF → generator. Per frame size: NDR and PDR (binary search, verified), latency
// at shares of the NDR, loss at a fixed rate; the VNF's own counters prove the path.
import { useCase } from '../lib/harness/case-context.ts';
import { parseForwardingArgs } from '../lib/cases/forwarding-args.ts';
import { declareForwardingSuite } from '../lib/cases/forwarding-suite.ts';
import { createSriovTopology, findVnfNode, sriovArgsShape } from '../lib/topology/sriov.ts';

const ctx = useCase();
const args = parseForwardingArgs(ctx.args, { caseName: ctx.caseName, extra: sriovArgsShape });
const vnf = findVnfNode(ctx, args);
const tgen = ctx.nodes('tgen')[0];

declareForwardingSuite(ctx, {
  args,
  createTopology: () => createSriovTopology(args),
  judged: vnf,
  missing: vnf && tgen ? undefined : `pod ${ctx.pod.name} has no ${vnf ? 'tgen' : 'guest'} node: SR-IOV forwarding needs a guest (VNF) with VFs cabled to a traffic generator`,
  properties: {
    vnf: `testpmd ${args.forward_mode}`,
    vfs: args.sriov ? `${args.sriov.vfs}: ${args.sriov.ports.map((p) => `${p.pf} vf ${p.vf}`).join(', ')}` : ctx.pod.lab ? 'lab analogue (guest owns the links)' : 'node extra.sriov',
  },
});
