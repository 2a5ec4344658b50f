// How a forwarding case wires a pod: bare metal, SR-IOV or OVS-DPDK PVP. A topology
// sets up the device under test between the generator's ports and tells the engine which
// ports to use; every change it makes is registered as an undo step BEFORE it is made
// (ctx.cleanup.push), so teardown restores the pod after success, failure and abort.
import type { PodNode } from '../config/pod-model.ts';
import type { CaseContext } from '../harness/case-context.ts';
import type { TrialPorts } from '../traffic/generator.ts';

export type TopologyName = 'baremetal' | 'sriov' | 'ovs-dpdk';

/** What the traffic engine needs once the device under test forwards. */
export interface ForwardingPath {
  topology: TopologyName;
  /** The node the generator runs on. */
  tgen: PodNode;
  /** The generator's ports, by pod.yaml `ports[].name`. */
  ports: TrialPorts;
  /** Human-readable path, e.g. "tgen:t0 → host:h0 → testpmd (io) → host:h1 → tgen:t1". */
  description: string;
  /** The nodes on the path, for explanations and the build under test. */
  nodes: PodNode[];
}

export interface Topology {
  readonly name: TopologyName;
  /** Builds the path; each change is registered with an undo step before it is made. */
  setup(ctx: CaseContext): Promise<ForwardingPath>;
  /** Keeps the data path's own statistics (testpmd, OVS PMD stats) in the raw outputs. */
  collectEvidence?(ctx: CaseContext): Promise<void>;
}

// The node whose VNF forwards when a case names none: the pod's first guest.
export function defaultVnfNode(ctx: Pick<CaseContext, 'nodes'>): PodNode | undefined {
  return ctx.nodes('guest')[0];
}

/** One counting point on the path, e.g. `OVS vhu0 tx (toward the VNF)`. */
export interface PathStage {
  point: string;
  frames: number;
}

/** Frames the device sent toward each tgen port over the case, by tgen port name. */
export interface ForwarderCounts {
  txTowardTgenPort: Record<string, number>;
  /** Where the counts come from, e.g. `testpmd forward statistics`. */
  source: string;
  /** The path's own counting points per generator direction, in path order, to locate loss. */
  stages?: Array<{ txPort: string; rxPort: string; stages: PathStage[] }>;
}

/** A topology whose forwarder counts frames, so the engine can check the path was used. */
export interface CountingTopology extends Topology {
  forwarderCounts?(): ForwarderCounts | undefined;
}
