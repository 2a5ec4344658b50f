// A NodeSession that records every call and answers from handlers the test gives, so the
// provisioning and case procedures are tested without a node. Unhandled calls succeed empty.
import type { PodNode } from '../../../lib/config/pod-model.ts';
import type {
  DetachedOutcome,
  DetachedProcess,
  ExecOptions,
  NodeSession,
  RemoteCommand,
  RemoteResult,
  StartDetachedOptions,
  StopOptions,
} from '../../../lib/remote/types.ts';

export type FakeCall =
  | { kind: 'exec'; command: string; options: ExecOptions }
  | { kind: 'upload'; path: string; content: string }
  | { kind: 'start'; name: string; command: string }
  | { kind: 'stop'; name: string; signal: string }
  | { kind: 'download'; path: string };

export interface FakeHandlers {
  exec?: (command: string, options: ExecOptions) => Partial<RemoteResult> | undefined;
  upload?: (path: string, content: string) => void;
  /** Outcome of a detached process when it is stopped (or waited for). */
  outcome?: (name: string) => Partial<DetachedOutcome> | undefined;
  /** Whether a detached process still runs; default: false (it ended by itself). */
  running?: (name: string) => boolean;
  download?: (path: string) => Buffer;
  /** Called on start; throw to make the start fail. */
  start?: (name: string) => void;
}

export function buildFakeNode(overrides: Partial<PodNode> = {}): PodNode {
  return {
    name: 'guest',
    role: 'guest',
    declaredRole: 'guest',
    ip: '192.0.2.10',
    user: 'root',
    sshPort: 22,
    rtCpus: [1],
    housekeepingCpus: [0],
    ports: [],
    tools: {},
    extra: {},
    ...overrides,
  };
}

// The argv joined, or the script itself, as the fake's record of a command.
export function commandText(command: RemoteCommand): string {
  return Array.isArray(command) ? command.join(' ') : (command as { script: string }).script;
}

export class FakeNodeSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir: string;
  readonly calls: FakeCall[] = [];
  readonly handlers: FakeHandlers;

  constructor(node: PodNode, handlers: FakeHandlers = {}, runDir = '/tmp/kfn-test-run') {
    this.node = node;
    this.handlers = handlers;
    this.runDir = runDir;
  }

  async exec(command: RemoteCommand, options: ExecOptions = {}): Promise<RemoteResult> {
    const text = commandText(command);
    this.calls.push({ kind: 'exec', command: text, options });
    const answer = this.handlers.exec?.(text, options) ?? {};
    const exitCode = answer.exitCode === undefined ? 0 : answer.exitCode;
    const result: RemoteResult = {
      node: this.node.name,
      command: text,
      escapedCommand: text,
      exitCode,
      signal: null,
      stdout: answer.stdout ?? '',
      stderr: answer.stderr ?? '',
      durationMs: 0,
      timedOut: false,
      failed: exitCode !== 0,
    };
    if (result.failed && options.reject !== false) throw new Error(`fake: ${text} failed with ${exitCode}`);
    return result;
  }

  async startDetached(options: StartDetachedOptions): Promise<DetachedProcess> {
    this.calls.push({ kind: 'start', name: options.name, command: commandText(options.command) });
    this.handlers.start?.(options.name);
    const base = `${this.runDir}/${options.name}`;
    return { node: this.node.name, name: options.name, pid: 4242, stdoutPath: `${base}.out`, stderrPath: `${base}.err`, exitCodePath: `${base}.rc` };
  }

  async isRunning(process: DetachedProcess): Promise<boolean> {
    return this.handlers.running?.(process.name) ?? false;
  }

  async waitDetached(process: DetachedProcess): Promise<DetachedOutcome> {
    return this.stopDetached(process);
  }

  async stopDetached(process: DetachedProcess, options: StopOptions = {}): Promise<DetachedOutcome> {
    this.calls.push({ kind: 'stop', name: process.name, signal: options.signal ?? 'INT' });
    return { exitCode: 0, stdout: '', stderr: '', stopped: true, ...(this.handlers.outcome?.(process.name) ?? {}) };
  }

  async upload(content: Buffer | string, remotePath: string): Promise<void> {
    const text = content.toString();
    this.calls.push({ kind: 'upload', path: remotePath, content: text });
    this.handlers.upload?.(remotePath, text);
  }

  async download(remotePath: string): Promise<Buffer> {
    this.calls.push({ kind: 'download', path: remotePath });
    if (!this.handlers.download) throw new Error(`fake: no file ${remotePath}`);
    return this.handlers.download(remotePath);
  }

  async cleanup(): Promise<void> {}

  async close(): Promise<void> {}

  /** Calls of one kind, in order. */
  callsOf<K extends FakeCall['kind']>(kind: K): Extract<FakeCall, { kind: K }>[] {
    return this.calls.filter((c): c is Extract<FakeCall, { kind: K }> => c.kind === kind);
  }
}
