// `kvmfornfv-test report RUN [--vs OTHER]`: writes a run's report.html again (after an
// upgrade, or when the run's own reporter failed), or a page comparing two runs. RUN is a run
// id under --results, a run folder or a results.json; anything else is bad input (exit 2).
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { HISTORY_FILE, loadRunResult } from '../regression/history.ts';
import { writeCompareReport, writeRunReport } from '../report/html/build-report.ts';
import type { RunResult } from '../results/model.ts';
import { EXIT } from '../results/exit-codes.ts';

export interface ReportCommandOptions {
  run: string;
  vs?: string;
  /** The results root that run ids are looked up in; default `results`. */
  results?: string;
  /** Where the written path is printed; default stdout. */
  out?: (line: string) => void;
  /** For stable pages in tests. */
  now?: () => Date;
}

interface LocatedRun {
  run: RunResult;
  runDir: string;
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

// Tried in order: a results.json path, a run folder, a run id under the results root.
export async function locateRun(spec: string, resultsRoot: string, option: string): Promise<LocatedRun> {
  const candidates = [spec, join(spec, 'results.json'), join(resultsRoot, spec, 'results.json')];
  for (const candidate of candidates) {
    if ((await kindOf(candidate)) === 'file') {
      const run = await loadRunResult(candidate);
      return { run, runDir: dirname(resolve(candidate)) };
    }
  }
  throw new ConfigError(option, [{
    path: spec,
    message: `expected a run id (a folder under ${resultsRoot} holding results.json), a run folder or a results.json; found none of ${candidates.join(', ')}`,
  }]);
}

// The history that trends read sits beside the run folders; prefer the run's own parent.
async function resultsRootFor(runDir: string, fallback: string): Promise<string> {
  const parent = dirname(runDir);
  return (await kindOf(join(parent, HISTORY_FILE))) === 'file' ? parent : fallback;
}

// Prints the path of the page written and returns exit code 0; bad RUN throws ConfigError.
export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  const resultsRoot = options.results ?? 'results';
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const generatedAt = (options.now?.() ?? new Date()).toISOString();
  const subject = await locateRun(options.run, resultsRoot, 'RUN');
  if (options.vs === undefined) {
    const path = await writeRunReport({ run: subject.run, runDir: subject.runDir, resultsRoot: await resultsRootFor(subject.runDir, resultsRoot), generatedAt });
    out(path);
    return EXIT.ok;
  }
  const other = await locateRun(options.vs, resultsRoot, '--vs');
  if (resolve(other.runDir) === resolve(subject.runDir)) {
    throw new ConfigError('--vs', [{ path: options.vs, message: `expected another run than RUN, got the same folder ${basename(subject.runDir)}` }]);
  }
  const path = await writeCompareReport({ run: subject.run, runDir: subject.runDir, other: other.run, otherDir: other.runDir, generatedAt });
  out(path);
  return EXIT.ok;
}
