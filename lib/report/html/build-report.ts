// The two reports end to end: read what the page needs beside results.json, build the view,
// render the charts, fill the page. Shared by the run's reporter and the `report` command.
import { join } from 'node:path';
import type { RunResult } from '../../results/model.ts';
import { writeFileAtomic } from '../write-file-atomic.ts';
import { buildCompareView } from './compare-view.ts';
import { collectCompareChartSpecs, renderComparePage } from './compare-page.ts';
import { loadHistoryRuns, readRawHistograms } from './load-inputs.ts';
import { renderCharts } from './render-charts.ts';
import { collectRunChartSpecs, renderRunPage } from './run-page.ts';
import { buildRunView } from './view-model.ts';

/** Beside results.json and junit.xml in the run folder, so Jenkins archives it with them. */
export const REPORT_FILE = 'report.html';

export interface RunReportInput {
  run: RunResult;
  /** The run's folder: raw outputs are read from here, and the report is written here. */
  runDir: string;
  /** Where history.jsonl lives; without it the report has no trends. */
  resultsRoot?: string;
  /** Injected for stable pages in tests; default now. */
  generatedAt?: string;
}

// Every input problem lands in the page's notes rather than failing the report.
export async function buildRunReportHtml(input: RunReportInput): Promise<string> {
  const raw = await readRawHistograms(input.run, input.runDir);
  const history = input.resultsRoot ? await loadHistoryRuns(input.resultsRoot, input.run) : { runs: [], problems: [] };
  const view = buildRunView({ run: input.run, rawHistograms: raw.histograms, history: history.runs, problems: [...raw.problems, ...history.problems] });
  const charts = await renderCharts(collectRunChartSpecs(view));
  for (const [id, reason] of charts.failures) view.problems.push(`chart ${id} not drawn: ${reason}`);
  return renderRunPage(view, charts, { generatedAt: input.generatedAt ?? new Date().toISOString(), linkRawOutputs: true });
}

// Returns the path written: `<runDir>/report.html`.
export async function writeRunReport(input: RunReportInput): Promise<string> {
  const path = join(input.runDir, REPORT_FILE);
  await writeFileAtomic(path, await buildRunReportHtml(input));
  return path;
}

export interface CompareReportInput {
  run: RunResult;
  runDir: string;
  other: RunResult;
  otherDir: string;
  generatedAt?: string;
}

// Written into this run's folder as `report-vs-<other run id>.html`.
export function compareReportFile(otherRunId: string): string {
  return `report-vs-${otherRunId.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
}

// Both runs' raw histograms are read; a missing one becomes a caveat on the page.
export async function buildCompareReportHtml(input: CompareReportInput): Promise<string> {
  const a = await readRawHistograms(input.run, input.runDir);
  const b = await readRawHistograms(input.other, input.otherDir);
  const view = buildCompareView({ run: input.run, other: input.other, runHistograms: a.histograms, otherHistograms: b.histograms });
  view.caveats.push(...a.problems.map((p) => `${input.run.runId}: ${p}`), ...b.problems.map((p) => `${input.other.runId}: ${p}`));
  const charts = await renderCharts(collectCompareChartSpecs(view));
  return renderComparePage(view, charts, { generatedAt: input.generatedAt ?? new Date().toISOString() });
}

// Returns the path written, for the `report` command to print.
export async function writeCompareReport(input: CompareReportInput): Promise<string> {
  const path = join(input.runDir, compareReportFile(input.other.runId));
  await writeFileAtomic(path, await buildCompareReportHtml(input));
  return path;
}
