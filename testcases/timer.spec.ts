// Test plan, Timer test: cyclictest in the guest measures guest timer latency (from when
// the timer should fire to when it fires); the host runs the same as the reference.
import { useCase } from '../lib/harness/case-context.ts';
import { declareLatencyNodes } from '../lib/harness/latency-nodes.ts';
import { measureTimer, parseTimerArgs } from '../lib/cases/timer.ts';

const ctx = useCase();
const args = parseTimerArgs(ctx.args);

describe('timer', () => {
  declareLatencyNodes(ctx, { roles: args.roles, tool: 'cyclictest', measuredTitle: 'cyclictest measured every thread', measure: (node) => measureTimer(ctx, node, args) });
});
