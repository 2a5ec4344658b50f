// Proof that the measured frames went through the device under test, and where the lost ones
// were lost: the generator's counts at both ends of each direction, with the forwarder's own
// counters (and, on a vswitch path, the vswitch's per-port counters) in between. A point that
// counts more frames than the one before it means frames came from elsewhere, or the counters do
// not cover the same frames: either way the figures cannot be trusted.
import type { ForwarderCounts, PathStage } from '../topology/types.ts';

/** What the generator sent and received through the path (its loopback excluded), per direction. */
export interface GeneratorDirectionCounts {
  txPort: string;
  rxPort: string;
  sent: number;
  received: number;
}

export interface LocatedLoss {
  /** `t0 -> t1`, by the generator's ports. */
  direction: string;
  /** Every counting point in path order, the generator's at both ends. */
  stages: PathStage[];
  /** Frames lost between each point and the next; the largest says where the loss is. */
  losses: Array<{ from: string; to: string; lost: number }>;
}

// More frames reached the generator than the device sent toward it: they bypassed the device.
// A device that sent nothing at all forwarded nothing: its case is an error, never a pass.
export function checkForwarderCounts(received: Readonly<Record<string, number>>, counts: ForwarderCounts): string[] {
  const problems: string[] = [];
  const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((a, b) => a + b, 0);
  if (Object.keys(received).length > 0 && (sum(received) === 0 || sum(counts.txTowardTgenPort) === 0)) {
    problems.push(`no frame went through the device under test (${counts.source}: ${sum(counts.txTowardTgenPort)} sent toward the generator, which received ${sum(received)})`);
  }
  for (const [port, rx] of Object.entries(received)) {
    const sent = counts.txTowardTgenPort[port];
    if (sent === undefined) problems.push(`${counts.source} has no count for the port facing ${port}`);
    else if (rx > sent) problems.push(`the generator received ${rx} frames on ${port} but the device sent only ${sent} toward it (${counts.source}): frames went around the device`);
  }
  return problems;
}

// Lines the counts of each direction up; a direction the topology did not count is left out.
export function locateLoss(generator: readonly GeneratorDirectionCounts[], counts: ForwarderCounts): { located: LocatedLoss[]; problems: string[] } {
  const located: LocatedLoss[] = [];
  const problems: string[] = [];
  for (const g of generator) {
    const middle = counts.stages?.find((s) => s.txPort === g.txPort && s.rxPort === g.rxPort);
    if (!middle) continue;
    const direction = `${g.txPort} -> ${g.rxPort}`;
    const stages: PathStage[] = [{ point: `generator sent on ${g.txPort}`, frames: g.sent }, ...middle.stages, { point: `generator received on ${g.rxPort}`, frames: g.received }];
    const losses = stages.slice(1).map((s, i) => ({ from: stages[i]!.point, to: s.point, lost: stages[i]!.frames - s.frames }));
    for (const l of losses) {
      if (l.lost < 0) problems.push(`${direction}: ${l.to} counted ${-l.lost} frames more than ${l.from} before it: frames entered the path from elsewhere, or the counters do not cover the same frames`);
    }
    located.push({ direction, stages, losses });
  }
  return { located, problems };
}
