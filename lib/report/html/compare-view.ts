// `report RUN --vs OTHER`: this run beside a reference run. Unlike the regression gate it
// judges nothing: it lines up summaries, system differences, statuses, key figures and
// histograms, and says where the two runs are not alike. Whether two figures may be set
// against each other is the gate's own rule (decideComparability) on the figures' conditions;
// kernel, QEMU, pod and profile differences are stated as caveats. Pure: two runs in, a view out.
import { buildConditionKey, decideComparability } from '../../regression/comparability.ts';
import { FIGURE_EXTRACTORS, POD_WIDE, REGRESSION_METRICS, type RegressionFigure } from '../../regression/figures.ts';
import type { Delta, NoDelta } from '../../results/comparison.ts';
import type { RunResult } from '../../results/model.ts';
import { displayStatusOf, type DisplayStatus } from '../findings.ts';
import { buildAnchorId } from './escape.ts';
import { buildRunSummary, collectCaseHistograms, finishHistogram, type HistogramChart, type RawHistogramChart, type RawHistograms, type RunSummaryView } from './view-model.ts';

export interface ComparedFigureRow {
  label: string;
  unit: string;
  run: number | null;
  runBound: boolean;
  other: number | null;
  otherBound: boolean;
  /**
   * This run against the reference, in percent, as the shared comparability rule allows it:
   * signed when both are exact, one-sided against a bound, or not comparable with the reason
   * (both bounds, a figure missing, or measured with another forwarder, generator, accelerator).
   */
  change: Delta | NoDelta;
  /** True when this run is better, false when worse, null when equal or not known. */
  better: boolean | null;
}

export interface CompareView {
  run: RunSummaryView;
  other: RunSummaryView;
  /** Why the two runs may not be alike: pod, profile, duration, kernels, QEMU. */
  caveats: string[];
  systemRows: { node: string; field: string; run: string; other: string }[];
  caseRows: { caseName: string; run: DisplayStatus | null; other: DisplayStatus | null }[];
  /** Testcases that ended otherwise; a check that turned into an advisory finding is a change. */
  testcaseChanges: { caseName: string; title: string; run: DisplayStatus | null; other: DisplayStatus | null }[];
  figures: ComparedFigureRow[];
  histograms: HistogramChart[];
}

export interface CompareViewInput {
  run: RunResult;
  other: RunResult;
  runHistograms?: RawHistograms;
  otherHistograms?: RawHistograms;
}

function figureMap(run: RunResult): Map<string, RegressionFigure> {
  const figures = run.cases
    .filter((c) => c.status === 'pass' || c.status === 'fail')
    .flatMap((c) => FIGURE_EXTRACTORS[c.caseName]?.(c).figures ?? []);
  return new Map(figures.map((f) => [f.id, f]));
}

function scaled(f: RegressionFigure | undefined): { value: number | null; bound: boolean; unit: string } {
  if (!f) return { value: null, bound: false, unit: '' };
  const raw = f.value ?? f.atLeast ?? null;
  if (raw === null) return { value: null, bound: false, unit: f.unit };
  if (f.unit === 'ns') return { value: raw / 1000, bound: f.value === null, unit: 'us' };
  if (f.unit === 'pps') return { value: raw / 1e6, bound: f.value === null, unit: 'Mpps' };
  return { value: raw, bound: f.value === null, unit: f.unit };
}

const LABELS = { reference: 'the reference run', current: 'this run', either: 'either run' };

// Kernels, QEMU, pod and profile are the caveats above the table; the figure's own conditions decide.
function changeOf(f: RegressionFigure | undefined, ref: RegressionFigure | undefined): Delta | NoDelta {
  if (!f || !ref) return { kind: 'not-comparable', reason: `${f ? LABELS.reference : LABELS.current} has no such figure` };
  const decided = decideComparability({ current: f, reference: ref, currentKey: buildConditionKey(f), referenceKey: buildConditionKey(ref), options: { labels: LABELS } });
  if (!decided.comparable) return { kind: 'not-comparable', reason: decided.reason };
  return decided.delta.percent === null ? { kind: 'not-comparable', reason: 'the reference is 0' } : { ...decided.delta, value: decided.delta.percent };
}

// Better or worse only when the sign of the difference is known: exact, or a bound that excludes 0.
function betterOf(change: Delta | NoDelta, higherIsBetter: boolean): boolean | null {
  if (change.kind === 'not-comparable' || change.value === 0) return null;
  const higher = change.value > 0;
  if (change.kind === 'at-least' && !higher) return null;
  if (change.kind === 'at-most' && higher) return null;
  return higherIsBetter === higher;
}

// Key figures of both runs joined on the regression gate's stable figure ids.
export function compareFigures(run: RunResult, other: RunResult): ComparedFigureRow[] {
  const a = figureMap(run);
  const b = figureMap(other);
  const ids = [...new Set([...a.keys(), ...b.keys()])];
  return ids.map((id) => {
    const f = (a.get(id) ?? b.get(id)) as RegressionFigure;
    const x = scaled(a.get(id));
    const y = scaled(b.get(id));
    const change = changeOf(a.get(id), b.get(id));
    const where = f.node === POD_WIDE || f.where.startsWith(`${f.node} `) ? f.where : `${f.node} ${f.where}`;
    return { label: `${f.caseName}: ${where} ${f.metric}`, unit: x.unit || y.unit, run: x.value, runBound: x.bound, other: y.value, otherBound: y.bound, change, better: betterOf(change, REGRESSION_METRICS[f.metric].direction === 'higher-is-better') };
  });
}

function systemRows(run: RunResult, other: RunResult): CompareView['systemRows'] {
  const rows: CompareView['systemRows'] = [];
  for (const node of [...new Set([...Object.keys(run.nodes), ...Object.keys(other.nodes)])].sort()) {
    const a = run.nodes[node];
    const b = other.nodes[node];
    if (!a || !b) {
      rows.push({ node, field: 'node', run: a ? 'present' : 'absent', other: b ? 'present' : 'absent' });
      continue;
    }
    const fields: [string, unknown, unknown][] = [
      ['kernel', `${a.kernelRelease} ${a.kernelVersion}`, `${b.kernelRelease} ${b.kernelVersion}`],
      ['PREEMPT_RT', a.preemptRt, b.preemptRt],
      ['kind', a.kind, b.kind],
      ['QEMU', a.qemuVersion, b.qemuVersion],
      ['CPUs', a.cpus, b.cpus],
      ['kernel command line', a.cmdline, b.cmdline],
    ];
    for (const [field, x, y] of fields) if (String(x) !== String(y)) rows.push({ node, field, run: String(x ?? 'unknown'), other: String(y ?? 'unknown') });
  }
  return rows;
}

function caveatsOf(run: RunResult, other: RunResult, system: CompareView['systemRows']): string[] {
  const out: string[] = [];
  if (run.pod.name !== other.pod.name) out.push(`different pods: ${run.pod.name} and ${other.pod.name}`);
  if (run.thresholds.profile !== other.thresholds.profile) out.push(`different threshold profiles: ${run.thresholds.profile} and ${other.thresholds.profile}`);
  const duration = (s: number | null) => (s === null ? 'per case (catalogue)' : `${s} s`);
  if (run.options.durationS !== other.options.durationS) out.push(`different durations: ${duration(run.options.durationS)} and ${duration(other.options.durationS)}; max and percentiles over different lengths mislead`);
  const changed = [...new Set(system.filter((r) => r.field === 'kernel' || r.field === 'QEMU').map((r) => `${r.field} of ${r.node}`))];
  if (changed.length > 0) out.push(`the systems differ (${changed.join(', ')}): a difference in figures may come from them`);
  const oneSided = system.filter((r) => r.field === 'node').map((r) => r.node);
  if (oneSided.length > 0) out.push(`nodes recorded in one run only: ${oneSided.join(', ')}`);
  return out;
}

// Histograms of the same case and node drawn over each other, one series per run.
function overlayHistograms(input: CompareViewInput): HistogramChart[] {
  const charts = new Map<string, RawHistogramChart>();
  const add = (run: RunResult, raw: RawHistograms | undefined) => {
    for (const c of run.cases) {
      for (const h of collectCaseHistograms(c, raw?.[c.caseName])) {
        const chart = charts.get(h.title) ?? { id: buildAnchorId('vs', h.title, String(charts.size)), title: h.title, series: [], markers: [], notes: [] };
        chart.series.push(...h.series.map((s) => ({ name: `${run.runId}: ${s.name}`, buckets: s.buckets })));
        chart.notes.push(...h.notes.map((n) => `${run.runId}: ${n}`));
        charts.set(h.title, chart);
      }
    }
  };
  add(input.run, input.runHistograms);
  add(input.other, input.otherHistograms);
  return [...charts.values()].map(finishHistogram);
}

// One call for the whole comparison page, so tests read what the page will say.
export function buildCompareView(input: CompareViewInput): CompareView {
  const { run, other } = input;
  const system = systemRows(run, other);
  const status = (r: RunResult, name: string) => r.cases.find((c) => c.caseName === name)?.status ?? null;
  const caseNames = [...new Set([...run.cases, ...other.cases].map((c) => c.caseName))];
  const testcaseChanges: CompareView['testcaseChanges'] = [];
  for (const caseName of caseNames) {
    const a = run.cases.find((c) => c.caseName === caseName)?.testcases ?? [];
    const b = other.cases.find((c) => c.caseName === caseName)?.testcases ?? [];
    for (const title of [...new Set([...a, ...b].map((t) => t.title))]) {
      const x = a.find((t) => t.title === title);
      const y = b.find((t) => t.title === title);
      const [sx, sy] = [x ? displayStatusOf(x) : null, y ? displayStatusOf(y) : null];
      if (sx !== sy) testcaseChanges.push({ caseName, title, run: sx, other: sy });
    }
  }
  return {
    run: buildRunSummary(run),
    other: buildRunSummary(other),
    caveats: caveatsOf(run, other, system),
    systemRows: system,
    caseRows: caseNames.map((caseName) => ({ caseName, run: status(run, caseName), other: status(other, caseName) })),
    testcaseChanges,
    figures: compareFigures(run, other),
    histograms: overlayHistograms(input),
  };
}
