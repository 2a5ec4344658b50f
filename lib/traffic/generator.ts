// The contract between the forwarding cases and a traffic generator (TRex, kernel pktgen,
// kfn-softgen). A driver turns TrialParams into one trial on the tgen node and returns a
// TrialResult; searches and reports read only these types, never a tool's own output.
import type { FrameSize } from './line-rate.ts';

export type { FrameSize } from './line-rate.ts';

/** A rate per direction: frames per second, or a share of the tx port's line rate. */
export type TrialRate = { pps: number } | { percentLineRate: number };

export type TrafficDirection = 'one-way' | 'bidirectional';

/** Which way a stream goes: forward is ports.tx -> ports.rx, reverse the other way. */
export type StreamDirection = 'forward' | 'reverse';

/** Data ports of the tgen node, by their pod.yaml `ports[].name`. */
export interface TrialPorts {
  tx: string;
  rx: string;
}

/** NFVbench and TRex practice: one latency frame per millisecond per direction. */
export const DEFAULT_LATENCY_STREAM_PPS = 1000;

/** NFVbench's rule: a trial whose tx rate stays below 90 % of the request measured the generator. */
export const MIN_VALID_TX_FRACTION = 0.9;

export interface TrialParams {
  frameSize: FrameSize;
  /**
   * Total rate of each direction, the latency stream included: a trial at 100 % line rate
   * never asks a port for more than the line can carry.
   */
  rate: TrialRate;
  durationS: number;
  /** Distinct 5-tuples per direction (UDP source ports), at least 1. */
  flows: number;
  direction: TrafficDirection;
  ports: TrialPorts;
  /** Frames per second of the latency stream in each direction; default 1000, 0 for none. */
  latencyStreamPps?: number;
}

/** One latency histogram bucket: every value v with lowerNs <= v <= upperNs (both inclusive, ns). */
export interface LatencyBucket {
  lowerNs: number;
  upperNs: number;
  count: number;
}

/** Latency of one direction, always in nanoseconds whatever unit the tool printed. */
export interface TrialLatency {
  /** Which frames carried the timestamps. */
  source: 'latency-stream' | 'all-frames';
  /** Frames with a latency sample. */
  samples: number;
  minNs: number | null;
  avgNs: number | null;
  maxNs: number | null;
  /** Mean variation between consecutive samples (RFC 3550 style for TRex). */
  jitterNs: number | null;
  p50Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
  p9999Ns: number | null;
  /** Finest step the timestamps can express, e.g. 1000 for pktgen's microsecond header. */
  resolutionNs: number;
  /** Non-empty buckets in ascending order, kept so reports can draw the distribution. */
  buckets: LatencyBucket[];
  /** Samples the tool counted but no bucket holds (beyond the histogram's range). */
  overflows: number;
  /** True when maxNs is only known to be at least this much. */
  maxIsLowerBound: boolean;
  /** Why a figure is coarse, bounded or null, keyed by figure name. */
  notes: Record<string, string>;
}

/** Sequence-number errors seen by the receiver. */
export interface SequenceErrors {
  /** Which frames carried sequence numbers. */
  scope: 'latency-stream' | 'all-frames';
  dropped: number;
  duplicate: number;
  outOfOrder: number;
}

export interface DirectionResult {
  direction: StreamDirection;
  txPort: string;
  rxPort: string;
  /** Frames the generator actually sent in this direction, latency frames included. */
  txFrames: number;
  /** Distinct frames received (duplicates not counted). */
  rxFrames: number;
  /** txFrames - rxFrames; negative when more arrived than were sent. */
  lostFrames: number;
  /** lostFrames / txFrames: loss counted against frames actually sent (NFVbench). */
  lossRatio: number;
  requestedPps: number;
  achievedTxPps: number;
  /** Sequence errors, or null when the tool has no sequence numbers. */
  sequence: SequenceErrors | null;
  latency: TrialLatency | null;
}

export interface TrialResult {
  /** Driver name, e.g. `trex`. */
  generator: string;
  frameSize: FrameSize;
  durationS: number;
  flows: number;
  direction: TrafficDirection;
  directions: DirectionResult[];
  /** Sums over the directions. */
  txFrames: number;
  rxFrames: number;
  /** Overall (txFrames - rxFrames) / txFrames, what NDR/PDR searches compare with their limit. */
  lossRatio: number;
  lossPercent: number;
  /** Lowest achieved tx rate of any direction. */
  achievedTxPps: number;
  /** False when the generator, not the device, limited the trial; never read it as device loss. */
  valid: boolean;
  invalidReasons: string[];
  /** Facts a reader needs about how the figures were taken. */
  notes: string[];
}

/** What calibration found out about the generator on pps-only ports (no line rate). */
export interface CalibrationResult {
  /** Highest rate every direction reached; the search ceiling on pps-only ports. */
  maxTxPps: number;
  trial: TrialResult;
}

/** One trial with everything but the rate: calibration floods as fast as the generator can. */
export type CalibrationParams = Omit<TrialParams, 'rate'>;

export interface TrafficGenerator {
  /** `trex`, `pktgen`, `softgen`: recorded in results. */
  readonly name: string;
  /** Runs one trial; rejects with a KfnError, or with the signal's reason when aborted. */
  runTrial(params: TrialParams, signal?: AbortSignal): Promise<TrialResult>;
  /** Measures the generator's own ceiling, for ports without a line rate. */
  calibrate?(params: CalibrationParams, signal?: AbortSignal): Promise<CalibrationResult>;
  /** Releases what the generator holds on the node (ports, uploaded files stay in runDir). */
  close(): Promise<void>;
}
