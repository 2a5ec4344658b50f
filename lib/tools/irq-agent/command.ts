// Command lines for the device-interrupt agents (lib/agents/kfn-irqgen, kfn-irqrecv), built
// from typed parameters so that a suite never spells an agent flag by hand.
import { ConfigError, type ConfigIssue } from '../../errors.ts';
import { buildShellCommand, quoteArg } from '../../remote/quote.ts';

/** Whether handler time minus the payload's send time means anything. */
export type ClockDomain = 'same-host' | 'ptp' | 'unsynchronised';

export interface AgentCommand {
  argv: string[];
  /** The argv as one POSIX shell string, for logs and for `sh -c`. */
  escapedCommand: string;
}

export interface IrqGenParams {
  /** Path of the built kfn-irqgen on the node. */
  binary: string;
  dest: string;
  port: number;
  /** Default 1 ms, the test plan's period. */
  periodNs?: number;
  durationS?: number;
  /** Sequence numbers to assign, withheld ones included; the receiver's `expect`. */
  count?: number;
  streamId?: number;
  clock?: 'realtime' | 'monotonic';
  /** Interface to send through (SO_BINDTODEVICE). */
  iface?: string;
  cpu?: number;
  priority?: number;
  /** Seqs to withhold: the missed-interrupt self-check. */
  skipSeqs?: readonly number[];
  /** Default true: announce the last seq so the receiver sees misses at the tail. */
  endFrames?: boolean;
}

export interface IrqRecvParams {
  binary: string;
  /** 0 lets the kernel choose; the ready line then names the port. */
  port: number;
  bind?: string;
  streamId?: number;
  clockDomain: ClockDomain;
  /** Receiver clock minus sender clock, e.g. from phc2sys; not with `unsynchronised`. */
  clockOffsetNs?: number;
  /** Wire-to-handler above this counts as late; default: the period the frames carry. */
  lateNs?: number;
  /** The generator's count: lets the receiver count frames lost at the end. */
  expect?: number;
  durationS?: number;
  /** Stop 100 ms after the generator's end frame instead of waiting for a signal. */
  exitOnEnd?: boolean;
  cpu?: number;
  priority?: number;
  hwTimestampsIface?: string;
}

const MAX_DURATION_S = 86_400;

function checkInt(issues: ConfigIssue[], path: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    issues.push({ path, message: `expected an integer in [${min}, ${max}], found ${value}` });
  }
}

function checkDuration(issues: ConfigIssue[], value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_DURATION_S || formatSeconds(value) === '0') {
    issues.push({ path: 'durationS', message: `expected seconds in (0, ${MAX_DURATION_S}] (ns resolution), found ${value}` });
  }
}

function checkIface(issues: ConfigIssue[], path: string, value: string | undefined): void {
  // IFNAMSIZ is 16 with the NUL; the agents refuse longer names anyway.
  if (value !== undefined && !/^[^\s/]{1,15}$/.test(value)) {
    issues.push({ path, message: `expected an interface name of 1 to 15 characters, found ${JSON.stringify(value)}` });
  }
}

function checkRt(issues: ConfigIssue[], p: { cpu?: number; priority?: number; binary: string }): void {
  checkInt(issues, 'cpu', p.cpu, 0, 1023);
  checkInt(issues, 'priority', p.priority, 1, 99);
  if (p.binary.trim() === '') issues.push({ path: 'binary', message: 'expected the path of the built agent, found an empty string' });
}

// The agents take decimal seconds; never exponent notation, at most 9 decimals.
function formatSeconds(s: number): string {
  return s.toFixed(9).replace(/\.?0+$/, '');
}

function finish(source: string, issues: ConfigIssue[], argv: string[]): AgentCommand {
  if (issues.length > 0) throw new ConfigError(source, issues);
  return { argv, escapedCommand: buildShellCommand(argv) };
}

function pushRt(argv: string[], p: { cpu?: number; priority?: number }): void {
  if (p.cpu !== undefined) argv.push('--cpu', String(p.cpu));
  if (p.priority !== undefined) argv.push('--priority', String(p.priority));
}

// The generator's argv; every bad parameter is reported at once, before anything runs.
export function buildIrqGenCommand(p: IrqGenParams): AgentCommand {
  const issues: ConfigIssue[] = [];
  checkRt(issues, p);
  if (p.dest.trim() === '') issues.push({ path: 'dest', message: 'expected a numeric IP address, found an empty string' });
  checkInt(issues, 'port', p.port, 1, 65_535);
  checkInt(issues, 'periodNs', p.periodNs, 1_000, 10_000_000_000);
  checkDuration(issues, p.durationS);
  checkInt(issues, 'count', p.count, 1, Number.MAX_SAFE_INTEGER);
  checkInt(issues, 'streamId', p.streamId, 0, 0xffff_ffff);
  checkIface(issues, 'iface', p.iface);
  const skips = [...(p.skipSeqs ?? [])];
  skips.forEach((s, i) => checkInt(issues, `skipSeqs[${i}]`, s, 1, Number.MAX_SAFE_INTEGER));
  if (skips.length > 1024) issues.push({ path: 'skipSeqs', message: `expected at most 1024 seqs, found ${skips.length}` });

  const argv = [p.binary, '--dest', p.dest, '--port', String(p.port), '--period-ns', String(p.periodNs ?? 1_000_000)];
  if (p.durationS !== undefined) argv.push('--duration', formatSeconds(p.durationS));
  if (p.count !== undefined) argv.push('--count', String(p.count));
  if (p.streamId !== undefined) argv.push('--stream-id', String(p.streamId));
  if (p.clock !== undefined) argv.push('--clock', p.clock);
  if (p.iface !== undefined) argv.push('--iface', p.iface);
  if (skips.length > 0) argv.push('--skip-seq', [...new Set(skips)].sort((a, b) => a - b).join(','));
  if (p.endFrames === false) argv.push('--no-end-frames');
  pushRt(argv, p);
  return finish('kfn-irqgen parameters', issues, argv);
}

// The receiver's argv; an offset with `unsynchronised` is refused, as the agent would refuse it.
export function buildIrqRecvCommand(p: IrqRecvParams): AgentCommand {
  const issues: ConfigIssue[] = [];
  checkRt(issues, p);
  checkInt(issues, 'port', p.port, 0, 65_535);
  checkInt(issues, 'streamId', p.streamId, 0, 0xffff_ffff);
  checkInt(issues, 'clockOffsetNs', p.clockOffsetNs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  checkInt(issues, 'lateNs', p.lateNs, 1, Number.MAX_SAFE_INTEGER);
  checkInt(issues, 'expect', p.expect, 1, Number.MAX_SAFE_INTEGER);
  checkDuration(issues, p.durationS);
  checkIface(issues, 'hwTimestampsIface', p.hwTimestampsIface);
  if (!['same-host', 'ptp', 'unsynchronised'].includes(p.clockDomain)) {
    issues.push({ path: 'clockDomain', message: `expected same-host, ptp or unsynchronised, found ${String(p.clockDomain)}` });
  }
  if (p.clockDomain === 'unsynchronised' && p.clockOffsetNs !== undefined) {
    issues.push({ path: 'clockOffsetNs', message: 'expected no offset with clockDomain unsynchronised, found one' });
  }

  const argv = [p.binary, '--port', String(p.port), '--clock-domain', p.clockDomain];
  if (p.bind !== undefined) argv.push('--bind', p.bind);
  if (p.streamId !== undefined) argv.push('--stream-id', String(p.streamId));
  if (p.clockOffsetNs !== undefined) argv.push('--clock-offset-ns', String(p.clockOffsetNs));
  if (p.lateNs !== undefined) argv.push('--late-ns', String(p.lateNs));
  if (p.expect !== undefined) argv.push('--expect', String(p.expect));
  if (p.durationS !== undefined) argv.push('--duration', formatSeconds(p.durationS));
  if (p.exitOnEnd) argv.push('--exit-on-end');
  if (p.hwTimestampsIface !== undefined) argv.push('--hw-timestamps', p.hwTimestampsIface);
  pushRt(argv, p);
  return finish('kfn-irqrecv parameters', issues, argv);
}

/** The receiver's ready line on stderr: `kfn-irqrecv: ready 0.0.0.0:40000`. */
const READY_LINE = /^kfn-irqrecv: ready (\S+):(\d+)$/m;

// The harness waits for this line before starting the generator; it also gives the port when 0 was asked.
export function parseIrqRecvReadyLine(stderr: string): { address: string; port: number } | undefined {
  const m = READY_LINE.exec(stderr);
  if (!m?.[1] || !m[2]) return undefined;
  return { address: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

/** Stream id per run: frames of an older run that still arrive are counted as stray, never measured. */
export function buildStreamId(runId: string): number {
  let h = 0x811c9dc5;
  for (const ch of runId) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h === 0 ? 1 : h;
}

// A node-side wait for the ready line, one round trip: it ends early if the receiver exits.
export function buildReadyWaitScript(paths: { stderrPath: string; exitCodePath: string }, timeoutS = 15): string {
  const err = quoteArg(paths.stderrPath);
  return [
    `i=0; while [ $i -lt ${timeoutS * 10} ]; do`,
    `  grep -q '^kfn-irqrecv: ready ' ${err} 2>/dev/null && { cat ${err}; exit 0; }`,
    `  [ -e ${quoteArg(paths.exitCodePath)} ] && { cat ${err} 2>/dev/null; exit 3; }`,
    '  sleep 0.1; i=$((i+1))',
    `done; cat ${err} 2>/dev/null; exit 2`,
  ].join('\n');
}
