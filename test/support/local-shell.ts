// Running generated shell scripts on this machine, for the tests of script builders.
import { execFileSync } from 'node:child_process';

// Runs a script with /bin/sh from /, stdin from `input`, and returns its stdout; throws on a non-zero exit.
export function runLocalSh(script: string, input = ''): string {
  return execFileSync('/bin/sh', ['-c', script], { cwd: '/', input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
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
