// Local commands for the lab, always as argv (never a shell string), with errors
// that quote the command and its stderr so a failed step explains itself.

import { execa } from 'execa';
import { LabError } from '../errors.ts';

export interface CommandResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  failed: boolean;
}

export interface RunOptions {
  /** Return a failed result instead of throwing, for probes and idempotent deletes. */
  allowFailure?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

// Every lab command goes through here so failures read the same way in every step.
export async function runCommand(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new LabError('runCommand needs at least a program name');
  const result = await execa(file, args, {
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 60_000,
    ...(options.env ? { env: options.env } : {}),
  });
  const out: CommandResult = {
    command: result.escapedCommand,
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    failed: result.failed,
  };
  if (out.failed && !options.allowFailure) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : `exited ${out.exitCode}`;
    const detail = (out.stderr || out.stdout || result.shortMessage || '').trim().split('\n').slice(-5).join('\n');
    throw new LabError(`\`${out.command}\` ${why}${detail ? `: ${detail}` : ''}`, { cause: result });
  }
  return out;
}

// The lab creates namespaces and veths, which only root can do.
export function assertRoot(): void {
  const uid = process.getuid?.();
  if (uid !== 0) {
    throw new LabError(`the lab pod must be built by root (it creates network namespaces, veths and sshds); running as uid ${uid ?? 'unknown'}`);
  }
}
