// Compares this run's figures with a baseline run's, separate from absolute thresholds:
// a figure that got worse by more than its margin is a regression. Pure: runs in, report out.
// Every figure of the run ends in exactly one list, compared or not compared with a reason.
import type { CaseResult, RunResult } from '../results/model.ts';
import { convert, formatValue } from '../verdict/units.ts';
import { buildComparabilityKey, compareKeys, relevantNodes } from './comparability.ts';
import { FIGURE_EXTRACTORS, REGRESSION_METRICS, type FigureExtractor, type RegressionFigure, type RegressionMetric } from './figures.ts';
import { parseRegressionPolicy, type MetricRule, type RegressionPolicy } from './policy.ts';

export interface ComparedFigure {
  id: string;
  caseName: string;
  node: string;
  where: string;
  metric: RegressionMetric;
  unit: string;
  baseline: number;
  current: number;
  delta: number;
  /** Null when the baseline is 0. */
  deltaPercent: number | null;
  /** True when a value is a bound (overflowed histogram) and the verdict holds for any true value. */
  fromBound: boolean;
  marginPercent: number;
  action: 'assert' | 'monitor';
  /** monitor on the lab pod whatever the profile says. */
  effectiveAction: 'assert' | 'monitor';
  verdict: 'pass' | 'regression';
  message: string;
  /** The conditions that matched, so the comparison says what it compared. */
  comparedOn: string;
  /** Differences compared anyway because regression.compare_across allows it. */
  waived: string[];
}

export type NotComparedKind = 'new' | 'not-comparable' | 'unavailable';

export interface NotComparedFigure {
  id: string;
  caseName: string;
  node: string;
  where: string;
  metric: RegressionMetric;
  kind: NotComparedKind;
  reason: string;
}

export interface RegressionReport {
  baseline: { runId: string; startedAt: string; pod: string } | null;
  /** True on the lab pod: regressions are reported and never fail the run. */
  monitorOnly: boolean;
  compared: ComparedFigure[];
  notCompared: NotComparedFigure[];
  /** Cases skipped as a whole and details that could not be read. */
  notes: string[];
  regressions: number;
  /** An assert regression on a pod where regressions gate: the CLI's exit code 71. */
  failing: boolean;
  summary: string;
}

export interface EvaluateRegressionInput {
  current: RunResult;
  baseline: RunResult | undefined;
  /** profile.sections.regression as loaded, or undefined for the defaults. */
  profileSection: unknown;
  /** For ConfigError messages; defaults to the run's threshold file. */
  profileFile?: string;
  /** Defaults to current.pod.lab. */
  isLab?: boolean;
  extractors?: Readonly<Record<string, FigureExtractor>>;
}

type Judged = { verdict: 'pass' | 'regression'; fromBound: boolean; b: number; c: number } | { unavailable: string };

// Exact values compare directly; a lower bound decides only when any true value gives the same verdict.
function judge(f: RegressionFigure, b: RegressionFigure, rule: MetricRule, unit: string): Judged {
  const bValue = b.value === null ? null : convert(b.value, b.unit, unit);
  const bBound = b.atLeast === undefined ? undefined : convert(b.atLeast, b.unit, unit);
  if (REGRESSION_METRICS[f.metric].direction === 'higher-is-better') {
    if (f.value === null) return { unavailable: `this run has no ${f.metric}: ${f.note ?? 'not measured'}` };
    if (bValue === null) return { unavailable: `the baseline has no ${f.metric}: ${b.note ?? 'not measured'}` };
    // Scaled by 100 rather than divided, so that exactly 90 % of 10 Mpps is exactly the bound.
    return { verdict: f.value * 100 < bValue * (100 - rule.marginPercent) ? 'regression' : 'pass', fromBound: false, b: bValue, c: f.value };
  }
  const minDelta = rule.minDeltaUs === 0 ? 0 : convert(rule.minDeltaUs, 'us', unit);
  const worse = (c: number, base: number) => c * 100 > base * (100 + rule.marginPercent) && c - base > minDelta;
  if (f.value !== null && bValue !== null) return { verdict: worse(f.value, bValue) ? 'regression' : 'pass', fromBound: false, b: bValue, c: f.value };
  if (f.value === null && f.atLeast !== undefined && bValue !== null && worse(f.atLeast, bValue)) {
    return { verdict: 'regression', fromBound: true, b: bValue, c: f.atLeast };
  }
  if (f.value !== null && bValue === null && bBound !== undefined && !worse(f.value, bBound)) {
    return { verdict: 'pass', fromBound: true, b: bBound, c: f.value };
  }
  const side = f.value === null ? `this run's ${f.metric}` : `the baseline's ${f.metric}`;
  const note = f.value === null ? f.note : b.note;
  return { unavailable: `${side} is not an exact value (${note ?? 'not measured'}), and its bound does not decide the comparison` };
}

function describeCompared(f: RegressionFigure, j: { verdict: string; fromBound: boolean; b: number; c: number }, rule: MetricRule, unit: string, pct: number | null): string {
  const higher = REGRESSION_METRICS[f.metric].direction === 'higher-is-better';
  const change = pct === null ? 'baseline 0' : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %`;
  const bound = f.value === null ? '>= ' : '';
  const baselineBound = f.value !== null && j.fromBound ? '>= ' : '';
  const allowed = higher ? `at least ${100 - rule.marginPercent} % of the baseline` : `at most +${rule.marginPercent} %${rule.minDeltaUs > 0 ? ` or +${rule.minDeltaUs} us` : ''}`;
  return `${f.node} ${f.where} ${f.metric}: ${bound}${formatValue(j.c, unit)} vs baseline ${baselineBound}${formatValue(j.b, unit)} (${change}; allowed ${allowed}): ${j.verdict}`;
}

function figuresOf(result: CaseResult, extractors: Readonly<Record<string, FigureExtractor>>, notes: string[]): RegressionFigure[] | undefined {
  const extract = extractors[result.caseName];
  if (!extract) return undefined;
  const out = extract(result);
  notes.push(...out.notes);
  return out.figures;
}

interface CaseContextForCompare {
  current: RunResult;
  baseline: RunResult;
  policy: RegressionPolicy;
  monitorOnly: boolean;
  report: RegressionReport;
}

function compareFigure(ctx: CaseContextForCompare, f: RegressionFigure, b: RegressionFigure | undefined): void {
  const base = { id: f.id, caseName: f.caseName, node: f.node, where: f.where, metric: f.metric };
  if (!b) {
    ctx.report.notCompared.push({ ...base, kind: 'new', reason: `the baseline run ${ctx.baseline.runId} has no ${f.metric} for ${f.node} ${f.where}` });
    return;
  }
  const names = [...new Set([...relevantNodes(ctx.current, f), ...relevantNodes(ctx.baseline, b)])].sort();
  const keys = compareKeys(buildComparabilityKey(ctx.baseline, b, names), buildComparabilityKey(ctx.current, f, names), ctx.policy.compareAcross);
  if (keys.blocking.length > 0) {
    ctx.report.notCompared.push({ ...base, kind: 'not-comparable', reason: keys.blocking.join('; ') });
    return;
  }
  let judged: Judged;
  try {
    judged = judge(f, b, ctx.policy.ruleFor(f.caseName, f.metric), f.unit);
  } catch {
    judged = { unavailable: `units differ and do not convert: baseline ${b.unit}, this run ${f.unit}` };
  }
  if ('unavailable' in judged) {
    ctx.report.notCompared.push({ ...base, kind: 'unavailable', reason: judged.unavailable });
    return;
  }
  const rule = ctx.policy.ruleFor(f.caseName, f.metric);
  const delta = judged.c - judged.b;
  const deltaPercent = judged.b === 0 ? null : (delta / judged.b) * 100;
  ctx.report.compared.push({
    ...base,
    unit: f.unit,
    baseline: judged.b,
    current: judged.c,
    delta,
    deltaPercent,
    fromBound: judged.fromBound,
    marginPercent: rule.marginPercent,
    action: rule.action,
    effectiveAction: ctx.monitorOnly ? 'monitor' : rule.action,
    verdict: judged.verdict,
    message: describeCompared(f, judged, rule, f.unit, deltaPercent),
    comparedOn: keys.matched,
    waived: keys.waived,
  });
}

function summarize(report: RegressionReport): string {
  const count = (kind: NotComparedKind) => report.notCompared.filter((n) => n.kind === kind).length;
  const asserted = report.compared.filter((c) => c.verdict === 'regression' && c.effectiveAction === 'assert').length;
  const against = report.baseline ? `against run ${report.baseline.runId} (${report.baseline.startedAt})` : 'no baseline run';
  const head = report.failing ? 'REGRESSION' : report.regressions > 0 ? 'regression monitored' : 'no regression';
  const parts = [
    `${report.regressions} regression${report.regressions === 1 ? '' : 's'} (${asserted} assert)`,
    `${report.compared.length} compared`,
    `${count('not-comparable') + count('unavailable')} not compared`,
    `${count('new')} new`,
  ];
  const lab = report.monitorOnly ? '; lab pod: regressions are monitored only and never fail the run' : '';
  return `${head} ${against}: ${parts.join(', ')}${lab}`;
}

// The CLI calls this after the cases ran; `failing` maps to exit code 71.
export function evaluateRegression(input: EvaluateRegressionInput): RegressionReport {
  const { current, baseline } = input;
  const policy = parseRegressionPolicy(input.profileSection, input.profileFile ?? current.thresholds.file);
  const extractors = input.extractors ?? FIGURE_EXTRACTORS;
  const monitorOnly = input.isLab ?? current.pod.lab;
  const report: RegressionReport = {
    baseline: baseline ? { runId: baseline.runId, startedAt: baseline.startedAt, pod: baseline.pod.name } : null,
    monitorOnly,
    compared: [],
    notCompared: [],
    notes: [],
    regressions: 0,
    failing: false,
    summary: '',
  };
  for (const result of current.cases) {
    const figures = figuresOf(result, extractors, report.notes);
    if (!figures) {
      report.notes.push(`${result.caseName}: no regression figures are defined for this case; skipped`);
      continue;
    }
    if (result.status === 'error' || result.status === 'skip') {
      report.notes.push(`${result.caseName}: ended ${result.status} in this run; its figures are not compared`);
      continue;
    }
    const newAll = (reason: string) => {
      for (const f of figures) report.notCompared.push({ id: f.id, caseName: f.caseName, node: f.node, where: f.where, metric: f.metric, kind: 'new', reason });
    };
    if (!baseline) {
      newAll('no baseline run to compare with');
      continue;
    }
    if (baseline.runId === current.runId) {
      for (const f of figures) report.notCompared.push({ id: f.id, caseName: f.caseName, node: f.node, where: f.where, metric: f.metric, kind: 'not-comparable', reason: 'the baseline is this run itself' });
      continue;
    }
    const baseCase = baseline.cases.find((c) => c.caseName === result.caseName);
    if (!baseCase) {
      newAll(`the baseline run ${baseline.runId} did not run ${result.caseName}`);
      continue;
    }
    if (baseCase.status === 'error' || baseCase.status === 'skip') {
      newAll(`${result.caseName} ended ${baseCase.status} in the baseline run ${baseline.runId}, so it has no trustworthy figures`);
      continue;
    }
    const baseFigures = new Map((figuresOf(baseCase, extractors, []) ?? []).map((f) => [f.id, f]));
    const ctx = { current, baseline, policy, monitorOnly, report };
    for (const f of figures) compareFigure(ctx, f, baseFigures.get(f.id));
  }
  report.regressions = report.compared.filter((c) => c.verdict === 'regression').length;
  report.failing = report.compared.some((c) => c.verdict === 'regression' && c.effectiveAction === 'assert');
  report.summary = summarize(report);
  return report;
}
