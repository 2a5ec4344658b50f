// Setup paired with teardown, registered before the setup runs, so that a setup that
// throws halfway, a failed case, Ctrl-C and a Jenkins abort all undo the same steps.

export interface CleanupStep {
  label: string;
  run: () => Promise<void> | void;
}

export interface CleanupReport {
  label: string;
  ok: boolean;
  error?: string;
  durationMs: number;
}

export class CleanupStack {
  #steps: CleanupStep[] = [];
  #log: (line: string) => void;
  #stepTimeoutMs: number;

  constructor(options: { log?: (line: string) => void; stepTimeoutMs?: number } = {}) {
    this.#log = options.log ?? (() => {});
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  }

  /** Registers an undo step; returns a function that removes it once the undo is no longer needed. */
  push(label: string, run: CleanupStep['run']): () => void {
    const step = { label, run };
    this.#steps.push(step);
    return () => {
      this.#steps = this.#steps.filter((s) => s !== step);
    };
  }

  get size(): number {
    return this.#steps.length;
  }

  /** Runs every step, newest first; a failing or hanging step never stops the others. */
  async unwind(): Promise<CleanupReport[]> {
    const reports: CleanupReport[] = [];
    while (this.#steps.length > 0) {
      const step = this.#steps.pop() as CleanupStep;
      const started = Date.now();
      try {
        await withTimeout(Promise.resolve().then(step.run), this.#stepTimeoutMs, step.label);
        reports.push({ label: step.label, ok: true, durationMs: Date.now() - started });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#log(`cleanup: ${step.label} failed: ${message}`);
        reports.push({ label: step.label, ok: false, error: message, durationMs: Date.now() - started });
      }
    }
    return reports;
  }
}

// A cleanup step that hangs must not hang the run: it is reported and the rest go on.
async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
