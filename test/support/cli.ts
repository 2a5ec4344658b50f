// Runs the real CLI the way Jenkins does, as a child process on Node 24, and returns
// its exit code and output for the tests to read.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/kvmfornfv-test.js', import.meta.url));

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCliProcess(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  const result = await execa(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    reject: false,
    env: options.env ?? {},
    extendEnv: true,
    timeout: options.timeoutMs ?? 60_000,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface RunningCli {
  /** Resolves when the output (stdout and stderr) contains `text`; rejects after timeoutMs. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  readonly done: Promise<CliRun & { output: string }>;
}

// The CLI as a child process whose output can be watched while it runs.
export function startCliProcess(args: string[], options: { timeoutMs?: number } = {}): RunningCli {
  const child = execa(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, reject: false, all: true, timeout: options.timeoutMs ?? 600_000, stdin: 'ignore' });
  let seen = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.all?.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const w of waiters.filter((x) => seen.includes(x.text))) w.resolve();
  });
  return {
    waitFor: (text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (seen.includes(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`never saw "${text}" within ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    done: child.then((r) => ({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), output: seen })),
  };
}
