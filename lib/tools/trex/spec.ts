// The trial spec and command line of lib/agents/trex/kfn-trex-trial.py, built from a resolved
// trial. The script is told everything (ports, pg ids, rates, addresses), so the parser can
// read its document alone and a log line shows the exact trial that ran.
import { ConfigError, type ConfigIssue } from '../../errors.ts';
import { buildShellCommand } from '../../remote/quote.ts';
import type { StreamDirection } from '../../traffic/generator.ts';
import type { FrameSize } from '../../traffic/line-rate.ts';
import { splitLatencyRate, type ResolvedTrial } from '../../traffic/trial.ts';

export const TREX_DEFAULT_SYNC_PORT = 4501;
export const TREX_DEFAULT_ASYNC_PORT = 4500;

export interface TrexDirectionSpec {
  name: StreamDirection;
  tx_port: number;
  rx_port: number;
  load_pps: number;
  latency_pps: number;
  /** One pg id per load stream (three for IMIX). */
  load_pg_ids: number[];
  latency_pg_id: number | null;
  src_ip: string;
  dst_ip: string;
  src_mac?: string;
  dst_mac?: string;
  udp_src: number;
  udp_dst: number;
}

export interface TrexTrialSpec {
  server: string;
  sync_port: number;
  async_port: number;
  duration_s: number;
  frame_size: FrameSize;
  flows: number;
  /** How long TRex waits for frames in flight after TX stops. */
  rx_delay_ms: number;
  /** Count load frames per stream (pg id flow stats) or with the port counters. */
  count_load: 'flow-stats' | 'port-counters';
  directions: TrexDirectionSpec[];
}

export interface TrexSpecOptions {
  server?: string;
  syncPort?: number;
  asyncPort?: number;
  /** TRex port index per pod.yaml port name; default: the port's position in the node's port list. */
  portIndex?: Readonly<Record<string, number>>;
  /** The node's port names in pod.yaml order, for the default index. */
  nodePortNames: readonly string[];
  countLoad?: 'flow-stats' | 'port-counters';
  rxDelayMs?: number;
  /**
   * Destination MAC per direction: the DUT port the frames enter. Unset, TRex uses the
   * dest_mac of its trex_cfg.yaml, which is how TRex pods are normally wired.
   */
  dstMac?: Partial<Record<StreamDirection, string>>;
}

/** pg ids: 1-3 forward load, 4-6 reverse load, 10/11 latency; far from TRex's limits. */
const LOAD_PG_BASE: Record<StreamDirection, number> = { forward: 1, reverse: 4 };
const LATENCY_PG: Record<StreamDirection, number> = { forward: 10, reverse: 11 };
/** TRex's own example addresses (16.0.0.0/8 clients, 48.0.0.0/8 servers). */
const ADDRESSES: Record<StreamDirection, { src: string; dst: string }> = {
  forward: { src: '16.0.0.1', dst: '48.0.0.1' },
  reverse: { src: '48.0.0.1', dst: '16.0.0.1' },
};

// The spec for one trial; a port TRex has no index for is refused before anything runs.
export function buildTrexTrialSpec(trial: ResolvedTrial, options: TrexSpecOptions): TrexTrialSpec {
  const issues: ConfigIssue[] = [];
  const index = (name: string): number => {
    const explicit = options.portIndex?.[name];
    const i = explicit ?? options.nodePortNames.indexOf(name);
    if (!Number.isInteger(i) || i < 0 || i > 255) {
      issues.push({ path: `portIndex.${name}`, message: `expected the TRex port index (0-255) of port ${name}, found ${explicit ?? 'none'}` });
      return 0;
    }
    return i;
  };
  const directions = trial.streams.map((s): TrexDirectionSpec => {
    const { loadPps, latencyPps } = splitLatencyRate(s.totalPps, trial.latencyStreamPps);
    const loads = trial.frameSize === 'imix' ? 3 : 1;
    const spec: TrexDirectionSpec = {
      name: s.direction,
      tx_port: index(s.txPort.name),
      rx_port: index(s.rxPort.name),
      load_pps: loadPps,
      latency_pps: latencyPps,
      load_pg_ids: Array.from({ length: loads }, (_, i) => LOAD_PG_BASE[s.direction] + i),
      latency_pg_id: latencyPps > 0 ? LATENCY_PG[s.direction] : null,
      src_ip: ADDRESSES[s.direction].src,
      dst_ip: ADDRESSES[s.direction].dst,
      udp_src: 1024,
      udp_dst: 1024,
    };
    const dstMac = options.dstMac?.[s.direction];
    if (dstMac) spec.dst_mac = dstMac;
    return spec;
  });
  if (issues.length > 0) throw new ConfigError('TRex trial', issues);
  return {
    server: options.server ?? '127.0.0.1',
    sync_port: options.syncPort ?? TREX_DEFAULT_SYNC_PORT,
    async_port: options.asyncPort ?? TREX_DEFAULT_ASYNC_PORT,
    duration_s: trial.durationS,
    frame_size: trial.frameSize,
    flows: trial.flows,
    rx_delay_ms: options.rxDelayMs ?? 100,
    count_load: options.countLoad ?? 'flow-stats',
    directions,
  };
}

export interface TrexTrialCommand {
  argv: string[];
  escapedCommand: string;
}

// argv of the uploaded script; `apiPaths` are the TRex client directories added to sys.path.
export function buildTrexTrialCommand(a: { python?: string; scriptPath: string; spec: TrexTrialSpec; apiPaths?: readonly string[] }): TrexTrialCommand {
  const argv = [a.python ?? 'python3', a.scriptPath, '--spec', JSON.stringify(a.spec)];
  for (const p of a.apiPaths ?? []) argv.push('--api-path', p);
  return { argv, escapedCommand: buildShellCommand(argv) };
}
