// The node-side scripts are plain POSIX sh: unit tests run them with the local /bin/sh (dash
// on Debian), as a node would, and look at the processes they leave.
import { execFileSync } from 'node:child_process';

// Run a script with /bin/sh from /, returning its stdout; throws on a non-zero exit.
export function runSh(script: string): Buffer {
  return execFileSync('/bin/sh', ['-c', script], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Whether a local pid is still alive (signal 0).
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
