// results.json is the machine-readable record of a run; it is rewritten after every case
// so that nothing measured is lost when a later case, or the harness, dies.
import { join } from 'node:path';
import type { RunResult } from '../results/model.ts';
import type { Reporter } from './reporter.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

export function serializeRunResult(run: RunResult): string {
  return `${JSON.stringify(run, null, 2)}\n`;
}

export function createResultsJsonReporter(runDir: string): Reporter {
  const write = (run: RunResult) => writeFileAtomic(join(runDir, 'results.json'), serializeRunResult(run));
  return { name: 'results.json', onBegin: write, onCaseEnd: (_c, run) => write(run), onEnd: write };
}
