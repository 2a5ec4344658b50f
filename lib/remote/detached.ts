// Detached measurements on one node: start, wait, stop and read back through whatever
// connection the session has at the time, so a dropped SSH link loses neither process nor output.
import { buildCommandString } from './command.ts';
import {
  buildCleanupScript,
  buildDetachedPaths,
  buildEnsureRunDirScript,
  buildIsRunningScript,
  buildStartScript,
  parseStartedPid,
  validateDetachedName,
} from './detached-scripts.ts';
import { RemoteCommandError } from './errors.ts';
import type { HeldRun, RawExecOptions } from './ssh-session.ts';
import type { DetachedOutcome, DetachedProcess, RemoteCommand, RemoteResult, StartDetachedOptions, StopOptions, WatchEnd } from './types.ts';
import { ExitWatcher } from './watch-detached.ts';
import { buildStopAndCollectScript, buildWatchedStartScript, hasStartedLine, parseCollected } from './watch-scripts.ts';

export interface DetachedHost {
  node: string;
  runDir: string;
  /** How long cleanup waits after SIGINT before SIGKILL. */
  cleanupGraceMs: number;
  run(command: RemoteCommand, options: RawExecOptions): Promise<{ result: RemoteResult; stdout: Buffer }>;
  /** run for a command whose channel stays open after its shell exits (a watched start). */
  hold(command: RemoteCommand, options: RawExecOptions & { isStarted?: (stdout: Buffer) => boolean }): Promise<HeldRun>;
  retrying<T>(what: string, fn: () => Promise<T>, deadline?: number): Promise<T>;
  log(line: string): void;
}

/** Grace after the first stop signal, and again after SIGTERM, before the next one. */
export const STOP_GRACE_MS = 5_000;

export class DetachedControl {
  readonly #host: DetachedHost;
  /** Privilege each started process ran with; processes from elsewhere are assumed privileged. */
  readonly #privileged = new Map<string, boolean>();
  readonly #watcher: ExitWatcher;
  #runDirReady = false;

  constructor(host: DetachedHost) {
    this.#host = host;
    this.#watcher = new ExitWatcher({ node: host.node, runDir: host.runDir, run: (c, o) => host.run(c, o), log: (l) => host.log(l) });
  }

  async start(options: StartDetachedOptions): Promise<DetachedProcess> {
    const h = this.#host;
    validateDetachedName(options.name);
    if (this.#privileged.has(options.name)) {
      throw new TypeError(`a detached process named ${options.name} was already started on node ${h.node} in this run`);
    }
    await this.#ensureRunDir();
    const privileged = options.privileged ?? true;
    const commandString = buildCommandString(options.command);
    const script = buildStartScript({ runDir: h.runDir, name: options.name, commandString });
    const label = options.label ?? options.name;
    const runOptions = { privileged, label, timeoutMs: 30_000, logAs: `(detached${options.watch ? ', watched' : ''} ${options.name}) ${commandString}` };
    const held = options.watch ? await h.hold({ script: buildWatchedStartScript(script) }, { ...runOptions, isStarted: hasStartedLine }) : undefined;
    const { result } = held ?? (await h.run({ script }, runOptions));
    const pid = parseStartedPid(result.stdout);
    if (pid === undefined) {
      held?.release();
      throw new RemoteCommandError({ ...result, failed: true }, { label, hint: `expected a pid on stdout, got ${JSON.stringify(result.stdout.slice(0, 80))}` });
    }
    if (held) this.#watcher.hold(options.name, held);
    this.#privileged.set(options.name, privileged);
    const paths = buildDetachedPaths(h.runDir, options.name);
    h.log(`[${h.node}] ${label}: detached as pid ${pid}, output in ${paths.stdout}`);
    return { node: h.node, name: options.name, pid, stdoutPath: paths.stdout, stderrPath: paths.stderr, exitCodePath: paths.rc };
  }

  async isRunning(process: DetachedProcess, deadline?: number): Promise<boolean> {
    const script = buildIsRunningScript({ runDir: this.#host.runDir, name: process.name, pid: process.pid });
    const { result } = await this.#host.retrying(
      `poll ${process.name}`,
      () => this.#host.run({ script }, { privileged: this.#privilegeOf(process), housekeeping: true, quiet: true, timeoutMs: 15_000, label: process.name }),
      deadline,
    );
    return result.stdout.trim() === 'running';
  }

  waitForExit(process: DetachedProcess, options: { deadline: number; signal?: AbortSignal | undefined }): Promise<WatchEnd> {
    return this.#watcher.waitForExit(process, { ...options, privileged: this.#privilegeOf(process) });
  }

  async wait(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome> {
    const end = await this.waitForExit(process, { deadline: Date.now() + options.timeoutMs });
    if (end !== 'exited') this.#host.log(`[${this.#host.node}] ${process.name}: still running after ${options.timeoutMs} ms, stopping it`);
    return this.stop(process, options.stop);
  }

  async stop(process: DetachedProcess, options: StopOptions = {}): Promise<DetachedOutcome> {
    const h = this.#host;
    const signal = options.signal ?? 'INT';
    const graceMs = options.graceMs ?? STOP_GRACE_MS;
    const privileged = this.#privilegeOf(process);
    const script = buildStopAndCollectScript({ runDir: h.runDir, name: process.name, pid: process.pid, signal, graceMs });
    const { stdout } = await h.retrying(`stop ${process.name}`, () =>
      h.run({ script }, { privileged, housekeeping: true, label: process.name, timeoutMs: 2 * graceMs + 30_000, logAs: `(stop ${process.name}) kill -${signal} ${process.pid} if it runs, then read its outputs` }),
    );
    this.#watcher.release(process.name);
    const collected = parseCollected(stdout, signal);
    const outcome: DetachedOutcome = {
      exitCode: collected.exitCode,
      stdout: collected.stdout ?? '',
      stderr: collected.stderr ?? '',
      stopped: collected.stopped,
      ...(collected.escalatedTo ? { escalatedTo: collected.escalatedTo } : {}),
      ...(collected.window ? { window: collected.window } : {}),
    };
    const how = collected.stopped ? `stopped with SIG${collected.escalatedTo ?? signal}` : 'had exited';
    h.log(`[${h.node}] ${process.name}: ${how}, exit code ${outcome.exitCode ?? 'unknown'}, ${outcome.stdout.length} chars of output`);
    return outcome;
  }

  async cleanup(): Promise<void> {
    const h = this.#host;
    const script = buildCleanupScript({ runDir: h.runDir, graceMs: h.cleanupGraceMs });
    const { result } = await h.retrying('cleanup', () =>
      h.run({ script }, { privileged: true, housekeeping: true, label: 'cleanup', timeoutMs: h.cleanupGraceMs + 30_000, logAs: `(cleanup) stop processes in ${h.runDir} and remove it` }),
    );
    const killed = /killed:(.*)/.exec(result.stdout)?.[1]?.trim();
    if (killed) h.log(`[${h.node}] cleanup: SIGKILL was needed for pids ${killed}`);
    this.#watcher.release();
    this.#privileged.clear();
    this.#runDirReady = false;
  }

  async #ensureRunDir(): Promise<void> {
    if (this.#runDirReady) return;
    const script = buildEnsureRunDirScript(this.#host.runDir);
    await this.#host.retrying('create run directory', () =>
      this.#host.run({ script }, { privileged: false, label: 'mkdir', logAs: `mkdir -m 700 ${this.#host.runDir}` }),
    );
    this.#runDirReady = true;
  }

  #privilegeOf(process: DetachedProcess): boolean {
    return this.#privileged.get(process.name) ?? true;
  }
}
