// The node-side scripts are plain POSIX sh: unit tests run them with the local /bin/sh (dash
// on Debian), as a node would, and look at the processes they leave.
import { execFileSync } from 'node:child_process';

// Runs a script with /bin/sh from /, stdin from `input`, and returns its stdout; throws on a non-zero exit.
export function runLocalSh(script: string, input = ''): string {
  return runLocalShRaw(script, input).toString();
}

// The same, stdout as bytes: for scripts whose output carries binary framing.
export function runLocalShRaw(script: string, input = ''): Buffer {
  return execFileSync('/bin/sh', ['-c', script], { cwd: '/', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

// Whether a local process exists (signal 0).
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
