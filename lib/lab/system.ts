// Read-only probes and process control on this machine: what namespaces, links,
// processes and mounts exist. `up`, `down` and `status` all see the system through these.

import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './exec.ts';

interface IpLinkJson {
  ifname?: string;
  flags?: string[];
  ifalias?: string;
}

function parseJsonArray<T>(text: string): T[] {
  if (text.trim() === '') return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? (value as T[]) : [];
}

// Namespaces whose name starts with `<prefix>-`, the lab's own ones.
export async function listLabNamespaces(prefix: string): Promise<string[]> {
  const r = await runCommand(['ip', '-j', 'netns', 'list']);
  return parseJsonArray<{ name?: string }>(r.stdout)
    .map((n) => n.name ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

// Links in the root namespace whose name starts with the prefix (bridge, management ends).
export async function listLabRootLinks(prefix: string): Promise<string[]> {
  const r = await runCommand(['ip', '-j', 'link', 'show']);
  return parseJsonArray<IpLinkJson>(r.stdout)
    .map((l) => l.ifname ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

// The bridge's alias says which checkout owns resources carrying a prefix.
export async function readLinkAlias(ifname: string): Promise<string | undefined> {
  const r = await runCommand(['ip', '-j', 'link', 'show', 'dev', ifname], { allowFailure: true });
  if (r.failed) return undefined;
  return parseJsonArray<IpLinkJson>(r.stdout)[0]?.ifalias;
}

// Links inside one namespace with whether each is administratively up.
export async function listNamespaceLinks(namespace: string): Promise<Map<string, boolean>> {
  const r = await runCommand(['ip', '-n', namespace, '-j', 'link', 'show'], { allowFailure: true });
  const out = new Map<string, boolean>();
  if (r.failed) return out;
  for (const l of parseJsonArray<IpLinkJson>(r.stdout)) {
    if (l.ifname) out.set(l.ifname, (l.flags ?? []).includes('UP'));
  }
  return out;
}

// Every process living in the namespace, sshd sessions and tools started over SSH alike.
export async function listNamespacePids(namespace: string): Promise<number[]> {
  const r = await runCommand(['ip', 'netns', 'pids', namespace], { allowFailure: true });
  if (r.failed) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

// Catches lab processes whose namespace is already gone from /run/netns.
export async function findPidsByCmdline(fragment: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(fragment)) out.push(pid);
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

// A zombie counts as gone: pid 1 here may never reap daemons that were reparented to it.
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

// Lets a health check confirm that a recorded pid is still our sshd, not a reused pid.
export async function readProcessCmdline(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

// SIGTERM first so sshd and tools stop cleanly, SIGKILL for whatever ignores it.
export async function killProcesses(pids: number[], graceMs = 3000): Promise<number[]> {
  const targets = [...new Set(pids)].filter((p) => p > 1 && p !== process.pid);
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of targets) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  const alive = async () => (await Promise.all(targets.map(async (p) => ((await isProcessAlive(p)) ? p : 0)))).filter((p) => p);
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while ((await alive()).length && Date.now() < deadline) await sleep(50);
  if ((await alive()).length) {
    signal('SIGKILL');
    const hard = Date.now() + 2000;
    while ((await alive()).length && Date.now() < hard) await sleep(50);
  }
  return alive();
}

// Mount points left by the lab (a namespace bind mount under /run/netns, or the state dir).
export async function findLabMounts(fragments: string[]): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => fragments.some((f) => mountPoint.includes(f)));
}

// True when an SSH server answers on ip:port with its version banner.
export function probeSshBanner(ip: string, options: { port?: number; timeoutMs?: number } = {}): Promise<boolean> {
  const { port = 22, timeoutMs = 2000 } = options;
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    let data = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-2.0-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(data.startsWith('SSH-2.0-')));
  });
}
