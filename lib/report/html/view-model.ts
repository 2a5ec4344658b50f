// The report's view model: everything the page shows, taken from one RunResult (plus the
// histograms read from its raw files and the comparable runs of the history). Pure, so that
// what the report says is tested without rendering a chart.
import type { CaseResult, NodeSystemInfo, RunResult, RunStatus, Status } from '../../results/model.ts';
import type { RegressionReport } from '../../results/regression-report.ts';
import { buildForwardingComparison } from '../comparison.ts';
import { collectAdvisoryFindings, collectCaseFindings, describeFinding, displayStatusOf, type AdvisoryFinding, type DisplayStatus } from '../findings.ts';
import { buildComparisonSection, hasBoundedDeltas, isForwardingComparison, type ComparisonSection } from './comparison-view.ts';
import { buildAnchorId } from './escape.ts';
import { findForwardingTables, type ForwardingTable } from './forwarding-view.ts';
import { chooseLatencyScale, findDetailHistograms, LOG_SCALE_RATIO, mergeBuckets, rebinBuckets, type HistogramBucket, type LatencyScale } from './histograms.ts';
import { findLatencyRows, isLatencySummary, type LatencyRow } from './latency-rows.ts';
import { buildTrendView, type TrendView } from './trends.ts';
import { isUnfinished } from '../../results/status.ts';
import { buildComputeRows, type ComputeRow } from './compute-view.ts';

/** Testcases by what the page shows: `advisory` counts failed advisory checks apart from passes. */
export type Counts = Record<Status, number> & { advisory?: number };

/** Thread histograms per case and node, read from the run folder's raw files. */
export type RawHistograms = Record<string, Record<string, { threads: Record<string, HistogramBucket[]>; source: string }>>;

export interface HistogramSeries {
  name: string;
  buckets: HistogramBucket[];
}

export interface HistogramChart {
  id: string;
  title: string;
  /** Logarithmic when the tail is long (see chooseLatencyScale); counts are always log. */
  scale: LatencyScale;
  /** Already merged into drawable bins, one binning for all series. */
  series: HistogramSeries[];
  /** Vertical lines, e.g. p99 and max, in microseconds. */
  markers: { name: string; x: number }[];
  /** e.g. samples beyond the histogram's range, which no bar shows. */
  notes: string[];
}

export interface CaseView {
  anchor: string;
  caseName: string;
  tier: string;
  status: Status;
  durationMs: number;
  reason: string | null;
  explanations: string[];
  /** `advisory` for a failed advisory check: its message is what was expected, found, and the fix. */
  testcases: { status: DisplayStatus; title: string; message: string | null }[];
  latency: LatencyRow[];
  histograms: HistogramChart[];
  forwarding: ForwardingTable[];
  rawOutputs: string[];
}

export interface RunSummaryView {
  runId: string;
  pod: string;
  lab: boolean;
  scenario: string;
  installer: string;
  buildTag: string;
  ciLoop: string;
  profile: string;
  status: RunStatus;
  exitCode: number;
  startedAt: string;
  stoppedAt: string;
  selection: string;
  durationS: number | null;
  caseCounts: Counts;
  testcaseCounts: Counts;
}

export interface RunView {
  summary: RunSummaryView;
  notes: string[];
  nodes: (NodeSystemInfo & { tools: Record<string, string> })[];
  cases: CaseView[];
  comparison: ComparisonSection | null;
  /** Failed advisory checks: passes in JUnit, findings on the page. */
  findings: AdvisoryFinding[];
  regression: RegressionReport | null;
  trends: TrendView;
  /** One row per compute group, when the run had several. */
  computes: ComputeRow[];
  /** What the report could not read (a raw file, the history), so a gap is never silent. */
  problems: string[];
}

export interface RunViewInput {
  run: RunResult;
  rawHistograms?: RawHistograms;
  /** Earlier runs of the results history; the comparable ones become trends. */
  history?: readonly RunResult[];
  problems?: readonly string[];
}

// Cases end pass, fail, error or skip; testcases are counted with their findings apart.
function countStatuses(statuses: readonly DisplayStatus[], options: { advisory: boolean }): Counts {
  const counts: Counts = { pass: 0, fail: 0, error: 0, skip: 0, ...(options.advisory ? { advisory: 0 } : {}) };
  for (const s of statuses) {
    if (s === 'advisory') counts.advisory = (counts.advisory ?? 0) + 1;
    else if (s in counts) counts[s] += 1;
  }
  return counts;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// p99 and max of a node's overall summary, as lines over its histogram.
function markersOf(detail: unknown): { markers: HistogramChart['markers']; overflows: number } {
  const summary = isObject(detail) && isObject(detail.overall) ? detail.overall.summary : undefined;
  if (!isLatencySummary(summary)) return { markers: [], overflows: 0 };
  const k = summary.unit === 'ns' ? 1e-3 : 1;
  const markers: HistogramChart['markers'] = [];
  if (summary.p99 !== null) markers.push({ name: 'p99', x: summary.p99 * k });
  if (summary.max !== null) markers.push({ name: summary.maxIsLowerBound ? 'max ≥' : 'max', x: summary.max * k });
  return { markers, overflows: summary.overflows };
}

function overflowNote(count: number): string[] {
  return count > 0 ? [`${count} sample${count === 1 ? '' : 's'} above the histogram's range: not drawn`] : [];
}

// Picks the latency scale over all series and merges their buckets into shared bins.
export function finishHistogram(chart: RawHistogramChart): HistogramChart {
  const all = chart.series.flatMap((s) => s.buckets);
  const scale = chooseLatencyScale(all);
  const series = chart.series.map((s) => ({ name: s.name, buckets: rebinBuckets(s.buckets, { scale, reference: all }) }));
  const merged = series.some((s, i) => s.buckets.length !== chart.series[i]?.buckets.length);
  const notes = [...chart.notes];
  if (scale === 'log') notes.push(`latency axis logarithmic: the highest latency is more than ${LOG_SCALE_RATIO} times the lowest`);
  if (merged) notes.push('buckets merged into wider bins for drawing; the table holds the exact figures');
  return { ...chart, scale, series, notes };
}

/** A chart before its scale and bins are chosen, so that two runs can share them. */
export type RawHistogramChart = Omit<HistogramChart, 'scale'>;

// Histograms kept in details come first; the raw files fill in the nodes that have none there.
export function collectCaseHistograms(c: CaseResult, raw: RawHistograms[string] | undefined): RawHistogramChart[] {
  const charts: RawHistogramChart[] = [];
  const groups = new Map<string, RawHistogramChart>();
  const all = findDetailHistograms(c.details);
  // The shallowest distributions of each group are the case's headline ones (a forwarding
  // entry's `latency`); deeper ones (per load, per direction, calibration) are left to details.
  const depth = new Map<string, number>();
  for (const f of all) depth.set(f.path[0] ?? '', Math.min(depth.get(f.path[0] ?? '') ?? Infinity, f.path.length));
  const skipped = new Map<string, number>();
  for (const found of all) {
    if (found.path.length > (depth.get(found.path[0] ?? '') ?? Infinity)) {
      skipped.set(found.path[0] ?? '', (skipped.get(found.path[0] ?? '') ?? 0) + 1);
      continue;
    }
    const group = found.path[0] ?? c.caseName;
    let chart = groups.get(group);
    if (!chart) {
      const { markers } = markersOf(c.details[group]);
      chart = { id: buildAnchorId('hist', c.caseName, group, String(charts.length)), title: `${c.caseName} · ${group}`, series: [], markers, notes: [] };
      groups.set(group, chart);
      charts.push(chart);
    }
    chart.series.push({ name: found.path.slice(1).join(' ') || group, buckets: found.buckets });
    chart.notes.push(...overflowNote(found.overflows).map((n) => `${found.path.slice(1).join(' ') || group}: ${n}`));
  }
  for (const [group, n] of skipped) groups.get(group)?.notes.push(`${n} more detailed distribution${n === 1 ? '' : 's'} (per load, direction or calibration) kept in results.json, not drawn`);
  for (const [node, entry] of Object.entries(raw ?? {})) {
    if (groups.has(node)) continue;
    const threads = Object.values(entry.threads);
    const { markers, overflows } = markersOf(c.details[node]);
    const name = threads.length === 1 ? 'thread 0' : `all ${threads.length} threads`;
    charts.push({
      id: buildAnchorId('hist', c.caseName, node, String(charts.length)),
      title: `${c.caseName} · ${node}`,
      series: [{ name, buckets: mergeBuckets(threads) }],
      markers,
      notes: [...overflowNote(overflows), `from ${entry.source}`],
    });
  }
  return charts;
}

// The charts of one case, each with its scale and bins chosen.
export function buildCaseHistograms(c: CaseResult, raw: RawHistograms[string] | undefined): HistogramChart[] {
  return collectCaseHistograms(c, raw).map(finishHistogram);
}

function buildCaseView(c: CaseResult, raw: RawHistograms[string] | undefined): CaseView {
  const findings = new Map(collectCaseFindings(c).map((f) => [f.title, f]));
  return {
    anchor: buildAnchorId('case', c.caseName),
    caseName: c.caseName,
    tier: c.tier,
    status: c.status,
    durationMs: c.durationMs,
    reason: c.reason ?? null,
    explanations: c.explanations ?? [],
    testcases: c.testcases.map((t) => {
      const finding = findings.get(t.title);
      return { status: displayStatusOf(t), title: t.title, message: finding ? describeFinding(finding) : (t.message ?? null) };
    }),
    latency: findLatencyRows(c.details),
    histograms: buildCaseHistograms(c, raw),
    forwarding: findForwardingTables(c.details),
    rawOutputs: c.rawOutputs,
  };
}

// The summary a reader checks first: what ran where, and how it ended.
export function buildRunSummary(run: RunResult): RunSummaryView {
  return {
    runId: run.runId,
    pod: run.pod.name,
    lab: run.pod.lab,
    scenario: run.environment.deployScenario,
    installer: run.environment.installerType,
    buildTag: run.environment.buildTag,
    ciLoop: run.environment.ciLoop,
    profile: run.thresholds.profile,
    status: run.status,
    exitCode: run.exitCode,
    startedAt: run.startedAt,
    stoppedAt: run.stoppedAt,
    selection: run.options.selection,
    durationS: run.options.durationS,
    caseCounts: countStatuses(run.cases.map((c) => c.status), { advisory: false }),
    testcaseCounts: countStatuses(run.cases.flatMap((c) => c.testcases.map(displayStatusOf)), { advisory: true }),
  };
}

// A forwarding comparison written before schema 1.2.0 signed its differences even against a
// lower bound: it is rebuilt from the run's own cases, which hold every figure it was made from.
function comparisonOf(run: RunResult): ComparisonSection | null {
  const stored: unknown = run.comparison;
  if (stored === undefined || stored === null) return null;
  if (isForwardingComparison(stored) && !hasBoundedDeltas(stored)) {
    const rebuilt = buildForwardingComparison(run);
    if (rebuilt) return buildComparisonSection(rebuilt, [`rebuilt from the cases: this results.json (schema ${run.schemaVersion}) predates bounded differences`]);
  }
  return buildComparisonSection(stored);
}

/** What a report says first about a run with no verdict. */
export const UNFINISHED_NOTE = 'this run never reached its verdict (status running: still running, or its harness was killed); the cases listed are those finished so far, and nothing here is a pass of the run';

// One call for the whole page, so the reporter and the `report` command show the same thing.
export function buildRunView(input: RunViewInput): RunView {
  const { run } = input;
  return {
    summary: buildRunSummary(run),
    notes: isUnfinished(run) ? [UNFINISHED_NOTE, ...run.notes] : run.notes,
    nodes: Object.entries(run.nodes).map(([name, n]) => ({ ...n, node: n.node ?? name, tools: run.tools[name] ?? {} })),
    cases: run.cases.map((c) => buildCaseView(c, input.rawHistograms?.[c.caseName])),
    comparison: comparisonOf(run),
    findings: collectAdvisoryFindings(run),
    regression: run.regression ?? null,
    trends: buildTrendView(run, input.history ?? []),
    computes: buildComputeRows(run),
    problems: [...(input.problems ?? [])],
  };
}
