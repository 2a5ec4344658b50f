// A NodeSession that runs nothing: detached processes get scripted outcomes by name prefix,
// and every call is recorded so driver tests can check order (receivers before the sender,
// stops on abort) without SSH.
import type { DataPort, PodNode } from '../../../lib/config/pod-model.ts';
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

export function makeTgenNode(ports: DataPort[], over: Partial<PodNode> = {}): PodNode {
  return {
    name: 'tgen',
    role: 'tgen',
    declaredRole: 'tgen',
    ip: '198.18.0.3',
    user: 'root',
    sshPort: 22,
    rtCpus: [1],
    housekeepingCpus: [0, 1],
    ports,
    tools: {},
    extra: {},
    ...over,
  };
}

export interface ScriptedProcess {
  /** Output, or a function of the command the process was started with. */
  stdout?: string | ((command: RemoteCommand) => string);
  stderr?: string;
  exitCode?: number | null;
  /** isRunning answers true this many times before false. */
  runningPolls?: number;
}

export type FakeCall =
  | { op: 'upload'; path: string; content: string; mode?: number }
  | { op: 'start'; name: string; command: RemoteCommand }
  | { op: 'stop'; name: string; signal?: string }
  | { op: 'wait'; name: string; timeoutMs: number }
  | { op: 'exec'; command: RemoteCommand };

export class FakeSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir = '/tmp/kfn-test-run';
  readonly calls: FakeCall[] = [];
  readonly #scripts: Array<[string, ScriptedProcess]>;
  readonly #polls = new Map<string, number>();
  readonly #commands = new Map<string, RemoteCommand>();
  /** Called after each start, e.g. to abort a signal mid-trial. */
  onStart: ((name: string) => void) | undefined;

  constructor(node: PodNode, scripts: Record<string, ScriptedProcess>) {
    this.node = node;
    this.#scripts = Object.entries(scripts);
  }

  #script(name: string): ScriptedProcess {
    const hit = this.#scripts.find(([prefix]) => name.startsWith(prefix));
    if (!hit) throw new Error(`FakeSession: no scripted process for ${name}`);
    return hit[1];
  }

  #outcome(name: string, stopped: boolean): DetachedOutcome {
    const s = this.#script(name);
    const stdout = typeof s.stdout === 'function' ? s.stdout(this.#commands.get(name)!) : (s.stdout ?? '');
    return { exitCode: s.exitCode === undefined ? 0 : s.exitCode, stdout, stderr: s.stderr ?? '', stopped };
  }

  startedNames(): string[] {
    return this.calls.flatMap((c) => (c.op === 'start' ? [c.name] : []));
  }

  async exec(command: RemoteCommand, _options?: ExecOptions): Promise<RemoteResult> {
    this.calls.push({ op: 'exec', command });
    throw new Error('FakeSession: exec is not scripted');
  }

  async startDetached(options: StartDetachedOptions): Promise<DetachedProcess> {
    this.#script(options.name);
    this.calls.push({ op: 'start', name: options.name, command: options.command });
    this.#polls.set(options.name, 0);
    this.#commands.set(options.name, options.command);
    this.onStart?.(options.name);
    const base = `${this.runDir}/${options.name}`;
    return { node: this.node.name, name: options.name, pid: 1000 + this.calls.length, stdoutPath: `${base}.out`, stderrPath: `${base}.err`, exitCodePath: `${base}.rc` };
  }

  async isRunning(process: DetachedProcess): Promise<boolean> {
    const n = this.#polls.get(process.name) ?? 0;
    this.#polls.set(process.name, n + 1);
    return n < (this.#script(process.name).runningPolls ?? 0);
  }

  async waitDetached(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome> {
    this.calls.push({ op: 'wait', name: process.name, timeoutMs: options.timeoutMs });
    return this.#outcome(process.name, false);
  }

  async stopDetached(process: DetachedProcess, options?: StopOptions): Promise<DetachedOutcome> {
    this.calls.push({ op: 'stop', name: process.name, signal: options?.signal });
    const polls = this.#polls.get(process.name) ?? 0;
    return this.#outcome(process.name, polls <= (this.#script(process.name).runningPolls ?? 0));
  }

  async upload(content: Buffer | string, remotePath: string, options?: { mode?: number }): Promise<void> {
    this.calls.push({ op: 'upload', path: remotePath, content: content.toString(), mode: options?.mode });
  }

  async download(_remotePath: string): Promise<Buffer> {
    throw new Error('FakeSession: download is not scripted');
  }

  async cleanup(): Promise<void> {}

  async close(): Promise<void> {}
}
