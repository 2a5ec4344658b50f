// The contract between the suites and a node. Only lib/remote implements it over
// SSH; tests and --dry-run implement it with fakes. Shaped after execa's result.
import type { PodNode } from '../config/pod-model.ts';

export interface RemoteResult {
  node: string;
  /** The command as given (argv joined with spaces), secrets redacted. */
  command: string;
  /** The exact shell string sent to the node, secrets redacted. */
  escapedCommand: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** exitCode !== 0, a signal, a timeout, or a transport error. */
  failed: boolean;
}

/** A command is an argv (each element shell-quoted) or a shell script taken as is. */
export type RemoteCommand = readonly string[] | { script: string };

export interface ExecOptions {
  /** Kill the command after this long. Default 60 s. */
  timeoutMs?: number;
  /** Return failed results instead of throwing RemoteCommandError. Default true (throw). */
  reject?: boolean;
  /** Run through `sudo -n` when the node's user is not root. Default true. */
  privileged?: boolean;
  /** Text written to the command's stdin. */
  input?: string;
  /** Label for the case log, e.g. `cyclictest`. */
  label?: string;
  /**
   * Run it, and the shell it starts in, on the node's housekeeping CPUs: for everything the
   * harness runs while a measurement may be in progress (lock heartbeat, read-backs).
   */
  housekeeping?: boolean;
}

/** A long measurement running on a node with no tie to the SSH session. */
export interface DetachedProcess {
  node: string;
  /** Unique on the node within this run, e.g. `cyclictest-guest`. */
  name: string;
  pid: number;
  /** Remote files the process writes. */
  stdoutPath: string;
  stderrPath: string;
  /** Written by the wrapper when the process exits. */
  exitCodePath: string;
}

export interface DetachedOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** True when the process was still running and had to be stopped. */
  stopped: boolean;
  /** Set when the first signal did not stop it within its grace and a stronger one was sent. */
  escalatedTo?: 'TERM' | 'KILL';
  /** When it ran, on the node's own clock (ms since the epoch), when the node could say. */
  window?: { startMs: number; endMs: number };
}

/** How waiting for a detached process ended. */
export type WatchEnd = 'exited' | 'aborted' | 'deadline';

export interface StartDetachedOptions {
  name: string;
  command: RemoteCommand;
  privileged?: boolean;
  label?: string;
  /**
   * Keep an idle channel open that closes when the process exits, so that waitForExit learns
   * of the end without running anything on the node. For measurements.
   */
  watch?: boolean;
}

export interface StopOptions {
  /** Signal sent first. Default SIGINT, which makes cyclictest and testpmd print their summary. */
  signal?: 'INT' | 'TERM' | 'KILL';
  /** How long to wait after the first signal before SIGTERM (after SIGTERM, before SIGKILL). Default 5 s each. */
  graceMs?: number;
}

export interface NodeSession {
  readonly node: PodNode;
  /** Per-run working directory on the node, e.g. /tmp/kfn-<run-id>. */
  readonly runDir: string;
  exec(command: RemoteCommand, options?: ExecOptions): Promise<RemoteResult>;
  startDetached(options: StartDetachedOptions): Promise<DetachedProcess>;
  isRunning(process: DetachedProcess): Promise<boolean>;
  /**
   * Resolves when the process exits by itself, the deadline (epoch ms) passes, or the signal
   * aborts. Never stops the process. For a process started with `watch`, nothing runs on the
   * node meanwhile unless the connection is lost; then it reconnects and waits again.
   */
  waitForExit(process: DetachedProcess, options: { deadline: number; signal?: AbortSignal | undefined }): Promise<WatchEnd>;
  /** Waits until the process exits by itself, up to timeoutMs, then stops it. */
  waitDetached(process: DetachedProcess, options: { timeoutMs: number; stop?: StopOptions }): Promise<DetachedOutcome>;
  stopDetached(process: DetachedProcess, options?: StopOptions): Promise<DetachedOutcome>;
  upload(content: Buffer | string, remotePath: string, options?: { mode?: number }): Promise<void>;
  download(remotePath: string): Promise<Buffer>;
  /** Stops every detached process this run started on the node and removes runDir. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}
