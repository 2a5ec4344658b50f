// NodeSession over one ssh2 connection per node: commands with timeouts that kill what they
// started, and detached measurements that survive a dropped connection (see detached.ts).
import { randomBytes } from 'node:crypto';
import { podSecrets, type PodNode } from '../config/pod-model.ts';
import { buildKillGroupScript, buildPidReportPrefix, buildRemoteCommand, classifySudoFailure, extractReportedPid, type BuiltCommand } from './command.ts';
import { DetachedControl } from './detached.ts';
import { RemoteCommandError, SshConnectError, SudoError } from './errors.ts';
import { holdOnChannel, runOnChannel, type ChannelRun } from './exec-channel.ts';
import type { HostKeyPolicy } from './host-key.ts';
import type { KnownHostsFiles } from './known-hosts.ts';
import { quoteArg } from './quote.ts';
import { Redactor } from './redact.ts';
import type { ConnectSettings } from './ssh-connect.ts';
import { ReconnectingLink } from './reconnecting-link.ts';
import { validateRunDir } from './detached-scripts.ts';
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
} from './types.ts';

export { timeoutFor } from './timeouts.ts';

export interface SshSessionOptions {
  /** Names runDir (`/tmp/kfn-<runId>`) unless runDir is given. */
  runId: string;
  runDir?: string;
  /** Receives every log line, already redacted. */
  log?: (line: string) => void;
  /** Secrets of the whole pod (podSecrets); the node's own are always added. */
  secrets?: readonly string[];
  hostKeyPolicy?: HostKeyPolicy;
  /** Read in place of ~/.ssh/known_hosts{,2} for nodes that pin no key; accept-new records new keys there. */
  knownHostsFile?: string;
  /** OpenSSH's known_hosts files (tests); by default the user's and /etc/ssh's. */
  knownHostsFiles?: KnownHostsFiles;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Default command timeout. */
  defaultTimeoutMs?: number;
  /** How long cleanup waits after SIGINT before SIGKILL. Default 5 s. */
  cleanupGraceMs?: number;
  /**
   * How long idempotent operations (stop, read-back, upload, download, cleanup) keep
   * reconnecting after the connection was lost. Default 60 s from the loss. Once a window has
   * passed with the node unreachable, later operations try once each until a connection works again.
   */
  reconnectWindowMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Internal exec options: Buffer stdin, quiet polling, a readable log line instead of a long script. */
export interface RawExecOptions extends Omit<ExecOptions, 'input'> {
  input?: Buffer | string;
  quiet?: boolean;
  logAs?: string;
  /** For the kill that follows a timeout: do not kill again if it times out itself. */
  noKillOnTimeout?: boolean;
}

/** A command held open by what it started (see runHeld). */
export interface HeldRun {
  result: RemoteResult;
  stdout: Buffer;
  closed: Promise<{ lost: boolean }>;
  release(): void;
}

interface Prepared {
  built: BuiltCommand;
  label: string;
  timeoutMs: number;
  marker: string;
  shellString: string;
  onTimeout: (stderrSoFar: Buffer) => Promise<void>;
}

// Connect a node now (credentials and host key are checked here) and return its session.
export async function connectNode(node: PodNode, options: SshSessionOptions): Promise<SshNodeSession> {
  const session = new SshNodeSession(node, options);
  await session.connect();
  return session;
}

export class SshNodeSession implements NodeSession {
  readonly node: PodNode;
  readonly runDir: string;
  readonly redactor: Redactor;
  readonly #settings: ConnectSettings;
  readonly #defaultTimeoutMs: number;
  readonly #link: ReconnectingLink;
  readonly #detached: DetachedControl;

  constructor(node: PodNode, options: SshSessionOptions) {
    const env = options.env ?? process.env;
    this.node = node;
    this.runDir = options.runDir ?? `/tmp/kfn-${options.runId}`;
    validateRunDir(this.runDir);
    const own = podSecrets({ file: '', name: '', lab: false, nodes: [node], notes: [] }, env);
    this.redactor = new Redactor([...(options.secrets ?? []), ...own]);
    const sink = options.log ?? (() => undefined);
    this.#settings = {
      hostKeyPolicy: options.hostKeyPolicy ?? 'strict',
      knownHostsFile: options.knownHostsFile,
      ...(options.knownHostsFiles ? { knownHostsFiles: options.knownHostsFiles } : {}),
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 6,
      env,
      log: (line) => sink(this.redactor.redact(line)),
    };
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    this.#link = new ReconnectingLink(node, this.#settings, options.reconnectWindowMs ?? 60_000);
    this.#detached = new DetachedControl({
      node: node.name,
      runDir: this.runDir,
      cleanupGraceMs: options.cleanupGraceMs ?? 5_000,
      run: (command, opts) => this.runRaw(command, opts),
      hold: (command, opts) => this.runHeld(command, opts),
      retrying: (what, fn, deadline) => this.#link.retrying(what, fn, deadline),
      log: (line) => this.#log(line),
    });
  }

  /** Opens the connection, or throws SshConnectError / HostKeyError naming the node. */
  async connect(): Promise<void> {
    await this.#link.client();
  }

  async exec(command: RemoteCommand, options: ExecOptions = {}): Promise<RemoteResult> {
    return (await this.runRaw(command, options)).result;
  }

  /** exec that also returns stdout as bytes, for downloads and the detached machinery. */
  async runRaw(command: RemoteCommand, options: RawExecOptions = {}): Promise<{ result: RemoteResult; stdout: Buffer }> {
    const prepared = this.#prepare(command, options);
    const client = await this.#link.client();
    const run = await runOnChannel(client, prepared.shellString, { input: options.input, timeoutMs: prepared.timeoutMs, onTimeout: prepared.onTimeout });
    return this.#settle(run, prepared, options);
  }

  /**
   * runRaw for a command whose shell exits before its channel closes (see holdOnChannel): the
   * result is the shell's; `closed` resolves when the processes holding the channel exit.
   */
  async runHeld(command: RemoteCommand, options: RawExecOptions & { isStarted?: (stdout: Buffer) => boolean }): Promise<HeldRun> {
    const prepared = this.#prepare(command, options);
    const client = await this.#link.client();
    const held = holdOnChannel(client, prepared.shellString, {
      input: options.input,
      startTimeoutMs: prepared.timeoutMs,
      onStartTimeout: prepared.onTimeout,
      ...(options.isStarted ? { isStarted: options.isStarted } : {}),
    });
    try {
      return { ...(await this.#settle(await held.started, prepared, options)), closed: held.closed, release: held.release };
    } catch (error) {
      held.release();
      throw error;
    }
  }

  #prepare(command: RemoteCommand, options: RawExecOptions): Prepared {
    const cpus = options.housekeeping ? this.node.housekeepingCpus : undefined;
    const built = buildRemoteCommand(command, { user: this.node.user, privileged: options.privileged ?? true, ...(cpus ? { cpus } : {}) });
    const label = options.label ?? (Array.isArray(command) ? String(command[0]) : 'sh');
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    if (!options.quiet) this.#log(`[${this.node.name}] ${label}$ ${options.logAs ?? built.escapedCommand}`);
    const marker = `kfn-pid-${randomBytes(6).toString('hex')}:`;
    const onTimeout = async (stderrSoFar: Buffer) => {
      const found = extractReportedPid(stderrSoFar, marker).pid;
      if (found !== undefined && !options.noKillOnTimeout) await this.#killGroup(found, built.sudo);
    };
    return { built, label, timeoutMs, marker, shellString: buildPidReportPrefix(marker) + built.escapedCommand, onTimeout };
  }

  async #settle(run: ChannelRun, prepared: Prepared, options: RawExecOptions): Promise<{ result: RemoteResult; stdout: Buffer }> {
    const { built, label, timeoutMs, marker } = prepared;
    const { pid, rest } = extractReportedPid(run.stderr, marker);
    const stderr = rest.toString('utf8');
    const redact = (s: string) => this.redactor.redact(s);
    if (run.transportError && !run.timedOut) {
      const message = `[${this.node.name}] connection lost while running ${label}: ${run.transportError.message}: ${redact(built.escapedCommand)}`;
      this.#log(message);
      // The command is orphaned on the node and its result is lost: do not leave it running.
      if (pid !== undefined && !options.noKillOnTimeout) await this.#killGroup(pid, built.sudo).catch(() => undefined);
      throw new SshConnectError(this.node.name, message, { cause: run.transportError, retryable: true });
    }
    const result: RemoteResult = {
      node: this.node.name,
      command: redact(built.command),
      escapedCommand: redact(built.escapedCommand),
      exitCode: run.exitCode,
      signal: run.signal,
      stdout: run.stdout.toString('utf8'),
      stderr,
      durationMs: run.durationMs,
      timedOut: run.timedOut,
      failed: run.timedOut || run.signal !== null || run.exitCode !== 0,
    };
    const shown = { ...result, stdout: redact(result.stdout), stderr: redact(result.stderr) };
    if (!options.quiet || result.failed) this.#log(`[${this.node.name}] ${label}: ${describeOutcome(result, timeoutMs)}`);
    // Even with reject: false: a probe must not read "sudo refused" as "tool missing".
    const problem = built.sudo ? classifySudoFailure(stderr, run.exitCode) : undefined;
    if (problem) throw new SudoError(shown, problem, this.node.user, { label });
    if (result.failed && options.reject !== false) {
      throw new RemoteCommandError(shown, { label, timeoutMs, cause: run.transportError });
    }
    return { result, stdout: run.stdout };
  }

  startDetached(options: StartDetachedOptions): Promise<DetachedProcess> {
    return this.#detached.start(options);
  }

  isRunning(process: DetachedProcess): Promise<boolean> {
    return this.#detached.isRunning(process);
  }

  waitForExit(process: DetachedProcess, options: { deadline: number; signal?: AbortSignal | undefined }): Promise<WatchEnd> {
    return this.#detached.waitForExit(process, options);
  }

  waitDetached(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome> {
    return this.#detached.wait(process, options);
  }

  stopDetached(process: DetachedProcess, options?: StopOptions): Promise<DetachedOutcome> {
    return this.#detached.stop(process, options);
  }

  async upload(content: Buffer | string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const mode = options.mode;
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
      throw new TypeError(`upload mode must be an integer between 0 and 0o7777, got ${mode}`);
    }
    const target = quoteArg(remotePath);
    const chmod = mode === undefined ? '' : `chmod ${mode.toString(8)} "$t" && `;
    // Write a temporary file and rename it, so a broken transfer never leaves a half file.
    const script = `t=${target}.kfn-upload.$$; cat > "$t" && ${chmod}mv -f "$t" ${target} || { rm -f "$t"; exit 1; }`;
    const logAs = `upload ${data.length} bytes to ${remotePath}${mode === undefined ? '' : ` mode ${mode.toString(8)}`}`;
    await this.#link.retrying('upload', () => this.runRaw({ script }, { input: data, label: 'upload', logAs }));
  }

  async download(remotePath: string): Promise<Buffer> {
    return this.#link.retrying('download', async () => (await this.runRaw(['cat', remotePath], { label: 'download' })).stdout);
  }

  async cleanup(): Promise<void> {
    if (this.#link.closed || !this.#link.everConnected) {
      this.#log(`[${this.node.name}] cleanup: nothing to do (${this.#link.closed ? 'session closed' : 'never connected'})`);
      return;
    }
    await this.#detached.cleanup();
  }

  close(): Promise<void> {
    return this.#link.close();
  }

  // Kill what a command left behind: its shell's process group, with the command's privilege.
  async #killGroup(pgid: number, sudo: boolean): Promise<void> {
    await this.runRaw({ script: buildKillGroupScript(pgid) }, {
      privileged: sudo, quiet: true, reject: false, timeoutMs: 10_000, noKillOnTimeout: true,
    });
  }

  #log(line: string): void {
    this.#settings.log(line);
  }
}

function describeOutcome(result: RemoteResult, timeoutMs: number): string {
  const took = `in ${result.durationMs} ms`;
  if (result.timedOut) return `timed out after ${timeoutMs} ms, killed`;
  if (result.signal) return `killed by ${result.signal} ${took}`;
  return `exit ${result.exitCode} ${took}`;
}
