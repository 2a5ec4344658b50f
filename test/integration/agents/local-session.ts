// A NodeSession on this machine: commands run under sh, uploads are file writes. It lets the
// agent provisioning run its real shell scripts with the real gcc, with no SSH in between.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { buildShellCommand } from '../../../lib/remote/quote.ts';
import type { ExecOptions, NodeSession, RemoteCommand, RemoteResult } from '../../../lib/remote/types.ts';

export class LocalSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir: string;
  /** Every command run, as the shell saw it. */
  readonly commands: string[] = [];
  uploads = 0;

  readonly #env: NodeJS.ProcessEnv | undefined;

  /** env replaces the environment of every command, e.g. a PATH without gcc. */
  constructor(runDir: string, env?: NodeJS.ProcessEnv) {
    this.#env = env;
    this.node = { name: 'local', role: 'other', declaredRole: 'other', ip: '127.0.0.1', user: 'root', sshPort: 22, rtCpus: [], housekeepingCpus: [], ports: [], tools: {}, extra: {} };
    this.runDir = runDir;
  }

  exec(command: RemoteCommand, options: ExecOptions = {}): Promise<RemoteResult> {
    const text = Array.isArray(command) ? buildShellCommand(command) : (command as { script: string }).script;
    this.commands.push(text);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', text], { stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60_000, ...(this.#env ? { env: this.#env } : {}) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (exitCode, signal) => {
        const failed = exitCode !== 0;
        const result = { node: 'local', command: text, escapedCommand: text, exitCode, signal, stdout, stderr, durationMs: Date.now() - started, timedOut: false, failed };
        if (failed && options.reject !== false) reject(new Error(`local: ${text} exited ${exitCode}: ${stderr}`));
        else resolve(result);
      });
    });
  }

  async upload(content: Buffer | string, remotePath: string): Promise<void> {
    // Like the SSH upload: the folder must exist already (the provisioning probe makes it).
    this.uploads++;
    writeFileSync(remotePath, content);
  }

  startDetached(): never {
    throw new Error('LocalSession: not used by agent provisioning');
  }
  isRunning(): never {
    throw new Error('LocalSession: not used by agent provisioning');
  }
  waitDetached(): never {
    throw new Error('LocalSession: not used by agent provisioning');
  }
  stopDetached(): never {
    throw new Error('LocalSession: not used by agent provisioning');
  }
  download(): never {
    throw new Error('LocalSession: not used by agent provisioning');
  }
  async cleanup(): Promise<void> {}
  async close(): Promise<void> {}
}
