// TrafficGenerator over kfn-softgen (lib/agents/kfn-softgen), the project's own AF_PACKET
// generator: one `trial` process on the tgen node sends each direction and receives it, so TX
// and RX timestamps share one clock and every frame carries a timestamp. The agent is built on
// the node by lib/provision/build-agent.ts (cached by content hash); each trial runs detached
// (remote-run.ts) and its one JSON document is parsed by lib/tools/softgen.
import { ConfigError, MeasurementError, ToolOutputParseError, type ConfigIssue } from '../../errors.ts';
import { ensureAgent, type EnsureAgentOptions } from '../../provision/build-agent.ts';
import type { NodeSession, RemoteCommand } from '../../remote/types.ts';
import { buildRxCommand, buildTrialCommand, type FrameSpec } from '../../tools/softgen/command.ts';
import { parseSoftgenOutput, type LatencyResult, type SoftgenOutput, type TrialResult as SoftgenStream } from '../../tools/softgen/parse.ts';
import { buildLatencySummary } from '../../tools/softgen/summary.ts';
import type { CalibrationParams, CalibrationResult, StreamDirection, TrafficGenerator, TrialLatency, TrialParams, TrialResult } from '../generator.ts';
import { runDetachedTrial } from '../remote-run.ts';
import { buildTrialResult, resolveTrial, type DirectionMeasurement, type ResolvedTrial } from '../trial.ts';
import type { PacketReceiver, ReceiverReport } from './pktgen.ts';

export const SOFTGEN_AGENT = 'kfn-softgen';

export interface SoftgenGeneratorOptions {
  session: NodeSession;
  /** Path of the built kfn-softgen on the node (provisionSoftgen). */
  binaryPath: string;
  /** Destination MAC per direction: the device port the frames enter (a routing device needs it). */
  dstMacs?: Partial<Record<StreamDirection, string>>;
  /** CPUs of the sender and receiver threads; isolated CPUs on a real pod. */
  txCpu?: number;
  rxCpu?: number;
  batch?: number;
  /** How long the receiver keeps counting after the senders stop; default 200 ms. */
  drainMs?: number;
  /** First stream id; every trial takes fresh ones, so late frames of an earlier trial are strays. */
  firstStreamId?: number;
}

const FIRST_STREAM_ID = 101;
const LAST_STREAM_ID = 65_534;

export class SoftgenGenerator implements TrafficGenerator {
  readonly name = 'softgen';
  readonly #o: SoftgenGeneratorOptions;
  #nextStreamId: number;

  constructor(options: SoftgenGeneratorOptions) {
    this.#o = options;
    this.#nextStreamId = options.firstStreamId ?? FIRST_STREAM_ID;
  }

  async runTrial(params: TrialParams, signal?: AbortSignal): Promise<TrialResult> {
    return this.#run(resolveTrial(params, this.#o.session.node), false, signal);
  }

  // As fast as the generator can send for the trial's duration: on ports without a line rate
  // (veths), the rate it reached is the search ceiling, and its latency is the generator's own.
  async calibrate(params: CalibrationParams, signal?: AbortSignal): Promise<CalibrationResult> {
    const trial = await this.#run(resolveTrial({ ...params, rate: { pps: 1 } }, this.#o.session.node), true, signal);
    return { maxTxPps: trial.achievedTxPps, trial };
  }

  async close(): Promise<void> {
    // Nothing is held between trials: each process opens and closes its own sockets.
  }

  #streamId(): number {
    if (this.#nextStreamId + 1 > LAST_STREAM_ID) this.#nextStreamId = FIRST_STREAM_ID;
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    return id;
  }

  async #run(trial: ResolvedTrial, unpaced: boolean, signal: AbortSignal | undefined): Promise<TrialResult> {
    const { session } = this.#o;
    const [forward] = trial.streams;
    const issues: ConfigIssue[] = [];
    const iface = (port: { name: string; interface?: string }, path: string) => {
      if (!port.interface) issues.push({ path, message: `expected the kernel interface of port ${port.name} (kfn-softgen sends on AF_PACKET), found none` });
      return port.interface ?? '';
    };
    const txIf = iface(forward!.txPort, 'ports.tx');
    const rxIf = iface(forward!.rxPort, 'ports.rx');
    if (issues.length > 0) throw new ConfigError(`kfn-softgen trial on ${session.node.name}`, issues);
    // A paced softgen sends --rate per stream: the total of each direction, rounded to a frame.
    const ratePps = unpaced ? 0 : Math.max(1, Math.round(forward!.totalPps));
    const streamId = this.#streamId();
    const frame: FrameSpec = trial.frameSize === 'imix' ? { kind: 'imix' } : { kind: 'fixed', sizeBytes: trial.frameSize };
    const dst = this.#o.dstMacs ?? {};
    const command = buildTrialCommand({
      binary: this.#o.binaryPath,
      txIf,
      rxIf,
      frame,
      ratePps,
      durationS: trial.durationS,
      direction: trial.direction,
      streamId,
      reverseStreamId: streamId + 1,
      flows: trial.flows,
      ...(this.#o.drainMs === undefined ? {} : { drainMs: this.#o.drainMs }),
      ...(this.#o.batch === undefined ? {} : { batch: this.#o.batch }),
      ...(dst.forward ? { dstMac: dst.forward } : {}),
      ...(dst.reverse && trial.direction === 'bidirectional' ? { reverseDstMac: dst.reverse } : {}),
      ...(this.#o.txCpu === undefined ? {} : { txCpu: this.#o.txCpu }),
      ...(this.#o.rxCpu === undefined ? {} : { rxCpu: this.#o.rxCpu }),
    });
    const outcome = await runDetachedTrial(session, {
      namePrefix: 'softgen-trial',
      command: command.argv,
      durationS: trial.durationS,
      label: 'kfn-softgen trial',
      ...(signal ? { signal } : {}),
    });
    if (outcome.overran) throw new MeasurementError(`${outcome.overran} on ${session.node.name}: ${tail(outcome.stderr)}`);
    let out: SoftgenOutput;
    try {
      out = parseSoftgenOutput(outcome.stdout, `kfn-softgen on ${session.node.name}`);
    } catch (e) {
      // A runtime failure prints one line on stderr and no JSON: that line is the explanation.
      if (outcome.exitCode !== 0 && e instanceof ToolOutputParseError) {
        throw new MeasurementError(`kfn-softgen on ${session.node.name} exited with ${outcome.exitCode ?? 'no exit code'}: ${tail(outcome.stderr)} (command: ${command.command})`, { cause: e });
      }
      throw e;
    }
    return mapSoftgenTrial({ out, trial, streamIds: [streamId, streamId + 1], unpaced, command: command.command });
  }
}

// Turns a parsed softgen document into the shared TrialResult; pure, so recorded documents test it.
export function mapSoftgenTrial(a: { out: SoftgenOutput; trial: ResolvedTrial; streamIds: [number, number]; unpaced: boolean; command?: string }): TrialResult {
  const { out, trial } = a;
  if (out.mode !== 'trial') throw new MeasurementError(`kfn-softgen: expected a trial document, found mode ${out.mode}`);
  const directions = trial.streams.map((s, i): DirectionMeasurement => {
    const id = a.streamIds[i]!;
    const d = out.directions.find((x) => x.streamId === id);
    if (!d) throw new MeasurementError(`kfn-softgen: the document has no stream ${id} (${s.direction}); found ${out.directions.map((x) => x.streamId).join(', ')}`);
    return toMeasurement(d, s.direction, s.txPort.name, s.rxPort.name, a.unpaced ? 0 : Math.max(1, Math.round(s.totalPps)));
  });
  if (out.directions.length !== trial.streams.length) {
    throw new MeasurementError(`kfn-softgen: expected ${trial.streams.length} stream(s) for a ${trial.direction} trial, found ${out.directions.length}`);
  }
  const invalidReasons: string[] = [];
  if (out.interrupted) invalidReasons.push('kfn-softgen was interrupted (SIGINT/SIGTERM) before the trial ended');
  for (const d of out.directions) {
    if (d.latency && d.latency.negative > 0) invalidReasons.push(`stream ${d.streamId}: ${d.latency.negative} negative latencies: the clock was stepped during the trial`);
  }
  for (const r of out.rxInterfaces) {
    if (r.ringDrops > 0) invalidReasons.push(`${r.name}: the generator's own receive ring dropped ${r.ringDrops} frames, so part of the loss is the generator's`);
  }
  const notes = [
    'kfn-softgen timestamps every frame: latency is over all frames, not a separate latency stream',
    'tx timestamps are taken before the send call: one-way latency includes the generator\'s own send path',
  ];
  if (a.unpaced) notes.push('calibration: kfn-softgen sent as fast as it could (--rate 0)');
  if (out.strays.malformed > 0) notes.push(`${out.strays.malformed} malformed frames received and not counted`);
  if (a.command) notes.push(`command: ${a.command}`);
  return buildTrialResult({ generator: 'softgen', trial, directions, invalidReasons, notes });
}

function toMeasurement(d: SoftgenStream, direction: StreamDirection, txPort: string, rxPort: string, requestedPps: number): DirectionMeasurement {
  if (d.txFrames === null || d.rxFrames === null) throw new MeasurementError(`kfn-softgen stream ${d.streamId}: a trial stream needs tx and rx counts, found none`);
  return {
    direction,
    txPort,
    rxPort,
    txFrames: d.txFrames,
    rxFrames: d.rxFrames - (d.duplicate ?? 0),
    requestedPps,
    txSeconds: d.durationS,
    sequence: { scope: 'all-frames', dropped: d.dropped ?? 0, duplicate: d.duplicate ?? 0, outOfOrder: d.outOfOrder ?? 0 },
    latency: d.latency && toTrialLatency(d.latency),
  };
}

// The shared latency shape; percentiles the sample count cannot support are null with a note.
export function toTrialLatency(l: LatencyResult): TrialLatency {
  const s = buildLatencySummary(l);
  return {
    source: 'all-frames',
    samples: l.samples,
    minNs: s.min,
    avgNs: s.avg,
    maxNs: s.max,
    jitterNs: l.jitterNs,
    p50Ns: s.p50,
    p99Ns: s.p99,
    p999Ns: s.p999,
    p9999Ns: s.p9999,
    resolutionNs: l.timestampResolutionNs,
    buckets: l.histogram.map((b) => ({ lowerNs: b.lowNs, upperNs: b.highNs, count: b.count })),
    overflows: l.overflow,
    maxIsLowerBound: false,
    notes: s.notes,
  };
}

export interface ProvisionedSoftgen {
  binaryPath: string;
  version: string;
  cached: boolean;
}

// Builds kfn-softgen on the node (or reuses the cached build) and reads its version.
export async function provisionSoftgen(session: NodeSession, options: EnsureAgentOptions = {}): Promise<ProvisionedSoftgen> {
  const agent = await ensureAgent(session, SOFTGEN_AGENT, options);
  const v = await session.exec([agent.binaryPath, '--version'], { reject: false, label: 'kfn-softgen version', privileged: false });
  const version = /^kfn-softgen (\S+)/.exec(v.stdout.trim())?.[1] ?? (options.dryRun ? 'dry-run' : 'unknown');
  return { binaryPath: agent.binaryPath, version, cached: agent.cached };
}

// kfn-softgen `rx --pktgen` as the receiver of the kernel pktgen driver (mainline pktgen has none).
export function buildSoftgenPktgenReceiver(binaryPath: string): PacketReceiver {
  return {
    buildCommand: ({ iface, durationS }): RemoteCommand => buildRxCommand({ binary: binaryPath, iface, stream: 'pktgen', durationS }).argv,
    parseReport(stdout: string): ReceiverReport {
      const out = parseSoftgenOutput(stdout, 'kfn-softgen rx --pktgen');
      const d = out.directions[0];
      if (out.mode !== 'rx' || !d || d.rxFrames === null) throw new MeasurementError(`kfn-softgen rx: expected one receive stream, found mode ${out.mode} with ${out.directions.length} stream(s)`);
      const invalidReasons = out.rxInterfaces.filter((r) => r.ringDrops > 0).map((r) => `${r.name}: the receive ring dropped ${r.ringDrops} frames`);
      if (out.interrupted) invalidReasons.push('the receiver was interrupted before its duration ended');
      return {
        rxFrames: d.rxFrames - (d.duplicate ?? 0),
        dropped: d.dropped ?? 0,
        duplicate: d.duplicate ?? 0,
        outOfOrder: d.outOfOrder ?? 0,
        latency: d.latency && toTrialLatency(d.latency),
        invalidReasons,
      };
    },
  };
}

function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-3).join(' | ') || '(no stderr)';
}
