// TrafficGenerator with Linux kernel pktgen as the sender and a user-space receiver on the
// same node (kfn-softgen `rx --pktgen`, whose argv and parser are passed in) for loss,
// sequence errors and latency: mainline pktgen has no receiver. pktgen stamps each frame
// with the wall clock in whole microseconds (struct pktgen_hdr tv_sec/tv_usec), so latency
// from this driver has a 1 us resolution at best, and sender and receiver must share a clock
// (both run on the tgen node).
//
// Why this driver is not exercised in the lab: the machines this project is built on cannot
// load kernel modules, so there is no pktgen module and /proc/net/pktgen does not exist. It
// is tested with a fake NodeSession only; the lab pod generates with kfn-softgen instead.
import { ConfigError, MeasurementError, type ConfigIssue } from '../../errors.ts';
import { timeoutFor } from '../../remote/timeouts.ts';
import type { DetachedProcess, NodeSession, RemoteCommand } from '../../remote/types.ts';
import type { CalibrationParams, CalibrationResult, StreamDirection, TrafficGenerator, TrialLatency, TrialParams, TrialResult } from '../generator.ts';
import { nextTrialProcessName, runDetachedTrial } from '../remote-run.ts';
import { buildTrialResult, resolveTrial, type DirectionMeasurement, type ResolvedTrial } from '../trial.ts';
import { buildPktgenScript, deviceFileOf, PKTGEN_MAX_COUNT, type PktgenDevice } from '../../tools/pktgen/command.ts';
import { parsePktgenScriptOutput } from '../../tools/pktgen/parse.ts';

/** What the receiver tells about one direction's pktgen stream. */
export interface ReceiverReport {
  /** Distinct frames of the stream received (duplicates not counted). */
  rxFrames: number;
  dropped: number;
  duplicate: number;
  outOfOrder: number;
  latency: TrialLatency | null;
  /** Why the receiver itself spoiled the run (e.g. its ring dropped frames): the trial is then invalid. */
  invalidReasons?: string[];
}

/** The receiver side, e.g. kfn-softgen `rx --if IF --pktgen --duration S` with its parser. */
export interface PacketReceiver {
  buildCommand(a: { iface: string; durationS: number }): RemoteCommand;
  parseReport(stdout: string): ReceiverReport;
}

export interface PktgenAddresses {
  srcIp: string;
  dstIp: string;
  /** The DUT port the frames enter; default the rx port's pod.yaml MAC. */
  dstMac?: string;
}

export interface PktgenGeneratorOptions {
  session: NodeSession;
  receiver: PacketReceiver;
  /** pktgen thread (CPU) per direction; default the node's housekeeping CPUs. */
  threads?: Partial<Record<StreamDirection, number>>;
  addresses?: Partial<Record<StreamDirection, PktgenAddresses>>;
  /** Time the receivers get to open their sockets before pktgen starts; default 500 ms. */
  settleMs?: number;
  /** pktgen is stopped this long after the trial duration if its count is not reached; default 1 s. */
  stopSlackS?: number;
  /** Receiving continues this long after pktgen's time limit; default 1 s. */
  drainS?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** RFC 2544's benchmarking range, 198.18.0.0/15, one /16 per side. */
const DEFAULT_ADDRESSES: Record<StreamDirection, PktgenAddresses> = {
  forward: { srcIp: '198.18.0.1', dstIp: '198.19.0.1' },
  reverse: { srcIp: '198.19.0.1', dstIp: '198.18.0.1' },
};

export class PktgenGenerator implements TrafficGenerator {
  readonly name = 'pktgen';
  readonly #o: PktgenGeneratorOptions;

  constructor(options: PktgenGeneratorOptions) {
    this.#o = options;
  }

  async runTrial(params: TrialParams, signal?: AbortSignal): Promise<TrialResult> {
    return this.#run(resolveTrial(params, this.#o.session.node), false, signal);
  }

  // Unpaced pktgen for the trial duration; the rate it reached is the ceiling on pps-only ports.
  async calibrate(params: CalibrationParams, signal?: AbortSignal): Promise<CalibrationResult> {
    const trial = await this.#run(resolveTrial({ ...params, rate: { pps: 1 } }, this.#o.session.node), true, signal);
    return { maxTxPps: trial.achievedTxPps, trial };
  }

  async close(): Promise<void> {
    // The TX script removes its pktgen devices itself; nothing else is held.
  }

  #devices(trial: ResolvedTrial, unpaced: boolean): PktgenDevice[] {
    const node = this.#o.session.node;
    const issues: ConfigIssue[] = [];
    const devices = trial.streams.map((s, i): PktgenDevice => {
      const thread = this.#o.threads?.[s.direction] ?? node.housekeepingCpus[i] ?? i;
      const addr = { ...DEFAULT_ADDRESSES[s.direction], ...this.#o.addresses?.[s.direction] };
      const dstMac = addr.dstMac ?? s.rxPort.mac;
      if (!s.txPort.interface) issues.push({ path: `ports.${s.txPort.name}.interface`, message: 'expected the kernel interface pktgen sends on, found none' });
      if (!s.rxPort.interface) issues.push({ path: `ports.${s.rxPort.name}.interface`, message: 'expected the kernel interface the receiver listens on, found none' });
      if (!dstMac) issues.push({ path: `addresses.${s.direction}.dstMac`, message: `expected a destination MAC (or a mac on port ${s.rxPort.name}), found none` });
      const device: PktgenDevice = {
        iface: s.txPort.interface ?? '',
        thread,
        tag: `kfn${i}`,
        count: unpaced ? 0 : countFor(s.totalPps, trial.durationS),
        ratePps: unpaced ? 'max' : Math.max(1, Math.round(s.totalPps)),
        dstIp: addr.dstIp,
        srcIp: addr.srcIp,
        dstMac: dstMac ?? '',
        udpSrc: 1024,
        udpDst: 1024,
      };
      if (s.txPort.mac) device.srcMac = s.txPort.mac;
      return device;
    });
    if (issues.length > 0) throw new ConfigError(`pktgen trial on ${node.name}`, issues);
    return devices;
  }

  async #run(trial: ResolvedTrial, unpaced: boolean, signal: AbortSignal | undefined): Promise<TrialResult> {
    const { session, receiver } = this.#o;
    const devices = this.#devices(trial, unpaced);
    const stopSlackS = this.#o.stopSlackS ?? 1;
    const settleMs = this.#o.settleMs ?? 500;
    const rxDurationS = settleMs / 1000 + trial.durationS + stopSlackS + (this.#o.drainS ?? 1);
    // A device without a count is meant to stop at the time limit: give it the trial duration, not the slack.
    const timeLimitS = devices.every((d) => d.count === 0) ? trial.durationS : trial.durationS + stopSlackS;
    const script = buildPktgenScript({ devices, frameSize: trial.frameSize, flows: trial.flows, timeLimitS });
    const receivers: Array<{ process: DetachedProcess; collected: boolean }> = [];
    try {
      for (const s of trial.streams) {
        signal?.throwIfAborted();
        const command = receiver.buildCommand({ iface: s.rxPort.interface!, durationS: rxDurationS });
        const started = await session.startDetached({ name: nextTrialProcessName('pktgen-rx'), command, label: `receiver on ${s.rxPort.name}`, watch: true });
        receivers.push({ process: started, collected: false });
      }
      await (this.#o.sleep ?? delay)(settleMs);
      const tx = await runDetachedTrial(session, { namePrefix: 'pktgen-tx', command: { script }, durationS: trial.durationS + stopSlackS, label: 'kernel pktgen', signal });
      if (tx.overran) throw new MeasurementError(`${tx.overran} on ${session.node.name}`);
      if (tx.exitCode !== 0) throw new MeasurementError(`kernel pktgen on ${session.node.name} exited with ${tx.exitCode ?? 'no exit code'}: ${tail(tx.stderr)}`);
      const runs = parsePktgenScriptOutput(tx.stdout, devices.map(deviceFileOf), `pktgen on ${session.node.name}`);
      const reports: ReceiverReport[] = [];
      for (const r of receivers) {
        const outcome = await session.waitDetached(r.process, { timeoutMs: timeoutFor(rxDurationS) });
        r.collected = true;
        if (outcome.exitCode !== 0) throw new MeasurementError(`receiver ${r.process.name} on ${session.node.name} exited with ${outcome.exitCode ?? 'no exit code'}: ${tail(outcome.stderr)}`);
        reports.push(receiver.parseReport(outcome.stdout));
      }
      const directions = trial.streams.map((s, i): DirectionMeasurement => {
        const run = runs.get(deviceFileOf(devices[i]!))!;
        const report = reports[i]!;
        return {
          direction: s.direction,
          txPort: s.txPort.name,
          rxPort: s.rxPort.name,
          txFrames: run.packets,
          rxFrames: report.rxFrames,
          requestedPps: unpaced ? 0 : s.totalPps,
          txSeconds: run.elapsedUs / 1e6,
          sequence: { scope: 'all-frames', dropped: report.dropped, duplicate: report.duplicate, outOfOrder: report.outOfOrder },
          latency: report.latency && withMicrosecondStamps(report.latency),
        };
      });
      const invalidReasons = reports.flatMap((r, i) => (r.invalidReasons ?? []).map((why) => `${trial.streams[i]!.direction}: receiver: ${why}`));
      return buildTrialResult({ generator: 'pktgen', trial, directions, invalidReasons, notes: this.#notes(trial, unpaced) });
    } finally {
      for (const r of receivers) {
        if (!r.collected) await session.stopDetached(r.process, { signal: 'INT', graceMs: 5_000 }).catch(() => undefined);
      }
    }
  }

  #notes(trial: ResolvedTrial, unpaced: boolean): string[] {
    const notes = [
      'TX by kernel pktgen (clone_skb 0: every frame has its own sequence number and timestamp); RX, sequence errors and latency by the receiver on the same node',
      'pktgen timestamps are whole microseconds (tv_usec): latency resolution is 1 us',
      'achieved tx rate = frames pktgen sent / its elapsed time (Result line)',
    ];
    if (trial.latencyStreamPps > 0) notes.push('no separate latency stream: every pktgen frame carries a timestamp');
    if (trial.frameSize === 'imix') notes.push('pktgen picks IMIX sizes at random by weight (imix_weights), not in a fixed pattern');
    if (unpaced) notes.push('calibration: pktgen ran unpaced (delay 0, count 0) until its time limit');
    else if (trial.streams.some((s) => countFor(s.totalPps, trial.durationS) === 0)) {
      notes.push(`pktgen ran with count 0 until its time limit: rate x duration exceeds the ${PKTGEN_MAX_COUNT} frames pktgen reads whole`);
    }
    return notes;
  }
}

// Frames for a paced trial; 0 (until the time limit) where pktgen would cut the count.
function countFor(pps: number, durationS: number): number {
  const count = Math.max(1, Math.round(pps * durationS));
  return count > PKTGEN_MAX_COUNT ? 0 : count;
}

function withMicrosecondStamps(latency: TrialLatency): TrialLatency {
  return {
    ...latency,
    resolutionNs: Math.max(latency.resolutionNs, 1000),
    notes: { ...latency.notes, resolution: 'pktgen stamps frames in whole microseconds (struct pktgen_hdr tv_usec): figures are exact to 1 us at best' },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-3).join(' | ') || '(no stderr)';
}
