// One node's SSH connection over a whole run: opened on first use, opened again after it is
// lost, and the rule for how long an idempotent step keeps trying (the reconnect window,
// counted from the loss). Closed once, for good.
import type { Client } from 'ssh2';
import type { PodNode } from '../config/pod-model.ts';
import { SshConnectError } from './errors.ts';
import { openConnection, type ConnectSettings, type Connection } from './ssh-connect.ts';

export class ReconnectingLink {
  readonly #node: PodNode;
  readonly #settings: ConnectSettings;
  readonly #windowMs: number;
  #conn: Connection | undefined;
  #connecting: Promise<Connection> | undefined;
  #hostKeys: { target: Buffer | undefined; jump: Buffer | undefined } = { target: undefined, jump: undefined };
  #everConnected = false;
  #closed = false;
  /** Set when a reconnect window ran out; cleared by the next connection that works. */
  #givenUp = false;
  /** When the connection was lost, while no new one has worked yet. */
  #lostSince: number | undefined;

  constructor(node: PodNode, settings: ConnectSettings, windowMs: number) {
    this.#node = node;
    this.#settings = settings;
    this.#windowMs = windowMs;
  }

  get everConnected(): boolean {
    return this.#everConnected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The live client, connecting (again) when there is none. */
  async client(): Promise<Client> {
    if (this.#closed) throw new SshConnectError(this.#node.name, `the session to node ${this.#node.name} is closed`);
    if (this.#conn) return this.#conn.client;
    if (!this.#connecting) {
      const again = this.#everConnected;
      this.#connecting = openConnection(this.#node, this.#settings, this.#hostKeys)
        .then((conn) => this.#adopt(conn, again))
        .finally(() => {
          this.#connecting = undefined;
        });
    }
    return (await this.#connecting).client;
  }

  // Repeat an idempotent operation across reconnects until it works or the window (counted
  // from the loss of the connection) closes.
  async retrying<T>(what: string, fn: () => Promise<T>, deadline?: number): Promise<T> {
    // A node already given up on gets one try per operation, so a dead node ends a run in bounded time.
    const until = this.#givenUp ? 0 : (deadline ?? (this.#lostSince ?? Date.now()) + this.#windowMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof SshConnectError) || !e.retryable || this.#closed) throw e;
        if (Date.now() >= until) {
          if (!this.#givenUp) this.#log(`${what}: still unreachable after the ${Math.round(this.#windowMs / 1000)} s reconnect window; giving up on it until a connection works again`);
          this.#givenUp = true;
          throw e;
        }
        this.#log(`${what}: ${e.message}; retrying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 5_000, Math.max(0, until - Date.now()))));
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const conn = this.#conn ?? (await this.#connecting?.catch(() => undefined));
    this.#conn = undefined;
    if (!conn) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      conn.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      conn.end();
    });
  }

  #adopt(conn: Connection, again: boolean): Connection {
    this.#conn = conn;
    this.#everConnected = true;
    this.#givenUp = false;
    this.#lostSince = undefined;
    this.#hostKeys = conn.hostKeys;
    conn.client.on('close', () => {
      if (this.#conn !== conn) return;
      this.#conn = undefined;
      if (this.#closed) return;
      this.#lostSince ??= Date.now();
      this.#log('connection closed');
    });
    conn.client.on('error', (e: Error) => this.#log(`connection error: ${e.message}`));
    const { user, ip, sshPort } = this.#node;
    const via = this.#node.jumpHost ? ` via ${this.#node.jumpHost.ip}` : '';
    this.#log(`${again ? 'reconnected' : 'connected'} to ${user}@${ip}:${sshPort}${via}`);
    return conn;
  }

  #log(line: string): void {
    this.#settings.log(`[${this.#node.name}] ${line}`);
  }
}
