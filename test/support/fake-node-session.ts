// A NodeSession that records every call and answers from handlers the test gives, so the
// provisioning, case, topology and traffic procedures are tested without a node. Unhandled
// calls succeed empty; scriptedProcesses() gives the handlers of a traffic generator's node.
import type { DataPort, PodNode } from '../../lib/config/pod-model.ts';
import type {
  DetachedOutcome,
  DetachedProcess,
  ExecOptions,
  NodeSession,
  RemoteCommand,
  RemoteResult,
  StartDetachedOptions,
  StopOptions,
  WatchEnd,
} from '../../lib/remote/types.ts';

export type FakeCall =
  | { kind: 'exec'; command: string; options: ExecOptions }
  | { kind: 'upload'; path: string; content: string; mode?: number }
  /** `command` is the text for matching; `raw` the argv or script as the code gave it. */
  | { kind: 'start'; name: string; command: string; raw: RemoteCommand }
  /** `signal` is the one the node gets: the contract's default INT when none was asked. */
  | { kind: 'stop'; name: string; signal: string }
  | { kind: 'wait'; name: string; timeoutMs: number }
  | { kind: 'download'; path: string };

/** How a detached process's outcome was collected: stopped, or waited for until it exited. */
export type CollectedBy = 'stop' | 'wait';

export interface FakeHandlers {
  exec?: (command: string, options: ExecOptions) => Partial<RemoteResult> | undefined;
  upload?: (path: string, content: string) => void;
  /** Outcome of a detached process when it is stopped or waited for. */
  outcome?: (name: string, by: CollectedBy) => Partial<DetachedOutcome> | undefined;
  /** Whether a detached process still runs; default: false (it ended by itself). */
  running?: (name: string) => boolean;
  download?: (path: string) => Buffer;
  /** Called on start, after the call is recorded; throw to make the start fail. */
  start?: (name: string, command: RemoteCommand) => void;
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

// The traffic generator node the driver and trial tests share: only its ports differ.
export function buildTgenNode(ports: DataPort[], overrides: Partial<PodNode> = {}): PodNode {
  return buildFakeNode({ name: 'tgen', role: 'tgen', declaredRole: 'tgen', ip: '198.18.0.3', housekeepingCpus: [0, 1], ports, ...overrides });
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
    this.calls.push({ kind: 'start', name: options.name, command: commandText(options.command), raw: options.command });
    this.handlers.start?.(options.name, options.command);
    const base = `${this.runDir}/${options.name}`;
    return { node: this.node.name, name: options.name, pid: 4242, stdoutPath: `${base}.out`, stderrPath: `${base}.err`, exitCodePath: `${base}.rc` };
  }

  async isRunning(process: DetachedProcess): Promise<boolean> {
    return this.handlers.running?.(process.name) ?? false;
  }

  /** Asks `running` until it says no, the deadline passes or the signal aborts; never sleeps long. */
  async waitForExit(process: DetachedProcess, options: { deadline: number; signal?: AbortSignal | undefined }): Promise<WatchEnd> {
    for (;;) {
      if (options.signal?.aborted) return 'aborted';
      if (Date.now() >= options.deadline) return 'deadline';
      if (!(this.handlers.running?.(process.name) ?? false)) return 'exited';
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Recorded apart from stops, so a test sees which processes were left to end by themselves. */
  async waitDetached(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome> {
    this.calls.push({ kind: 'wait', name: process.name, timeoutMs: options.timeoutMs });
    return { exitCode: 0, stdout: '', stderr: '', stopped: false, ...(this.handlers.outcome?.(process.name, 'wait') ?? {}) };
  }

  async stopDetached(process: DetachedProcess, options: StopOptions = {}): Promise<DetachedOutcome> {
    this.calls.push({ kind: 'stop', name: process.name, signal: options.signal ?? 'INT' });
    return { exitCode: 0, stdout: '', stderr: '', stopped: true, ...(this.handlers.outcome?.(process.name, 'stop') ?? {}) };
  }

  async upload(content: Buffer | string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    const text = content.toString();
    this.calls.push({ kind: 'upload', path: remotePath, content: text, ...(options.mode === undefined ? {} : { mode: options.mode }) });
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

export interface ScriptedProcess {
  /** Output, or a function of the command the process was started with. */
  stdout?: string | ((command: RemoteCommand) => string);
  stderr?: string;
  exitCode?: number | null;
  /** isRunning (and each look of waitForExit) answers true this many times before false. */
  runningPolls?: number;
}

// Handlers for a node that runs only the detached processes it was scripted for, matched by
// name prefix: a start of anything else fails, and so do exec and download, so a driver cannot
// lean on a call its test did not foresee.
export function scriptedProcesses(scripts: Record<string, ScriptedProcess>, options: { onStart?: (name: string) => void } = {}): FakeHandlers {
  const entries = Object.entries(scripts);
  const polls = new Map<string, number>();
  const commands = new Map<string, RemoteCommand>();
  const script = (name: string): ScriptedProcess => {
    const hit = entries.find(([prefix]) => name.startsWith(prefix));
    if (!hit) throw new Error(`fake: no scripted process for ${name}`);
    return hit[1];
  };
  return {
    exec: () => {
      throw new Error('fake: exec is not scripted');
    },
    download: () => {
      throw new Error('fake: download is not scripted');
    },
    start: (name, command) => {
      script(name);
      polls.set(name, 0);
      commands.set(name, command);
      options.onStart?.(name);
    },
    running: (name) => {
      const n = polls.get(name) ?? 0;
      polls.set(name, n + 1);
      return n < (script(name).runningPolls ?? 0);
    },
    // A wait returns once the process ended by itself; a stop found it running if it was polled no more than it runs.
    outcome: (name, by) => {
      const s = script(name);
      const stdout = typeof s.stdout === 'function' ? s.stdout(commands.get(name)!) : (s.stdout ?? '');
      const stopped = by === 'stop' && (polls.get(name) ?? 0) <= (s.runningPolls ?? 0);
      return { exitCode: s.exitCode === undefined ? 0 : s.exitCode, stdout, stderr: s.stderr ?? '', stopped };
    },
  };
}

// A session on a node that runs only its scripted processes (see scriptedProcesses).
export function buildScriptedSession(node: PodNode, scripts: Record<string, ScriptedProcess>, options: { onStart?: (name: string) => void } = {}): FakeNodeSession {
  return new FakeNodeSession(node, scriptedProcesses(scripts, options));
}
