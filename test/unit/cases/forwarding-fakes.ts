// Shared by the forwarding unit tests: the lab pod as `lab up` writes it, a fake CaseContext,
// and a simulated tgen node whose kfn-softgen documents come from a device model (a capacity
// per direction above which frames are lost), so the whole procedure runs without a node.
import { load } from 'js-yaml';
import type { Pod, PodNode } from '../../../lib/config/pod-model.ts';
import { buildPod } from '../../../lib/config/pod.ts';
import { buildThresholdProfile, type Limit } from '../../../lib/config/thresholds.ts';
import type { CaseContext } from '../../../lib/harness/case-context.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import { createProgress } from '../../../lib/harness/progress.ts';
import { buildPodYaml } from '../../../lib/lab/files.ts';
import { buildLabPlan } from '../../../lib/lab/plan.ts';
import type { NodeSession } from '../../../lib/remote/types.ts';
import { FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';

export function buildLabPod(): Pod {
  const plan = buildLabPlan({ realRoot: '/work/checkout', octet: 7, cpuCount: 2 });
  return buildPod(load(buildPodYaml(plan)), { file: '/work/checkout/.lab/pod.yaml', env: {} });
}

export interface FakeForwardingContext extends CaseContext {
  raws: Map<string, string>;
  details: Record<string, unknown>;
  tools: Array<[string, string, string]>;
  logs: string[];
}

export function buildForwardingContext(o: { pod: Pod; sessions: Record<string, NodeSession>; limits?: Limit[]; dryRun?: boolean; durationOverrideS?: number; args?: Record<string, unknown> }): FakeForwardingContext {
  const raws = new Map<string, string>();
  const details: Record<string, unknown> = {};
  const tools: Array<[string, string, string]> = [];
  const logs: string[] = [];
  return {
    caseName: 'baremetal_forwarding',
    tier: 'forwarding',
    classname: 'kvmfornfv.forwarding.baremetal_forwarding',
    runId: '20261125-120000-abcd',
    pod: o.pod,
    args: o.args ?? {},
    durationOverrideS: o.durationOverrideS,
    thresholdProfile: 'test',
    thresholds: buildThresholdProfile({ cases: {} }, { file: 'test.yaml' }),
    dryRun: o.dryRun ?? false,
    signal: new AbortController().signal,
    rawDir: '/tmp/unused',
    cleanup: new CleanupStack({ log: () => {} }),
    progress: createProgress({ quiet: true }),
    nodes: (role) => o.pod.nodes.filter((n) => n.role === role),
    session: async (node: PodNode) => {
      const s = o.sessions[node.name];
      if (!s) throw new Error(`no fake session for ${node.name}`);
      return s;
    },
    limitsFor: () => o.limits ?? [],
    log: (line) => void logs.push(line),
    async writeRaw(path, content) {
      raws.set(path, content.toString());
      return path;
    },
    recordDetails: (key, value) => void (details[key] = value),
    recordWindow: () => {},
    recordSystemInfo: () => {},
    recordToolVersion: (node, tool, version) => void tools.push([node, tool, version]),
    emulation: () => undefined,
    accelerator: () => undefined,
    phase: (_phase, fn) => fn(),
    launch: () => undefined,
    annotate: () => {},
    raws,
    details,
    tools,
    logs,
  };
}

export interface DeviceModel {
  /** Frames per second per direction the generator can send at most. */
  generatorMaxPps: number;
  /** Frames per second per direction the device forwards without loss. */
  capacityPps: number;
  /** One-way latency of every frame through the device, ns. */
  latencyNs: number;
  /** The nth trial at a rate (per direction, loopback excluded) loses 1 % anyway: e.g. a verification that fails. */
  flaky?: Array<{ ratePps: number; nth: number }>;
}

interface Stream {
  id: number;
  txIf: string;
  rxIf: string;
  requested: number;
  tx: number;
  rx: number;
  durationS: number;
  latencyNs: number;
}

// A kfn-softgen 1.0.0 trial document that passes the parser's consistency checks.
export function buildSoftgenDocument(a: { frameSize: number | null; imix: boolean; streams: Stream[] }): string {
  const streams = a.streams.map((s) => ({
    stream_id: s.id,
    header: 'softgen',
    tx_if: s.txIf,
    rx_if: s.rxIf,
    tx_frames: s.tx,
    tx_retries: 0,
    first_seq: 1,
    last_seq: s.tx,
    requested_pps: s.requested,
    achieved_tx_pps: s.tx / s.durationS,
    duration_s: s.durationS,
    rx_frames: s.rx,
    lost: s.tx - s.rx,
    loss_ratio: s.tx === 0 ? null : (s.tx - s.rx) / s.tx,
    dropped: s.tx - s.rx,
    duplicate: 0,
    out_of_order: 0,
    latency_ns:
      s.rx === 0
        ? { samples: 0, negative: 0, no_timestamp: 0, overflow: 0, timestamp_resolution_ns: 1, min: null, avg: null, max: null, jitter: null, p50: null, p99: null, p999: null, p9999: null, histogram: [] }
        : { samples: s.rx, negative: 0, no_timestamp: 0, overflow: 0, timestamp_resolution_ns: 1, min: s.latencyNs, avg: s.latencyNs, max: s.latencyNs, jitter: s.rx > 1 ? 0 : null, p50: s.latencyNs, p99: s.latencyNs, p999: s.latencyNs, p9999: s.latencyNs, histogram: [[s.latencyNs, s.latencyNs, s.rx]] },
  }));
  const strays = { not_ipv4_udp: 0, no_magic: 0, unknown_stream: 0, malformed: 0 };
  return JSON.stringify({
    tool: 'kfn-softgen',
    version: '1.0.0',
    mode: 'trial',
    tx_method: 'sendmmsg',
    qdisc_bypass: true,
    batch: 64,
    clock: 'CLOCK_REALTIME',
    rx_timestamp: 'kernel-software',
    frame_size: a.frameSize,
    imix: a.imix,
    flows: 1,
    drain_ms: 200,
    interrupted: false,
    streams,
    rx_interfaces: [...new Set(a.streams.map((s) => s.rxIf))].map((i) => ({ if: i, ring_packets: 0, ring_drops: 0, strays })),
    strays: { ...strays, total: 0 },
  });
}

const flag = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];

// The tgen node: kfn-softgen is already built (cache hit), and every trial is answered by the model.
export function buildSimulatedTgen(node: PodNode, model: DeviceModel, extra: FakeHandlers = {}): FakeNodeSession {
  const seen = new Map<number, number>();
  const session: FakeNodeSession = new FakeNodeSession(node, {
    exec: (command, options) => {
      if (command.includes('kfn-agent-cache')) return { stdout: 'kfn-agent-cache hit\t/cache\n' };
      if (command.endsWith('--version')) return { stdout: 'kfn-softgen 1.0.0\n' };
      return extra.exec?.(command, options);
    },
    outcome: (name) => {
      const start = [...session.callsOf('start')].reverse().find((c) => c.name === name)!;
      const argv = start.command.split(' ');
      const requested = Number(flag(argv, '--rate'));
      const durationS = Number(flag(argv, '--duration'));
      const loopback = flag(argv, '--tx-if') === 'c0';
      const sent = requested === 0 ? model.generatorMaxPps : Math.min(requested, model.generatorMaxPps);
      const tx = Math.round(sent * durationS);
      if (!loopback) seen.set(requested, (seen.get(requested) ?? 0) + 1);
      const lossy = !loopback && (model.flaky ?? []).some((f) => f.ratePps === requested && f.nth === seen.get(requested));
      const forwarded = loopback ? tx : Math.min(tx, Math.round(model.capacityPps * durationS)) - (lossy ? Math.ceil(tx / 100) : 0);
      const id = Number(flag(argv, '--stream-id'));
      const [txIf, rxIf] = [flag(argv, '--tx-if')!, flag(argv, '--rx-if')!];
      const stream = (sid: number, a: string, b: string): Stream => ({ id: sid, txIf: a, rxIf: b, requested, tx, rx: forwarded, durationS, latencyNs: loopback ? 2_000 : model.latencyNs });
      const streams = [stream(id, txIf, rxIf)];
      if (argv.includes('--bidirectional')) streams.push(stream(Number(flag(argv, '--rev-stream-id')), rxIf, txIf));
      const size = flag(argv, '--size');
      return { stdout: buildSoftgenDocument({ frameSize: size === undefined ? null : Number(size), imix: argv.includes('--imix'), streams }), exitCode: 0 };
    },
  });
  return session;
}
