// report.html for every run, written when the run ends. The multiplexer isolates and logs a
// failure here; inputs that cannot be read (raw files, history) only add notes to the page.
import type { Reporter } from '../reporter.ts';
import { writeRunReport } from './build-report.ts';

export interface HtmlReporterOptions {
  /** The results root holding history.jsonl, for trends. */
  resultsRoot?: string;
  /** For stable pages in tests. */
  now?: () => Date;
}

// Place it after the push-settling reporter, so the page shows the final exit code.
export function createHtmlReporter(runDir: string, options: HtmlReporterOptions = {}): Reporter & { lastWritten?: string } {
  const reporter: Reporter & { lastWritten?: string } = {
    name: 'report.html',
    async onEnd(run) {
      const input = { run, runDir, generatedAt: (options.now?.() ?? new Date()).toISOString() };
      reporter.lastWritten = await writeRunReport(options.resultsRoot === undefined ? input : { ...input, resultsRoot: options.resultsRoot });
    },
  };
  return reporter;
}
