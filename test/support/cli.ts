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
