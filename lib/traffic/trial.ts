// What every driver shares around one trial: checking TrialParams against the tgen node's
// ports before anything runs, and turning raw per-direction counts into a TrialResult with
// the one validity rule (NFVbench's 90 %), so no driver can judge a trial differently.
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { ConfigError, MeasurementError, type ConfigIssue } from '../errors.ts';
import { describeBadBuckets } from '../measure/hdr.ts';
import type { LatencySummary } from '../results/model.ts';
import {
  DEFAULT_LATENCY_STREAM_PPS,
  MIN_VALID_TX_FRACTION,
  type DirectionResult,
  type SequenceErrors,
  type StreamDirection,
  type TrafficDirection,
  type TrialLatency,
  type TrialParams,
  type TrialResult,
} from './generator.ts';
import { describeBadFrameSize, formatFrameSize, lineRatePps, type FrameSize } from './line-rate.ts';

const MAX_DURATION_S = 86_400;

/** One direction of a trial with its ports looked up and its rate in pps. */
export interface ResolvedStream {
  direction: StreamDirection;
  txPort: DataPort;
  rxPort: DataPort;
  /** Everything this direction sends per second, latency frames included. */
  totalPps: number;
}

export interface ResolvedTrial {
  frameSize: FrameSize;
  durationS: number;
  flows: number;
  direction: TrafficDirection;
  latencyStreamPps: number;
  streams: ResolvedStream[];
}

// Checks every parameter at once against the node's pod.yaml ports; a percent rate on a port
// without lineRateBps is refused here, before a generator is asked for an impossible rate.
export function resolveTrial(params: TrialParams, node: PodNode): ResolvedTrial {
  const issues: ConfigIssue[] = [];
  const bad = describeBadFrameSize(params.frameSize);
  if (bad) issues.push({ path: 'frameSize', message: bad });
  if (!Number.isFinite(params.durationS) || params.durationS <= 0 || params.durationS > MAX_DURATION_S) {
    issues.push({ path: 'durationS', message: `expected seconds in (0, ${MAX_DURATION_S}], found ${params.durationS}` });
  }
  if (!Number.isInteger(params.flows) || params.flows < 1 || params.flows > 65_535) {
    issues.push({ path: 'flows', message: `expected an integer in [1, 65535], found ${params.flows}` });
  }
  if (params.direction !== 'one-way' && params.direction !== 'bidirectional') {
    issues.push({ path: 'direction', message: `expected one-way or bidirectional, found ${JSON.stringify(params.direction)}` });
  }
  const latencyStreamPps = params.latencyStreamPps ?? DEFAULT_LATENCY_STREAM_PPS;
  if (!Number.isInteger(latencyStreamPps) || latencyStreamPps < 0) {
    issues.push({ path: 'latencyStreamPps', message: `expected an integer >= 0, found ${latencyStreamPps}` });
  }
  const tx = findPort(issues, node, 'ports.tx', params.ports.tx);
  const rx = findPort(issues, node, 'ports.rx', params.ports.rx);
  if (params.ports.tx === params.ports.rx) {
    issues.push({ path: 'ports', message: `expected two different ports, found ${params.ports.tx} twice` });
  }
  const pairs: Array<[StreamDirection, DataPort | undefined, DataPort | undefined]> = [['forward', tx, rx]];
  if (params.direction === 'bidirectional') pairs.push(['reverse', rx, tx]);
  const streams: ResolvedStream[] = [];
  for (const [direction, txPort, rxPort] of pairs) {
    const totalPps = txPort ? ratePps(issues, { rate: params.rate, frameSize: params.frameSize, port: txPort, node: node.name }) : undefined;
    if (txPort && rxPort && totalPps !== undefined) streams.push({ direction, txPort, rxPort, totalPps });
  }
  if (issues.length > 0) throw new ConfigError(`trial parameters for ${node.name}`, dedupe(issues));
  return {
    frameSize: params.frameSize,
    durationS: params.durationS,
    flows: params.flows,
    direction: params.direction,
    latencyStreamPps,
    streams,
  };
}

function findPort(issues: ConfigIssue[], node: PodNode, path: string, name: string): DataPort | undefined {
  const port = node.ports.find((p) => p.name === name);
  if (!port) {
    const known = node.ports.map((p) => p.name).join(', ') || 'none';
    issues.push({ path, message: `expected a port of node ${node.name} (${known}), found ${JSON.stringify(name)}` });
  }
  return port;
}

function ratePps(issues: ConfigIssue[], a: { rate: TrialParams['rate']; frameSize: FrameSize; port: DataPort; node: string }): number | undefined {
  if ('pps' in a.rate) {
    const { pps } = a.rate;
    if (!Number.isFinite(pps) || pps <= 0) {
      issues.push({ path: 'rate.pps', message: `expected frames per second > 0, found ${pps}` });
      return undefined;
    }
    return pps;
  }
  const pct = a.rate.percentLineRate;
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100) {
    issues.push({ path: 'rate.percentLineRate', message: `expected a percentage in (0, 100], found ${pct}` });
    return undefined;
  }
  if (a.port.lineRateBps === undefined) {
    issues.push({
      path: 'rate.percentLineRate',
      message: `${pct} % of line rate needs lineRateBps on port ${a.port.name} of node ${a.node}, which has none (a port without a line rate, such as a lab veth, takes pps only): give the rate in pps`,
    });
    return undefined;
  }
  if (describeBadFrameSize(a.frameSize)) return undefined;
  return (pct / 100) * lineRatePps(a.port.lineRateBps, a.frameSize);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// TRex sends the latency stream beside the load: the load gets what the latency stream leaves.
export function splitLatencyRate(totalPps: number, latencyStreamPps: number): { loadPps: number; latencyPps: number } {
  const latencyPps = Math.min(latencyStreamPps, totalPps);
  return { loadPps: totalPps - latencyPps, latencyPps };
}

/** What a driver measured in one direction, before the shared rules are applied. */
export interface DirectionMeasurement {
  direction: StreamDirection;
  txPort: string;
  rxPort: string;
  txFrames: number;
  /** Distinct frames received. */
  rxFrames: number;
  requestedPps: number;
  /** Seconds the generator sent for; achieved rate is txFrames over this. */
  txSeconds: number;
  sequence: SequenceErrors | null;
  latency: TrialLatency | null;
}

// Applies the shared rules: loss against frames actually sent, and a trial below 90 % of the
// requested rate is invalid. Counters that cannot be right (more received than sent) are an error.
export function buildTrialResult(a: {
  generator: string;
  trial: Pick<ResolvedTrial, 'frameSize' | 'durationS' | 'flows' | 'direction'>;
  directions: DirectionMeasurement[];
  /** Tool-specific reasons the generator spoiled the trial (e.g. its receive ring dropped frames). */
  invalidReasons?: string[];
  notes?: string[];
}): TrialResult {
  if (a.directions.length === 0) throw new MeasurementError(`${a.generator}: a trial needs at least one direction`);
  const invalidReasons: string[] = [...(a.invalidReasons ?? [])];
  const directions: DirectionResult[] = a.directions.map((d) => {
    for (const [name, v] of Object.entries({ txFrames: d.txFrames, rxFrames: d.rxFrames })) {
      if (!Number.isSafeInteger(v) || v < 0) throw new MeasurementError(`${a.generator} ${d.direction}: ${name} must be a count >= 0, got ${v}`);
    }
    if (d.rxFrames > d.txFrames) {
      throw new MeasurementError(
        `${a.generator} ${d.direction} (${d.txPort} -> ${d.rxPort}): ${d.rxFrames} frames received but only ${d.txFrames} sent; the counters include other traffic and the loss cannot be trusted`,
      );
    }
    const badBuckets = d.latency && describeBadBuckets(d.latency.buckets);
    if (badBuckets) throw new MeasurementError(`${a.generator} ${d.direction}: latency histogram unusable: ${badBuckets}`);
    const achievedTxPps = d.txSeconds > 0 ? d.txFrames / d.txSeconds : 0;
    if (d.txFrames === 0) {
      invalidReasons.push(`${d.direction}: the generator sent no frame`);
    } else if (achievedTxPps < MIN_VALID_TX_FRACTION * d.requestedPps) {
      // Rounded down, so a rate just below the rule never prints as exactly 90 %.
      const pct = (Math.floor((1000 * achievedTxPps) / d.requestedPps) / 10).toFixed(1);
      invalidReasons.push(
        `${d.direction}: the generator sent ${Math.floor(achievedTxPps)} pps, ${pct} % of the ${Math.round(d.requestedPps)} pps requested (below ${MIN_VALID_TX_FRACTION * 100} %): the trial measured the generator, not the device`,
      );
    }
    const lostFrames = d.txFrames - d.rxFrames;
    return {
      direction: d.direction,
      txPort: d.txPort,
      rxPort: d.rxPort,
      txFrames: d.txFrames,
      rxFrames: d.rxFrames,
      lostFrames,
      lossRatio: d.txFrames > 0 ? lostFrames / d.txFrames : 0,
      requestedPps: d.requestedPps,
      achievedTxPps,
      sequence: d.sequence,
      latency: d.latency,
    };
  });
  const txFrames = sum(directions.map((d) => d.txFrames));
  const rxFrames = sum(directions.map((d) => d.rxFrames));
  const lossRatio = txFrames > 0 ? (txFrames - rxFrames) / txFrames : 0;
  return {
    generator: a.generator,
    frameSize: a.trial.frameSize,
    durationS: a.trial.durationS,
    flows: a.trial.flows,
    direction: a.trial.direction,
    directions,
    txFrames,
    rxFrames,
    lossRatio,
    lossPercent: lossRatio * 100,
    achievedTxPps: Math.min(...directions.map((d) => d.achievedTxPps)),
    valid: invalidReasons.length === 0,
    invalidReasons,
    notes: a.notes ?? [],
  };
}

function sum(values: number[]): number {
  return values.reduce((s, v) => s + v, 0);
}

// The result model's latency shape, so verdicts judge trial latency like cyclictest's.
export function toLatencySummary(latency: TrialLatency): LatencySummary {
  return {
    unit: 'ns',
    samples: latency.samples,
    min: latency.minNs,
    avg: latency.avgNs,
    max: latency.maxNs,
    p50: latency.p50Ns,
    p99: latency.p99Ns,
    p999: latency.p999Ns,
    p9999: latency.p9999Ns,
    notes: { ...latency.notes },
    overflows: latency.overflows,
    maxIsLowerBound: latency.maxIsLowerBound,
  };
}

// A one-line description of a trial for logs: `64 B one-way 1000000 pps: loss 0.0012 %`.
export function describeTrial(result: TrialResult): string {
  const rates = result.directions.map((d) => `${d.direction} ${Math.round(d.requestedPps)} pps`).join(', ');
  const validity = result.valid ? '' : ' (invalid: generator-limited)';
  return `${formatFrameSize(result.frameSize)} B ${result.direction} ${rates}: loss ${result.lossPercent.toPrecision(3)} %${validity}`;
}
