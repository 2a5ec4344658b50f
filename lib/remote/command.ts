// How a RemoteCommand becomes the shell string a node runs: quoting, the `sh -c` wrapper
// for scripts, `sudo -n` for non-root users, and reading sudo's refusals.
import { buildShellCommand, quoteArg } from './quote.ts';
import type { SudoProblem } from './errors.ts';
import type { RemoteCommand } from './types.ts';

export interface BuiltCommand {
  /** The command as given: argv joined with spaces, or the script text. */
  command: string;
  /** The shell string the node runs. */
  escapedCommand: string;
  /** True when `sudo -n` was put in front. */
  sudo: boolean;
}

// Turn argv or a script into the exact shell string, adding sudo where the user needs it,
// and pinning it to `cpus` when given.
export function buildRemoteCommand(command: RemoteCommand, options: { user: string; privileged: boolean; cpus?: readonly number[] }): BuiltCommand {
  const sudo = options.privileged && options.user !== 'root';
  const prefix = sudo ? 'sudo -n ' : '';
  let built: BuiltCommand;
  if (isScript(command)) {
    if (command.script.trim() === '') throw new TypeError('cannot run an empty script');
    built = { command: command.script, escapedCommand: `${prefix}sh -c ${quoteArg(command.script)}`, sudo };
  } else {
    built = { command: command.join(' '), escapedCommand: prefix + buildShellCommand(command), sudo };
  }
  if (!options.cpus || options.cpus.length === 0) return built;
  // An argv may start with a shell builtin, which exec cannot run: give it a shell.
  const target = isScript(command) || sudo ? built.escapedCommand : `sh -c ${quoteArg(built.escapedCommand)}`;
  return { ...built, escapedCommand: buildPinnedPrefix(options.cpus) + target };
}

/**
 * The prefix that puts the shell sshd started, and everything it runs, on `cpus`: `exec`
 * turns the login shell itself into taskset (same pid, so the pid report still names the
 * group), which sets its own affinity and execs the command. No process is added. Without
 * util-linux taskset on the node, the command runs unpinned.
 */
export function buildPinnedPrefix(cpus: readonly number[]): string {
  for (const c of cpus) if (!Number.isInteger(c) || c < 0) throw new TypeError(`not a CPU number: ${c}`);
  return `p=; command -v taskset >/dev/null 2>&1 && p='taskset -c ${cpus.join(',')}'; exec $p `;
}

export function isScript(command: RemoteCommand): command is { script: string } {
  return !Array.isArray(command) && typeof (command as { script?: unknown }).script === 'string';
}

// The command string alone, with no sudo: what a wrapper execs (detached processes).
export function buildCommandString(command: RemoteCommand): string {
  return isScript(command) ? `sh -c ${quoteArg(command.script)}` : buildShellCommand(command);
}

// Why sudo refused, from its stderr (sudo 1.9.13 messages, see test fixtures), or undefined.
export function classifySudoFailure(stderr: string, exitCode: number | null): SudoProblem | undefined {
  if (exitCode === 1 && /^sudo: (a password is required|a terminal is required)/m.test(stderr)) {
    return 'password-required';
  }
  if (exitCode === 127 && /(^|: )sudo: (command )?not found$/m.test(stderr)) return 'sudo-missing';
  return undefined;
}

/**
 * The prefix that makes the remote shell report its pid (= its process group, since sshd
 * starts each session command with setsid), so that a timeout can kill the whole group,
 * sudo and children included. No `exec`: argv[0] may be a builtin such as `command`.
 */
export function buildPidReportPrefix(marker: string): string {
  return `echo ${marker}$$ >&2; `;
}

// Split the pid report off stderr; the rest is the command's own stderr, unchanged.
export function extractReportedPid(stderr: Buffer, marker: string): { pid: number | undefined; rest: Buffer } {
  const text = stderr.toString('latin1');
  const m = new RegExp(`(^|\\n)${marker}(\\d+)\\n`).exec(text);
  if (!m || m[2] === undefined) return { pid: undefined, rest: stderr };
  const start = m.index + (m[1] ?? '').length;
  const end = m.index + m[0].length;
  return { pid: Number(m[2]), rest: Buffer.concat([stderr.subarray(0, start), stderr.subarray(end)]) };
}

// Kill a process group: TERM, a short grace, then KILL. `kill -SIG -PGID` works in dash and bash.
export function buildKillGroupScript(pgid: number): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new TypeError(`refusing to kill process group ${pgid}`);
  return [
    `kill -TERM -${pgid} 2>/dev/null || exit 0`,
    `i=0; while kill -0 -${pgid} 2>/dev/null && [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL -${pgid} 2>/dev/null; exit 0`,
  ].join('\n');
}
