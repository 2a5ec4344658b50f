// Runs a shell command the harness would send to a node, here, where it can do no harm: as
// nobody, in new pid, network and mount namespaces, with a time limit. An injection that gets
// through the quoting still runs, and its canary file shows it. Needs root (unshare, setpriv).
import { execa } from 'execa';

export function canSandbox(): boolean {
  return process.getuid?.() === 0;
}

// Never throws: a command that fails, or is cut at the limit, is fine; only what it created counts.
// Returns its stdout.
export async function runSandboxed(command: string, cwd: string, limitS = 3): Promise<string> {
  const r = await execa(
    'timeout',
    ['-s', 'KILL', String(limitS), 'unshare', '--pid', '--fork', '--net', '--mount-proc', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', command],
    { cwd, reject: false, stdin: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: cwd }, extendEnv: false },
  );
  return String(r.stdout);
}
