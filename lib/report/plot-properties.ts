// Properties files for the Jenkins Plot plugin: one file per key figure, holding
// `YVALUE=<number>` (jenkinsci/plot-plugin PropertiesSeries.loadSeries reads YVALUE and an
// optional URL with java.util.Properties). A Jenkins job points one plot series at
// `plots/timer_guest_max_us.properties` and gets that figure's trend across builds.
//
// The key figures are the testcases' `measurements`, the same ones junit.xml carries for the
// Measurement Plots plugin, named `<prefix>_<metric>_<unit>` (lib/cases/latency-figures.ts
// summaryMeasurements: the prefix is the node). The file is `plots/<case>_<measurement>.properties`.
import { join } from 'node:path';
import type { RunResult } from '../results/model.ts';
import type { Reporter } from './reporter.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

export interface PlotPropertiesFile {
  /** Relative to the run folder, e.g. `plots/timer_guest_max_us.properties`. */
  path: string;
  content: string;
  value: number;
}

export const PLOTS_DIR = 'plots';

// Jenkins job configs name these files, so a name must be stable and safe on any filesystem.
export function plotFileName(caseName: string, measurement: string): string {
  return `${`${caseName}_${measurement}`.replace(/[^A-Za-z0-9._-]/g, '_')}.properties`;
}

/**
 * Pure. Only finite numbers get a file (the plugin parses YVALUE as a number); when two
 * testcases of one case carry the same measurement name, the first wins, so a file always
 * means one figure. Skipped cases have nothing to plot and write nothing.
 */
export function buildPlotProperties(run: RunResult): PlotPropertiesFile[] {
  const files = new Map<string, PlotPropertiesFile>();
  for (const result of run.cases) {
    for (const testcase of result.testcases) {
      for (const [name, value] of Object.entries(testcase.measurements)) {
        if (!Number.isFinite(value)) continue;
        const path = `${PLOTS_DIR}/${plotFileName(result.caseName, name)}`;
        if (!files.has(path)) files.set(path, { path, value, content: `YVALUE=${formatYValue(value)}\n` });
      }
    }
  }
  return [...files.values()];
}

// java.lang.Double.parseDouble reads JS's shortest round-trip form, exponent included.
function formatYValue(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}

// Written at the end only: a trend point from a half-finished run would be a false point.
export function createPlotPropertiesReporter(runDir: string): Reporter {
  return {
    name: 'plot-properties',
    async onEnd(run) {
      for (const file of buildPlotProperties(run)) await writeFileAtomic(join(runDir, file.path), file.content);
    },
  };
}
