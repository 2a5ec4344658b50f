// oslat, as Red Hat's RT-KVM qualification and OpenShift's cnf-tests run it beside cyclictest: a
// thread busy-polls each RT CPU the way a DPDK PMD thread does and counts every gap in which the
// OS took the CPU away. On the guest, with the host as reference, one after the other.
import { useCase } from '../lib/harness/case-context.ts';
import { declareLatencyNodes } from '../lib/harness/latency-nodes.ts';
import { measureOslat, parseOslatArgs } from '../lib/cases/oslat.ts';

const ctx = useCase();
const args = parseOslatArgs(ctx.args);

describe('oslat', () => {
  declareLatencyNodes(ctx, { roles: args.roles, tool: 'oslat', measuredTitle: 'oslat measured every RT CPU', measure: (node) => measureOslat(ctx, node, args) });
});
