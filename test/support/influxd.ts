// A private InfluxDB 1.x (Debian 12 package `influxdb`, 1.6) for integration tests: its own
// temp directory for meta, data and WAL, HTTP and RPC bound to 127.0.0.1 on free ports,
// reporting and self-monitoring off. Only the process started here is ever stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateInfluxd {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  dir: string;
  /**
   * Runs an InfluxQL statement through /query (POST, so CREATE works too) and returns the JSON
   * answer, times in epoch ms: ns would not survive JSON numbers (above 2^53).
   */
  query(q: string, db?: string): Promise<InfluxQueryAnswer>;
  stop(): Promise<void>;
}

export interface InfluxQueryAnswer {
  results: { statement_id: number; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[];
  error?: string;
}

const CANDIDATES = ['/usr/bin/influxd', '/usr/sbin/influxd'];

export function findInfluxd(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the loopback probe');
  return address.port;
}

function buildConfig(dir: string, httpPort: number, rpcPort: number): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${join(dir, 'meta')}"`,
    '  logging-enabled = false',
    '[data]',
    `  dir = "${join(dir, 'data')}"`,
    `  wal-dir = "${join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[subscriber]',
    '  enabled = false',
    '[continuous_queries]',
    '  enabled = false',
    '[http]',
    '  enabled = true',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '  pprof-enabled = false',
    '  unix-socket-enabled = false',
    '[logging]',
    '  level = "warn"',
    '',
  ].join('\n');
}

export async function startPrivateInfluxd(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<PrivateInfluxd> {
  const binary = options.binary ?? findInfluxd();
  if (!binary) throw new Error('influxd not found: install the Debian package influxdb');
  const dir = await mkdtemp(join(tmpdir(), 'kfn-influxd-'));
  const httpPort = await freeLoopbackPort();
  const rpcPort = await freeLoopbackPort();
  const configPath = join(dir, 'influxdb.conf');
  await writeFile(configPath, buildConfig(dir, httpPort, rpcPort));
  const logPath = join(dir, 'influxd.log');
  const logFd = openSync(logPath, 'a');
  const child: ChildProcess = spawn(binary, ['run', '-config', configPath], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = { code, signal }), resolve())));
  const baseUrl = `http://127.0.0.1:${httpPort}`;

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), delay(10_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exit;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (true) {
    if (exited) {
      const log = readFileSync(logPath, 'utf8').slice(-2000);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`influxd exited during start (${exited.code ?? exited.signal}):\n${log}`);
    }
    const ok = await fetch(`${baseUrl}/ping`).then(
      (r) => r.status === 204,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`influxd did not answer /ping on ${baseUrl} within ${options.startTimeoutMs ?? 20_000} ms`);
    }
    await delay(100);
  }

  const query = async (q: string, db?: string): Promise<InfluxQueryAnswer> => {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const response = await fetch(`${baseUrl}/query`, { method: 'POST', body: params });
    return (await response.json()) as InfluxQueryAnswer;
  };
  return { baseUrl, dir, query, stop };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
