// One command on one ssh2 exec channel: stdin, binary-safe output, exit status and a
// timeout that closes the channel; or a channel held open until the processes that inherited
// its output exit. What to kill on the node is the caller's decision.
import type { Client, ClientChannel } from 'ssh2';

export interface ChannelRun {
  exitCode: number | null;
  /** `SIGKILL` style, when the remote shell itself died of a signal. */
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  timedOut: boolean;
  /** Set when the channel could not be opened or the connection died before an exit status. */
  transportError: Error | undefined;
}

export interface ChannelRunOptions {
  input?: Buffer | string;
  timeoutMs: number;
  /** Called once when the timeout fires, before the channel is closed; awaited. Gets stderr so far. */
  onTimeout?: (stderrSoFar: Buffer) => Promise<void>;
  /** Milliseconds to wait for the channel to close after a timeout before giving up on it. */
  closeGraceMs?: number;
  now?: () => number;
}

/** What one channel produced: output so far, and the exit status once it came. */
class ChannelOutput {
  readonly stdout: Buffer[] = [];
  readonly stderr: Buffer[] = [];
  exitCode: number | null = null;
  signal: string | null = null;
  sawExit = false;
  timedOut = false;
  readonly #began: number;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
    this.#began = now();
  }

  /** Wires the channel's streams here; `on` hears of output, the exit status, errors and the close. */
  attach(channel: ClientChannel, input: Buffer | string | undefined, on: { data?: () => void; exit?: () => void; error: (e: Error) => void; close: () => void }): void {
    channel.on('data', (chunk: Buffer) => {
      this.stdout.push(chunk);
      on.data?.();
    });
    channel.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    channel.on('exit', (code: number | null, sig?: string) => {
      this.sawExit = true;
      this.exitCode = typeof code === 'number' ? code : null;
      this.signal = sig ? `SIG${sig.replace(/^SIG/, '')}` : null;
      on.exit?.();
    });
    channel.on('error', on.error);
    channel.on('close', on.close);
    // Always send EOF, so that a command reading stdin (cat) does not wait forever.
    if (input !== undefined && input.length > 0) channel.end(input);
    else channel.end();
  }

  toRun(transportError: Error | undefined): ChannelRun {
    const lost = !this.sawExit && !this.timedOut && !transportError;
    return {
      exitCode: this.exitCode,
      signal: this.signal,
      stdout: Buffer.concat(this.stdout),
      stderr: Buffer.concat(this.stderr),
      durationMs: this.#now() - this.#began,
      timedOut: this.timedOut,
      transportError: transportError ?? (lost ? new Error('connection closed before the command reported an exit status') : undefined),
    };
  }
}

function closeQuietly(channel: ClientChannel | undefined): void {
  try {
    channel?.close();
  } catch {
    // The channel may already be gone with its connection.
  }
}

// Run one shell string and collect everything it produced; never throws.
export function runOnChannel(client: Client, shellString: string, options: ChannelRunOptions): Promise<ChannelRun> {
  const out = new ChannelOutput(options.now ?? Date.now);
  return new Promise((resolve) => {
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let open: ClientChannel | undefined;

    const finish = (transportError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve(out.toRun(transportError));
    };

    const timer = setTimeout(() => {
      out.timedOut = true;
      const channel = open;
      if (!channel) return finish(new Error(`no exec channel opened within ${options.timeoutMs} ms`));
      const kill = options.onTimeout ? options.onTimeout(Buffer.concat(out.stderr)).catch(() => undefined) : Promise.resolve();
      void kill.then(() => {
        closeQuietly(channel);
        graceTimer = setTimeout(() => finish(), options.closeGraceMs ?? 2000);
      });
    }, options.timeoutMs);

    const onChannel = (err: Error | undefined, channel: ClientChannel) => {
      if (err) return finish(err);
      if (settled) return closeQuietly(channel);
      open = channel;
      out.attach(channel, options.input, { error: (e) => finish(e), close: () => finish() });
    };

    try {
      client.exec(shellString, onChannel);
    } catch (e) {
      finish(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

export interface HoldOptions {
  input?: Buffer | string;
  /** How long the remote shell may take to exit; then onStartTimeout runs and the channel is closed. */
  startTimeoutMs: number;
  /** Called once when the start times out, before the channel is closed; awaited. Gets stderr so far. */
  onStartTimeout?: (stderrSoFar: Buffer) => Promise<void>;
  /** True once the shell's stdout holds all it prints (output may trail its exit status). */
  isStarted?: (stdout: Buffer) => boolean;
  now?: () => number;
}

export interface HeldChannel {
  /** The remote shell's exit status and output; resolves once it exited, never rejects. */
  started: Promise<ChannelRun>;
  /**
   * Resolves when the channel closes: every process that inherited its output has exited
   * (`lost` false), or the connection died first (`lost` true).
   */
  closed: Promise<{ lost: boolean }>;
  /** Stops holding the channel: closes it from this side (`closed` then says not lost). */
  release(): void;
}

/**
 * Run a shell string whose exit is not the end: sshd sends the exit status when the shell exits,
 * but closes the channel only when every process holding the channel's stdout has closed it
 * (OpenSSH session.c, session_exit_message). A detached process given that descriptor makes
 * the channel close exactly when it exits, with nothing polling on the node in between.
 */
export function holdOnChannel(client: Client, shellString: string, options: HoldOptions): HeldChannel {
  const out = new ChannelOutput(options.now ?? Date.now);
  let channel: ClientChannel | undefined;
  let connectionClosed = false;
  let released = false;
  let startSettled = false;
  let trailTimer: NodeJS.Timeout | undefined;
  let resolveStarted: (run: ChannelRun) => void = () => undefined;
  let resolveClosed: (end: { lost: boolean }) => void = () => undefined;
  const started = new Promise<ChannelRun>((r) => (resolveStarted = r));
  const closed = new Promise<{ lost: boolean }>((r) => (resolveClosed = r));

  const settleStart = (transportError?: Error) => {
    if (startSettled) return;
    startSettled = true;
    clearTimeout(startTimer);
    clearTimeout(trailTimer);
    resolveStarted(out.toRun(transportError));
  };
  const onConnectionClose = () => {
    connectionClosed = true;
  };
  // ssh2 emits the client's close before it closes the channels of a dead connection.
  client.once('close', onConnectionClose);
  const finish = (transportError?: Error) => {
    settleStart(transportError);
    client.removeListener('close', onConnectionClose);
    resolveClosed({ lost: !released && (connectionClosed || transportError !== undefined) });
  };
  const checkStarted = () => {
    if (!out.sawExit || startSettled) return;
    if (out.exitCode === 0 && (options.isStarted?.(Buffer.concat(out.stdout)) ?? true)) settleStart();
  };

  const startTimer = setTimeout(() => {
    out.timedOut = true;
    if (!channel) return finish(new Error(`no exec channel opened within ${options.startTimeoutMs} ms`));
    const kill = options.onStartTimeout ? options.onStartTimeout(Buffer.concat(out.stderr)).catch(() => undefined) : Promise.resolve();
    void kill.then(() => {
      settleStart();
      closeQuietly(channel);
    });
  }, options.startTimeoutMs);

  const onChannel = (err: Error | undefined, ch: ClientChannel) => {
    if (err) return finish(err);
    channel = ch;
    if (released || startSettled) closeQuietly(ch);
    out.attach(ch, options.input, {
      data: checkStarted,
      exit: () => {
        checkStarted();
        // A failed start may still be printing its reason: give its stderr a moment.
        if (!startSettled) trailTimer = setTimeout(() => settleStart(), 1000);
      },
      error: (e) => finish(e),
      close: () => finish(),
    });
  };

  try {
    client.exec(shellString, onChannel);
  } catch (e) {
    finish(e instanceof Error ? e : new Error(String(e)));
  }
  return {
    started,
    closed,
    release() {
      released = true;
      closeQuietly(channel);
      if (!channel) finish();
    },
  };
}
