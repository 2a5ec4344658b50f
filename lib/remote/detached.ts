// Detached measurements on one node: start, poll, stop and read back through whatever
// connection the session has at the time, so a dropped SSH link loses neither process nor output.
import { buildCommandString } from './command.ts';
import {
  buildCleanupScript,
  buildDetachedPaths,
  buildEnsureRunDirScript,
  buildIsRunningScript,
  buildStartScript,
  buildStopScript,
  parseStartedPid,
  validateDetachedName,
} from './detached-scripts.ts';
import { RemoteCommandError, SshConnectError } from './errors.ts';
import { quoteArg } from './quote.ts';
import type { RawExecOptions } from './ssh-session.ts';
import type { DetachedOutcome, DetachedProcess, RemoteCommand, RemoteResult, StartDetachedOptions, StopOptions } from './types.ts';

export interface DetachedHost {
  node: string;
  runDir: string;
  pollIntervalMs: number;
  /** How long cleanup waits after SIGINT before SIGKILL. */
  cleanupGraceMs: number;
  run(command: RemoteCommand, options: RawExecOptions): Promise<{ result: RemoteResult; stdout: Buffer }>;
  retrying<T>(what: string, fn: () => Promise<T>, deadline?: number): Promise<T>;
  log(line: string): void;
}

const DEFAULT_GRACE_MS = 10_000;

export class DetachedControl {
  readonly #host: DetachedHost;
  /** Privilege each started process ran with; processes from elsewhere are assumed privileged. */
  readonly #privileged = new Map<string, boolean>();
  #runDirReady = false;

  constructor(host: DetachedHost) {
    this.#host = host;
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
    const { result } = await h.run({ script }, { privileged, label, timeoutMs: 30_000, logAs: `(detached ${options.name}) ${commandString}` });
    const pid = parseStartedPid(result.stdout);
    if (pid === undefined) {
      throw new RemoteCommandError({ ...result, failed: true }, { label, hint: `expected a pid on stdout, got ${JSON.stringify(result.stdout.slice(0, 80))}` });
    }
    this.#privileged.set(options.name, privileged);
    const paths = buildDetachedPaths(h.runDir, options.name);
    h.log(`[${h.node}] ${label}: detached as pid ${pid}, output in ${paths.stdout}`);
    return { node: h.node, name: options.name, pid, stdoutPath: paths.stdout, stderrPath: paths.stderr, exitCodePath: paths.rc };
  }

  async isRunning(process: DetachedProcess, deadline?: number): Promise<boolean> {
    const script = buildIsRunningScript({ runDir: this.#host.runDir, name: process.name, pid: process.pid });
    const { result } = await this.#host.retrying(
      `poll ${process.name}`,
      () => this.#host.run({ script }, { privileged: this.#privilegeOf(process), quiet: true, timeoutMs: 15_000, label: process.name }),
      deadline,
    );
    return result.stdout.trim() === 'running';
  }

  async wait(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      try {
        if (!(await this.isRunning(process, deadline))) break;
      } catch (e) {
        // An unreachable node is not an ended measurement: keep trying until the deadline.
        if (!(e instanceof SshConnectError && e.retryable)) throw e;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#host.log(`[${this.#host.node}] ${process.name}: still running after ${options.timeoutMs} ms, stopping it`);
        break;
      }
      await new Promise((r) => setTimeout(r, Math.min(this.#host.pollIntervalMs, left)));
    }
    return this.stop(process, options.stop);
  }

  async stop(process: DetachedProcess, options: StopOptions = {}): Promise<DetachedOutcome> {
    const h = this.#host;
    const signal = options.signal ?? 'INT';
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const privileged = this.#privilegeOf(process);
    const script = buildStopScript({ runDir: h.runDir, name: process.name, pid: process.pid, signal, graceMs });
    const { result } = await h.retrying(`stop ${process.name}`, () =>
      h.run({ script }, { privileged, label: process.name, timeoutMs: graceMs + 15_000, logAs: `(stop ${process.name}) kill -${signal} ${process.pid}` }),
    );
    const stopped = /stopped=1/.test(result.stdout);
    const outcome = await h.retrying(`read ${process.name}`, () => this.#readOutcome(process, privileged, stopped));
    const how = stopped ? `stopped with SIG${signal}` : 'had exited';
    h.log(`[${h.node}] ${process.name}: ${how}, exit code ${outcome.exitCode ?? 'unknown'}, ${outcome.stdout.length} chars of output`);
    return outcome;
  }

  async cleanup(): Promise<void> {
    const h = this.#host;
    const script = buildCleanupScript({ runDir: h.runDir, graceMs: h.cleanupGraceMs });
    const { result } = await h.retrying('cleanup', () =>
      h.run({ script }, { privileged: true, label: 'cleanup', timeoutMs: h.cleanupGraceMs + 30_000, logAs: `(cleanup) stop processes in ${h.runDir} and remove it` }),
    );
    const killed = /killed:(.*)/.exec(result.stdout)?.[1]?.trim();
    if (killed) h.log(`[${h.node}] cleanup: SIGKILL was needed for pids ${killed}`);
    this.#privileged.clear();
    this.#runDirReady = false;
  }

  async #readOutcome(process: DetachedProcess, privileged: boolean, stopped: boolean): Promise<DetachedOutcome> {
    const opts: RawExecOptions = { privileged, quiet: true, label: process.name, reject: false };
    const rc = await this.#host.run({ script: `cat ${quoteArg(process.exitCodePath)} 2>/dev/null; exit 0` }, opts);
    const read = async (path: string) => {
      const { result, stdout } = await this.#host.run(['cat', path], opts);
      return result.failed ? '' : stdout.toString('utf8');
    };
    const code = /^(\d+)\s*$/.exec(rc.result.stdout.trim())?.[1];
    return {
      exitCode: code === undefined ? null : Number(code),
      stdout: await read(process.stdoutPath),
      stderr: await read(process.stderrPath),
      stopped,
    };
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
