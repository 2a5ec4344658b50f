// Reporters are views of the result model behind optional hooks, called through a
// multiplexer that isolates a broken reporter: one failing view never loses the others.
import type { CaseResult, RunResult } from '../results/model.ts';

export interface Reporter {
  readonly name: string;
  onBegin?(run: RunResult): Promise<void> | void;
  onCaseEnd?(result: CaseResult, run: RunResult): Promise<void> | void;
  onEnd?(run: RunResult): Promise<void> | void;
}

export interface ReporterFailure {
  reporter: string;
  hook: string;
  error: unknown;
}

export class ReporterMultiplexer {
  readonly failures: ReporterFailure[] = [];
  #reporters: readonly Reporter[];
  #log: (line: string) => void;

  constructor(reporters: readonly Reporter[], log: (line: string) => void) {
    this.#reporters = reporters;
    this.#log = log;
  }

  async onBegin(run: RunResult): Promise<void> {
    await this.#each('onBegin', (r) => r.onBegin?.(run));
  }

  async onCaseEnd(result: CaseResult, run: RunResult): Promise<void> {
    await this.#each('onCaseEnd', (r) => r.onCaseEnd?.(result, run));
  }

  async onEnd(run: RunResult): Promise<void> {
    await this.#each('onEnd', (r) => r.onEnd?.(run));
  }

  async #each(hook: string, call: (r: Reporter) => Promise<void> | void): Promise<void> {
    for (const reporter of this.#reporters) {
      try {
        await call(reporter);
      } catch (error) {
        this.failures.push({ reporter: reporter.name, hook, error });
        this.#log(`reporter ${reporter.name} failed in ${hook}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
