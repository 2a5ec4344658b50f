// Errors of the SSH layer. All are kind 'remote', so the CLI maps them to one exit code;
// the classes let suites tell "the command failed" from "the node is unreachable".
import { KfnError } from '../errors.ts';
import type { RemoteResult } from './types.ts';

/** How much of stderr/stdout a long message keeps (the tail, where tools print errors). */
const OUTPUT_TAIL_CHARS = 2000;
const COMMAND_CHARS = 200;

/** A remote command exited non-zero, was killed, or timed out. Fields are already redacted. */
export class RemoteCommandError extends KfnError implements RemoteResult {
  readonly node: string;
  readonly command: string;
  readonly escapedCommand: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
  readonly failed: boolean;
  readonly label: string | undefined;

  constructor(
    result: RemoteResult,
    options?: { label?: string; hint?: string; cause?: unknown; timeoutMs?: number },
  ) {
    const short = buildShortMessage(result, options?.label, options?.timeoutMs);
    const parts = [short];
    if (options?.hint) parts.push(options.hint);
    if (result.stderr.trim()) parts.push(`stderr:\n${tail(result.stderr)}`);
    else if (result.stdout.trim()) parts.push(`stdout:\n${tail(result.stdout)}`);
    super('remote', parts.join('\n'), { cause: options?.cause, shortMessage: short });
    this.node = result.node;
    this.command = result.command;
    this.escapedCommand = result.escapedCommand;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.durationMs = result.durationMs;
    this.timedOut = result.timedOut;
    this.failed = result.failed;
    this.label = options?.label;
  }
}

export type SudoProblem = 'password-required' | 'sudo-missing';

/** The node's user is not root and cannot run `sudo -n`: a pod setup problem, never a probe result. */
export class SudoError extends RemoteCommandError {
  readonly problem: SudoProblem;

  constructor(result: RemoteResult, problem: SudoProblem, user: string, options?: { label?: string }) {
    const hint =
      problem === 'password-required'
        ? `user ${user} on node ${result.node} needs passwordless sudo for the harness: add ` +
          `"${user} ALL=(root) NOPASSWD: ALL" to /etc/sudoers.d/ on the node, or connect as root`
        : `user ${user} on node ${result.node} is not root and sudo is not installed there: install sudo ` +
          `(with NOPASSWD for ${user}) or connect as root`;
    super(result, { ...options, hint });
    this.problem = problem;
  }
}

/** The node could not be reached, authenticated, or the connection was lost. */
export class SshConnectError extends KfnError {
  readonly node: string;
  /** True when trying again may help (network drop), false for auth or config problems. */
  readonly retryable: boolean;

  constructor(node: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('remote', message, { cause: options?.cause });
    this.node = node;
    this.retryable = options?.retryable ?? false;
  }
}

/** The host key offered by a node does not match its pin, or no pin exists under strict checking. */
export class HostKeyError extends SshConnectError {
  /** Fingerprints the pins expected; empty when no pin exists. */
  readonly expected: string[];
  readonly offered: string;

  constructor(node: string, message: string, fingerprints: { expected: string[]; offered: string }) {
    super(node, message, { retryable: false });
    this.expected = fingerprints.expected;
    this.offered = fingerprints.offered;
  }
}

// One line: label, node, what went wrong, and the command cut to a readable length.
function buildShortMessage(result: RemoteResult, label: string | undefined, timeoutMs: number | undefined): string {
  const what = label ?? result.command.split(' ')[0] ?? 'command';
  let reason: string;
  if (result.timedOut) reason = `timed out after ${formatSeconds(timeoutMs ?? result.durationMs)}`;
  else if (result.signal) reason = `was killed by ${result.signal}`;
  else if (result.exitCode !== null) reason = `exited ${result.exitCode}`;
  else reason = 'failed with no exit status (connection lost)';
  return `${what} on ${result.node} ${reason}: ${oneLine(result.escapedCommand, COMMAND_CHARS)}`;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Number(s.toFixed(1))} s`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\r?\n/g, '\\n');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function tail(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length > OUTPUT_TAIL_CHARS ? `…${trimmed.slice(-OUTPUT_TAIL_CHARS)}` : trimmed;
}
