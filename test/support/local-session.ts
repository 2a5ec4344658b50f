// A NodeSession that runs commands on this machine with execa (scripts through `sh -c`),
// so that code written against NodeSession (the pod lock, agent provisioning) is tested
// against a real shell and a real gcc without an sshd. exec and upload are real; the
// detached-process part of the interface throws.
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { PodNode } from '../../lib/config/pod-model.ts';
import { buildShellCommand } from '../../lib/remote/quote.ts';
import { RemoteCommandError } from '../../lib/remote/errors.ts';
import type { ExecOptions, NodeSession, RemoteCommand, RemoteResult } from '../../lib/remote/types.ts';

export function buildLocalNode(name: string, role: PodNode['role'] = 'host'): PodNode {
  return { name, role, declaredRole: role, ip: '127.0.0.1', user: 'root', sshPort: 22, rtCpus: [], housekeepingCpus: [0], ports: [], tools: {}, extra: {} };
}

export class LocalSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir: string;
  /** Every command this session ran, as the shell would see it. */
  readonly commands: string[] = [];
  /** The options of each command, in the same order. */
  readonly options: ExecOptions[] = [];
  uploads = 0;
  readonly #env: NodeJS.ProcessEnv | undefined;

  /** env replaces the environment of every command, e.g. a PATH without gcc. */
  constructor(node: PodNode, runDir = '/tmp/kfn-local', options: { env?: NodeJS.ProcessEnv } = {}) {
    this.node = node;
    this.runDir = runDir;
    this.#env = options.env;
  }

  async exec(command: RemoteCommand, options: ExecOptions = {}): Promise<RemoteResult> {
    const isScript = !Array.isArray(command);
    const argv: string[] = isScript ? ['sh', '-c', (command as { script: string }).script] : [...(command as readonly string[])];
    const [file, ...args] = argv;
    if (file === undefined) throw new TypeError('empty argv');
    const escapedCommand = buildShellCommand(argv);
    this.commands.push(escapedCommand);
    this.options.push(options);
    const started = Date.now();
    const r = await execa(file, args, {
      reject: false,
      timeout: options.timeoutMs ?? 60_000,
      ...(this.#env ? { env: this.#env, extendEnv: false } : {}),
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const result: RemoteResult = {
      node: this.node.name,
      command: isScript ? (command as { script: string }).script : argv.join(' '),
      escapedCommand,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      durationMs: Date.now() - started,
      timedOut: r.timedOut,
      failed: r.failed,
    };
    if (result.failed && options.reject !== false) throw new RemoteCommandError(result, options.label === undefined ? undefined : { label: options.label });
    return result;
  }

  startDetached(): never {
    throw new Error('LocalSession supports exec only');
  }
  isRunning(): never {
    throw new Error('LocalSession supports exec only');
  }
  waitForExit(): never {
    throw new Error('LocalSession supports exec only');
  }
  waitDetached(): never {
    throw new Error('LocalSession supports exec only');
  }
  stopDetached(): never {
    throw new Error('LocalSession supports exec only');
  }
  /** Like the SSH upload: the folder must exist already. */
  async upload(content: Buffer | string, remotePath: string): Promise<void> {
    this.uploads++;
    await writeFile(remotePath, content);
  }
  download(): never {
    throw new Error('LocalSession supports exec only');
  }
  async cleanup(): Promise<void> {}
  async close(): Promise<void> {}
}
