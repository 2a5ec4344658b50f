// Command lines for kfn-softgen (lib/agents/kfn-softgen), built from typed trial parameters.
// Pure: no I/O. Values are checked here so that a bad plan fails before a node is touched,
// with the same limits the C program enforces (it would exit 2 otherwise).
import { ConfigError, type ConfigIssue } from '../../errors.ts';

/** gcc flags the agent must build with: no others, libc only. */
export const SOFTGEN_CFLAGS: readonly string[] = ['-Wall', '-Wextra', '-Werror', '-O2'];

export type FrameSpec = { kind: 'fixed'; sizeBytes: number } | { kind: 'imix' };
export type Direction = 'one-way' | 'bidirectional';

export interface TrialParams {
  /** Path of the built binary on the node. */
  binary: string;
  txIf: string;
  rxIf: string;
  frame: FrameSpec;
  /** Frames per second per stream; 0 = as fast as possible. */
  ratePps: number;
  durationS: number;
  direction: Direction;
  /** 1..65535; use a fresh id per trial so that late frames of an earlier trial are strays. */
  streamId: number;
  /** Stream id of rx-if -> tx-if when bidirectional; default streamId + 1. */
  reverseStreamId?: number;
  flows?: number;
  drainMs?: number;
  batch?: number;
  txMethod?: 'mmsg' | 'ring';
  dstMac?: string;
  reverseDstMac?: string;
  srcIp?: string;
  dstIp?: string;
  txCpu?: number;
  rxCpu?: number;
}

export interface RxParams {
  binary: string;
  iface: string;
  /** A softgen stream id, or 'pktgen' for kernel pktgen frames. */
  stream: number | 'pktgen';
  durationS: number;
  firstSeq?: number;
}

export interface TxParams {
  binary: string;
  iface: string;
  frame: FrameSpec;
  ratePps: number;
  /** At least one of durationS and count. */
  durationS?: number;
  count?: number;
  streamId: number;
  flows?: number;
  batch?: number;
  txMethod?: 'mmsg' | 'ring';
}

export interface SoftgenCommand {
  argv: string[];
  /** The argv as one shell-quoted string, for logs and reports. */
  command: string;
  /** How long the run should take, drain included; callers add their own margin. */
  expectedMs: number;
}

const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

// Builds the argv of one trial, so that a suite never assembles softgen flags by hand.
export function buildTrialCommand(p: TrialParams): SoftgenCommand {
  const issues: ConfigIssue[] = [];
  checkIf(issues, 'txIf', p.txIf);
  checkIf(issues, 'rxIf', p.rxIf);
  if (p.txIf === p.rxIf) issues.push({ path: 'rxIf', message: `must differ from txIf, found "${p.rxIf}" for both` });
  checkStreamId(issues, 'streamId', p.streamId);
  const reverseId = p.reverseStreamId ?? (p.streamId === 65535 ? 1 : p.streamId + 1);
  if (p.direction === 'bidirectional') {
    checkStreamId(issues, 'reverseStreamId', reverseId);
    if (reverseId === p.streamId) issues.push({ path: 'reverseStreamId', message: `must differ from streamId ${p.streamId}` });
  }
  const argv = [p.binary, 'trial', '--tx-if', p.txIf, '--rx-if', p.rxIf];
  argv.push(...trafficArgs(issues, p));
  checkNumber(issues, { path: 'durationS', value: p.durationS, min: 0, max: 86_400, exclusiveMin: true, integer: false });
  argv.push('--duration', String(p.durationS));
  if (p.direction === 'bidirectional') argv.push('--bidirectional', '--rev-stream-id', String(reverseId));
  const drainMs = p.drainMs ?? 200;
  if (p.drainMs !== undefined) {
    checkNumber(issues, { path: 'drainMs', value: p.drainMs, min: 0, max: 60_000 });
    argv.push('--drain-ms', String(p.drainMs));
  }
  for (const [key, flag] of [['dstMac', '--dst-mac'], ['reverseDstMac', '--rev-dst-mac']] as const) {
    const v = p[key];
    if (v === undefined) continue;
    if (!MAC.test(v)) issues.push({ path: key, message: `expected a MAC like 02:00:00:00:00:01, found "${v}"` });
    argv.push(flag, v);
  }
  for (const [key, flag] of [['srcIp', '--src-ip'], ['dstIp', '--dst-ip']] as const) {
    const v = p[key];
    if (v === undefined) continue;
    if (!IPV4.test(v)) issues.push({ path: key, message: `expected an IPv4 address, found "${v}"` });
    argv.push(flag, v);
  }
  for (const [key, flag] of [['txCpu', '--tx-cpu'], ['rxCpu', '--rx-cpu']] as const) {
    const v = p[key];
    if (v === undefined) continue;
    checkNumber(issues, { path: key, value: v, min: 0, max: 1023 });
    argv.push(flag, String(v));
  }
  throwIfAny('softgen trial parameters', issues);
  return finish(argv, p.durationS * 1000 + pacedGraceMs(p.ratePps, p.durationS) + drainMs);
}

// Builds a receive-only run, for kernel pktgen (or another softgen) as the sender.
export function buildRxCommand(p: RxParams): SoftgenCommand {
  const issues: ConfigIssue[] = [];
  checkIf(issues, 'iface', p.iface);
  checkNumber(issues, { path: 'durationS', value: p.durationS, min: 0, max: 86_400, exclusiveMin: true, integer: false });
  const argv = [p.binary, 'rx', '--if', p.iface];
  if (p.stream === 'pktgen') argv.push('--pktgen');
  else {
    checkStreamId(issues, 'stream', p.stream);
    argv.push('--stream-id', String(p.stream));
  }
  argv.push('--duration', String(p.durationS));
  if (p.firstSeq !== undefined) {
    checkNumber(issues, { path: 'firstSeq', value: p.firstSeq, min: 0, max: 2 ** 32 - 1 });
    argv.push('--first-seq', String(p.firstSeq));
  }
  throwIfAny('softgen rx parameters', issues);
  return finish(argv, p.durationS * 1000);
}

// Builds a send-only run: raw generator speed, nothing received.
export function buildTxCommand(p: TxParams): SoftgenCommand {
  const issues: ConfigIssue[] = [];
  checkIf(issues, 'iface', p.iface);
  checkStreamId(issues, 'streamId', p.streamId);
  const argv = [p.binary, 'tx', '--if', p.iface, ...trafficArgs(issues, p)];
  if (p.durationS === undefined && p.count === undefined) issues.push({ path: 'durationS', message: 'durationS or count is required' });
  if (p.durationS !== undefined) {
    checkNumber(issues, { path: 'durationS', value: p.durationS, min: 0, max: 86_400, exclusiveMin: true, integer: false });
    argv.push('--duration', String(p.durationS));
  }
  if (p.count !== undefined) {
    checkNumber(issues, { path: 'count', value: p.count, min: 1, max: 1e12 });
    argv.push('--count', String(p.count));
  }
  throwIfAny('softgen tx parameters', issues);
  const byCount = p.count !== undefined && p.ratePps > 0 ? (p.count / p.ratePps) * 1000 : Infinity;
  const byDuration = p.durationS === undefined ? Infinity : p.durationS * 1000 + pacedGraceMs(p.ratePps, p.durationS);
  return finish(argv, Math.min(byDuration, byCount));
}

// The exact compile line, so that every node builds the agent the same way.
export function buildCompileArgv(options: { source: string; output: string; compiler?: string }): string[] {
  return [options.compiler ?? 'gcc', ...SOFTGEN_CFLAGS, '-o', options.output, options.source];
}

// Shell-quotes one word (POSIX single quotes) for log lines; argv stays the executed form.
export function quoteShellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

// A paced sender that is late at the end may overrun --duration by this much (kfn-softgen.c).
function pacedGraceMs(ratePps: number, durationS: number): number {
  return ratePps > 0 ? Math.min(1000, durationS * 100 + 50) : 0;
}

function trafficArgs(issues: ConfigIssue[], p: TrialParams | TxParams): string[] {
  const args: string[] = [];
  if (p.frame.kind === 'imix') args.push('--imix');
  else {
    checkNumber(issues, { path: 'frame.sizeBytes', value: p.frame.sizeBytes, min: 64, max: 1518 });
    args.push('--size', String(p.frame.sizeBytes));
  }
  checkNumber(issues, { path: 'ratePps', value: p.ratePps, min: 0, max: 100_000_000 });
  args.push('--rate', String(p.ratePps));
  args.push('--stream-id', String(p.streamId));
  if (p.flows !== undefined) {
    checkNumber(issues, { path: 'flows', value: p.flows, min: 1, max: 64_512 });
    args.push('--flows', String(p.flows));
  }
  if (p.batch !== undefined) {
    checkNumber(issues, { path: 'batch', value: p.batch, min: 1, max: 256 });
    args.push('--batch', String(p.batch));
  }
  if (p.txMethod !== undefined) args.push('--tx-method', p.txMethod);
  return args;
}

function checkIf(issues: ConfigIssue[], path: string, value: string): void {
  if (!IFNAME.test(value)) issues.push({ path, message: `expected an interface name of 1..15 characters, found "${value}"` });
}

function checkStreamId(issues: ConfigIssue[], path: string, value: number): void {
  checkNumber(issues, { path, value, min: 1, max: 65_535 });
}

interface NumberCheck {
  path: string;
  value: number;
  min: number;
  max: number;
  exclusiveMin?: boolean;
  /** Default true. */
  integer?: boolean;
}

function checkNumber(issues: ConfigIssue[], { path, value, min, max, exclusiveMin, integer = true }: NumberCheck): void {
  const lowOk = exclusiveMin ? value > min : value >= min;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || !lowOk || value > max) {
    const range = `${exclusiveMin ? '(' : '['}${min}, ${max}]`;
    issues.push({ path, message: `expected ${integer ? 'an integer' : 'a number'} in ${range}, found ${value}` });
  }
}

function throwIfAny(what: string, issues: ConfigIssue[]): void {
  if (issues.length > 0) throw new ConfigError(what, issues);
}

function finish(argv: string[], expectedMs: number): SoftgenCommand {
  return { argv, command: argv.map(quoteShellWord).join(' '), expectedMs: Math.ceil(expectedMs) };
}
