// --dry-run: the suites run their whole plan, but every command is printed instead of sent.
// Never connects and never reads key files.
import { podSecrets, type PodNode } from '../config/pod-model.ts';
import { buildCommandString, buildRemoteCommand } from './command.ts';
import { buildDetachedPaths, validateDetachedName } from './detached-scripts.ts';
import { Redactor } from './redact.ts';
import type {
  DetachedOutcome,
  DetachedProcess,
  ExecOptions,
  NodeSession,
  RemoteCommand,
  RemoteResult,
  StartDetachedOptions,
  WatchEnd,
} from './types.ts';

export interface DryRunOptions {
  runId: string;
  runDir?: string;
  log?: (line: string) => void;
  secrets?: readonly string[];
  /** Canned output for commands whose output the caller parses (tests, previews). */
  respond?: (escapedCommand: string) => Partial<Pick<RemoteResult, 'stdout' | 'stderr' | 'exitCode'>> | undefined;
}

export class DryRunSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir: string;
  /** Every escaped command this session would have run, in order, redacted. */
  readonly commands: string[] = [];
  readonly #log: (line: string) => void;
  readonly #redactor: Redactor;
  readonly #respond: DryRunOptions['respond'];

  constructor(node: PodNode, options: DryRunOptions) {
    this.node = node;
    this.runDir = options.runDir ?? `/tmp/kfn-${options.runId}`;
    const own = podSecrets({ file: '', name: '', lab: false, nodes: [node], notes: [] });
    this.#redactor = new Redactor([...(options.secrets ?? []), ...own]);
    const sink = options.log ?? ((line: string) => console.log(line));
    this.#log = (line) => sink(this.#redactor.redact(line));
    this.#respond = options.respond;
  }

  async exec(command: RemoteCommand, options: ExecOptions = {}): Promise<RemoteResult> {
    const built = buildRemoteCommand(command, { user: this.node.user, privileged: options.privileged ?? true });
    const canned = this.#record(options.label, built.escapedCommand);
    const exitCode = canned?.exitCode ?? 0;
    return {
      node: this.node.name,
      command: this.#redactor.redact(built.command),
      escapedCommand: this.#redactor.redact(built.escapedCommand),
      exitCode,
      signal: null,
      stdout: canned?.stdout ?? '',
      stderr: canned?.stderr ?? '',
      durationMs: 0,
      timedOut: false,
      failed: exitCode !== 0,
    };
  }

  async startDetached(options: StartDetachedOptions): Promise<DetachedProcess> {
    validateDetachedName(options.name);
    this.#record(options.label ?? options.name, `(detached ${options.name}) ${buildCommandString(options.command)}`);
    const paths = buildDetachedPaths(this.runDir, options.name);
    return { node: this.node.name, name: options.name, pid: 0, stdoutPath: paths.stdout, stderrPath: paths.stderr, exitCodePath: paths.rc };
  }

  async isRunning(): Promise<boolean> {
    return false;
  }

  async waitForExit(): Promise<WatchEnd> {
    return 'exited';
  }

  async waitDetached(process: DetachedProcess): Promise<DetachedOutcome> {
    return this.stopDetached(process);
  }

  async stopDetached(process: DetachedProcess): Promise<DetachedOutcome> {
    this.#record(process.name, `(stop ${process.name})`);
    return { exitCode: 0, stdout: '', stderr: '', stopped: false };
  }

  async upload(content: Buffer | string, remotePath: string): Promise<void> {
    this.#record('upload', `upload ${Buffer.byteLength(content)} bytes to ${remotePath}`);
  }

  async download(remotePath: string): Promise<Buffer> {
    this.#record('download', `cat ${remotePath}`);
    return Buffer.alloc(0);
  }

  async cleanup(): Promise<void> {
    this.#record('cleanup', `(cleanup) stop processes in ${this.runDir} and remove it`);
  }

  async close(): Promise<void> {}

  #record(label: string | undefined, line: string) {
    const redacted = this.#redactor.redact(line);
    this.commands.push(redacted);
    this.#log(`[${this.node.name}] (dry-run) ${label ?? 'sh'}$ ${redacted}`);
    return this.#respond?.(line);
  }
}
