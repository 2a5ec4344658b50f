// One command on one ssh2 exec channel: stdin, binary-safe output, exit status and a
// timeout that closes the channel. What to kill on the node is the caller's decision.
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

// Run one shell string and collect everything it produced; never throws.
export function runOnChannel(client: Client, shellString: string, options: ChannelRunOptions): Promise<ChannelRun> {
  const now = options.now ?? Date.now;
  const started = now();
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let exitCode: number | null = null;
    let signal: string | null = null;
    let sawExit = false;
    let timedOut = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (transportError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      const lost = !sawExit && !timedOut && !transportError;
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr),
        durationMs: now() - started,
        timedOut,
        transportError: transportError ?? (lost ? new Error('connection closed before the command reported an exit status') : undefined),
      });
    };

    let open: ClientChannel | undefined;
    timer = setTimeout(() => {
      timedOut = true;
      const channel = open;
      if (!channel) return finish(new Error(`no exec channel opened within ${options.timeoutMs} ms`));
      const kill = options.onTimeout ? options.onTimeout(Buffer.concat(stderr)).catch(() => undefined) : Promise.resolve();
      void kill.then(() => {
        try {
          channel.close();
        } catch {
          // The channel may already be gone with its connection; the grace timer resolves.
        }
        graceTimer = setTimeout(() => finish(), options.closeGraceMs ?? 2000);
      });
    }, options.timeoutMs);

    const onChannel = (err: Error | undefined, channel: ClientChannel) => {
      if (err) return finish(err);
      if (settled) {
        channel.close();
        return;
      }
      open = channel;
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('exit', (code: number | null, sig?: string) => {
        sawExit = true;
        exitCode = typeof code === 'number' ? code : null;
        signal = sig ? `SIG${sig.replace(/^SIG/, '')}` : null;
      });
      channel.on('error', (e: Error) => finish(e));
      channel.on('close', () => finish());
      // Always send EOF, so that a command reading stdin (cat) does not wait forever.
      if (options.input !== undefined && options.input.length > 0) channel.end(options.input);
      else channel.end();
    };

    try {
      client.exec(shellString, onChannel);
    } catch (e) {
      finish(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
