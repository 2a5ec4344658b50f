// A throwaway OpenSSH server on 127.0.0.1 for the remote integration tests: keys generated
// with ssh-keygen in a temp dir, config in that dir, killed and removed by stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import type { PodNode } from '../../../lib/config/pod-model.ts';

export const SSHD = '/usr/sbin/sshd';

export interface KeyPair {
  path: string;
  publicLine: string;
  fingerprint: string;
}

export interface SshdHandle {
  port: number;
  pid: number;
  /** Everything sshd wrote to stderr (-e), for assertions on its log. */
  log(): string;
  stop(): Promise<void>;
}

export function canRunSshd(): boolean {
  return existsSync(SSHD) && process.getuid?.() === 0 && hasCommand('ssh-keygen');
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join('/tmp', `kfn-remote-it-${prefix}-`));
}

export function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' = 'ed25519'): KeyPair {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`]).toString().split(' ')[1] ?? '';
  return { path, publicLine: readFileSync(`${path}.pub`, 'utf8').trim(), fingerprint };
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether this fixture created /run/sshd (sshd's privilege-separation directory). */
let createdRunSshd = false;

export async function startSshd(options: { dir: string; hostKey: KeyPair | KeyPair[]; authorizedKeys: string; port?: number }): Promise<SshdHandle> {
  const hostKeys = Array.isArray(options.hostKey) ? options.hostKey : [options.hostKey];
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    createdRunSshd = true;
  }
  const port = options.port ?? (await findFreePort());
  const config = join(options.dir, `sshd_config.${port}`);
  writeFileSync(
    config,
    [
      ...hostKeys.map((k) => `HostKey ${k.path}`),
      `PidFile ${join(options.dir, `sshd.${port}.pid`)}`,
      `AuthorizedKeysFile ${options.authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config, '-p', String(port), '-o', 'ListenAddress=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, child, () => log);
  return {
    port,
    pid: child.pid ?? 0,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on port ${port}: ${log()}`);
}

/** Kill -9 every per-connection sshd below the listener (not their commands): every SSH connection drops at once. */
export function dropAllConnections(sshd: SshdHandle): number[] {
  const victims: number[] = [];
  const walk = (pid: number) => {
    let children: number[] = [];
    try {
      children = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
    } catch {
      children = [];
    }
    for (const c of children) {
      victims.push(c);
      walk(c);
    }
  };
  walk(sshd.pid);
  // Only the sshd processes: the commands they run are left to the harness, as after a real network loss.
  const isSshd = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd';
    } catch {
      return false;
    }
  };
  const sshds = victims.filter(isSshd);
  victims.length = 0;
  victims.push(...sshds);
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return victims;
}

/** Remove /run/sshd again if this fixture made it and no other sshd is running. */
export function removeRunSshdIfOurs(): void {
  if (!createdRunSshd) return;
  try {
    execFileSync('pgrep', ['-x', 'sshd'], { stdio: 'ignore' });
    return; // someone else's sshd needs it
  } catch {
    rmSync('/run/sshd', { recursive: true, force: true });
    createdRunSshd = false;
  }
}

export { isAlive } from '../../support/local-shell.ts';

export function buildNode(over: Partial<PodNode> & Pick<PodNode, 'sshPort'>): PodNode {
  return {
    name: 'it-node',
    role: 'host',
    declaredRole: 'Compute',
    ip: '127.0.0.1',
    user: 'root',
    rtCpus: [],
    housekeepingCpus: [],
    ports: [],
    tools: {},
    extra: {},
    ...over,
  };
}
