// Headless Chromium (Debian 12 package `chromium`) driven over the DevTools protocol with
// Node's built-in WebSocket: opens a page, collects console errors, exceptions and every
// request the page made, evaluates expressions in it and takes a full-page screenshot.
// Each call starts its own browser with a fresh profile and ends it, by its process group.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/chromium'];

// Debian's wrapper script; the tests skip (or fail under CI) without it.
export function findChromium(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * For a suite's `before`: skips the suite when Chromium is absent, or fails it under CI, where
 * `npm test` installs the package and its absence is a broken machine, not a reason to skip.
 */
export function requireChromium(suite: { skip(): void }): void {
  if (findChromium()) return;
  if (process.env.CI) throw new Error('chromium is not installed: CI must install the Debian package chromium (scripts/run-tests.ts TEST_PACKAGES)');
  console.log('    skipped: /usr/bin/chromium is absent (apt-get install -y chromium); with CI=true this fails instead');
  suite.skip();
}

/** The flags of the project's brief: no sandbox (root), no GPU, no traffic of its own. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PageVisit {
  /** console.error / console.assert calls, uncaught exceptions and error log entries. */
  errors: string[];
  /** Every URL the page requested, the page itself included. */
  requests: string[];
  /** Results of `evaluate`, by expression. */
  values: Record<string, unknown>;
  /** Full-page PNG, when a screenshot path was given. */
  screenshot?: string;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

function waitForDevToolsUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools URL in ${timeoutMs} ms: ${seen.slice(-500)}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited with ${code} before DevTools was ready: ${seen.slice(-500)}`));
    });
  });
}

class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #listeners: ((method: string, params: Record<string, unknown>, sessionId?: string) => void)[] = [];

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (event) => {
      const msg = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    });
    // A browser that closes answers nothing more: every call still waiting fails at once.
    ws.addEventListener('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the DevTools connection closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new Cdp(ws);
  }

  on(listener: (method: string, params: Record<string, unknown>, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withTimeout(new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject })), timeoutMs, `DevTools ${method}`);
  }

  close(): void {
    this.#ws.close();
  }
}

function describeConsole(params: Record<string, unknown>): string {
  const args = (params.args as { value?: unknown; description?: string }[] | undefined) ?? [];
  return `console.${String(params.type)}: ${args.map((a) => String(a.value ?? a.description ?? '')).join(' ')}`;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens `url` in a new headless Chromium, waits for the load event, evaluates each expression
 * (returned by value) and optionally writes a full-page screenshot. Bounded by `timeoutMs`.
 */
export async function visitPage(url: string, options: { evaluate?: string[]; screenshot?: string; width?: number; timeoutMs?: number } = {}): Promise<PageVisit> {
  const binary = findChromium();
  if (!binary) throw new Error('chromium is not installed (Debian package chromium)');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const profile = await mkdtemp(join(tmpdir(), 'kfn-chromium-'));
  const child = spawn(binary, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', `--window-size=${options.width ?? 1300},900`, 'about:blank'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let cdp: Cdp | undefined;
  try {
    cdp = await Cdp.connect(await waitForDevToolsUrl(child, timeoutMs));
    const visit: PageVisit = { errors: [], requests: [], values: {} };
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    cdp.on((method, params, sid) => {
      if (sid !== sessionId) return;
      if (method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(String(params.type))) visit.errors.push(describeConsole(params));
      if (method === 'Runtime.exceptionThrown') {
        const d = params.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
        visit.errors.push(`exception: ${d?.exception?.description ?? d?.text}`);
      }
      if (method === 'Log.entryAdded' && (params.entry as { level?: string })?.level === 'error') visit.errors.push(`log: ${(params.entry as { text?: string }).text}`);
      if (method === 'Network.requestWillBeSent') visit.requests.push(String((params.request as { url?: string })?.url));
      if (method === 'Page.loadEventFired') loaded();
    });
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await cdp.send(`${domain}.enable`, {}, sessionId);
    await cdp.send('Page.navigate', { url }, sessionId);
    await withTimeout(load, timeoutMs, `loading ${url}`);
    for (const expression of options.evaluate ?? []) {
      const r = (await cdp.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value?: unknown }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(`evaluating ${expression}: ${r.exceptionDetails.text}`);
      visit.values[expression] = r.result.value;
    }
    if (options.screenshot) {
      const metrics = (await cdp.send('Page.getLayoutMetrics', {}, sessionId)) as { cssContentSize: { width: number; height: number } };
      const clip = { x: 0, y: 0, width: Math.ceil(metrics.cssContentSize.width), height: Math.ceil(metrics.cssContentSize.height), scale: 1 };
      const shot = (await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip }, sessionId)) as { data: string };
      await writeFile(options.screenshot, Buffer.from(shot.data, 'base64'));
      visit.screenshot = options.screenshot;
    }
    // The browser may close before it answers: the exit below is what is waited for.
    void cdp.send('Browser.close', {}, undefined, 5000).catch(() => undefined);
    return visit;
  } finally {
    cdp?.close();
    // Only the browser started here: its own process group, by its id.
    const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!ended && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    await rm(profile, { recursive: true, force: true });
  }
}
