// Compares this run's figures with a baseline run's, separate from absolute thresholds:
// a figure that got worse by more than its margin is a regression, and so is a figure the
// baseline measured that this run, under the same conditions, did not (a path that stopped
// forwarding has no NDR: that must not pass). Pure: runs in, report out. Every figure of the
// run ends in exactly one list: compared, missing, or not compared with a reason.
import { formatDelta, type Delta } from '../results/comparison.ts';
import type { CaseResult, RunResult } from '../results/model.ts';
import { convert, formatValue } from '../verdict/units.ts';
import { buildComparabilityKey, compareKeys, decideComparability, relevantNodes } from './comparability.ts';
import { FIGURE_EXTRACTORS, REGRESSION_METRICS, type Extraction, type FigureExtractor, type RegressionFigure } from './figures.ts';
import { parseRegressionPolicy, type CompareAcross, type MetricRule, type RegressionPolicy } from './policy.ts';

import type { ComparedFigure, FigureRef, NotComparedKind, RegressionReport } from '../results/regression-report.ts';

export type { ComparedFigure, FigureRef, MissingFigure, NotComparedFigure, NotComparedKind, RegressionReport } from '../results/regression-report.ts';

export interface EvaluateRegressionInput {
  current: RunResult;
  baseline: RunResult | undefined;
  /** profile.sections.regression as loaded, or undefined for the defaults. */
  profileSection: unknown;
  /** For ConfigError messages; defaults to the run's threshold file. */
  profileFile?: string;
  /** Defaults to current.pod.lab. */
  isLab?: boolean;
  /** Added to the profile's compare_across, e.g. from --compare-across. */
  compareAcross?: readonly CompareAcross[];
  extractors?: Readonly<Record<string, FigureExtractor>>;
}

const refOf = (f: FigureRef): FigureRef => ({ id: f.id, caseName: f.caseName, node: f.node, where: f.where, metric: f.metric });
const hasFigure = (f: RegressionFigure) => f.value !== null || f.atLeast !== undefined;

type Judged = { verdict: 'pass' | 'regression'; fromBound: boolean; b: number; c: number } | { unavailable: string };

// The verdict if the two values were exact.
function verdictAt(f: RegressionFigure, rule: MetricRule, unit: string, c: number, b: number): 'pass' | 'regression' {
  if (REGRESSION_METRICS[f.metric].direction === 'higher-is-better') {
    // Scaled by 100 rather than divided, so that exactly 90 % of 10 Mpps is exactly the bound.
    return c * 100 < b * (100 - rule.marginPercent) ? 'regression' : 'pass';
  }
  const minDelta = rule.minDeltaUs === 0 ? 0 : convert(rule.minDeltaUs, 'us', unit);
  return c * 100 > b * (100 + rule.marginPercent) && c - b > minDelta ? 'regression' : 'pass';
}

// Exact values compare directly; when one is a lower bound (a generator-limited rate, an
// overflowed max), the verdict at the bound stands only when every true value gives it.
function judge(f: RegressionFigure, b: RegressionFigure, rule: MetricRule, delta: Delta): Judged {
  const unit = f.unit;
  const c = (f.value ?? f.atLeast) as number;
  const base = convert((b.value ?? b.atLeast) as number, b.unit, unit);
  const verdict = verdictAt(f, rule, unit, c, base);
  if (delta.kind === 'exact') return { verdict, fromBound: false, b: base, c };
  // at-least: the truth is at least as high as the bound says; as good for throughput, as bad for latency.
  const truthAtLeastAsGood = (delta.kind === 'at-least') === (REGRESSION_METRICS[f.metric].direction === 'higher-is-better');
  if (verdict === (truthAtLeastAsGood ? 'pass' : 'regression')) return { verdict, fromBound: true, b: base, c };
  const side = f.value === null ? `this run's ${f.metric}` : `the baseline's ${f.metric}`;
  return { unavailable: `${side} is only a lower bound (${(f.value === null ? f.note : b.note) ?? 'not exact'}), and it does not decide the comparison` };
}

function describeCompared(f: RegressionFigure, j: { verdict: string; b: number; c: number }, rule: MetricRule, delta: Delta): string {
  const unit = f.unit;
  const higher = REGRESSION_METRICS[f.metric].direction === 'higher-is-better';
  const change = delta.percent === null ? `baseline 0, ${formatDelta(delta.kind, delta.value, (v) => formatValue(v, unit))}` : formatDelta(delta.kind, delta.percent, (v) => `${v.toFixed(1)} %`);
  const bound = delta.kind === 'at-least' ? '>= ' : '';
  const baselineBound = delta.kind === 'at-most' ? '>= ' : '';
  const allowed = higher ? `at least ${100 - rule.marginPercent} % of the baseline` : `at most +${rule.marginPercent} %${rule.minDeltaUs > 0 ? ` or +${rule.minDeltaUs} us` : ''}`;
  return `${f.node} ${f.where} ${f.metric}: ${bound}${formatValue(j.c, unit)} vs baseline ${baselineBound}${formatValue(j.b, unit)} (${change}; allowed ${allowed}): ${j.verdict}`;
}

function extractionOf(result: CaseResult, extractors: Readonly<Record<string, FigureExtractor>>, notes: string[]): Extraction | undefined {
  const extract = extractors[result.caseName];
  if (!extract) return undefined;
  const out = extract(result);
  notes.push(...out.notes);
  return out;
}

interface CaseContextForCompare {
  current: RunResult;
  baseline: RunResult;
  policy: RegressionPolicy;
  monitorOnly: boolean;
  report: RegressionReport;
}

function keyOptions(ctx: CaseContextForCompare, b: RegressionFigure, f: RegressionFigure) {
  const names = [...new Set([...relevantNodes(ctx.current, f), ...relevantNodes(ctx.baseline, b)])].sort();
  return { referenceKey: buildComparabilityKey(ctx.baseline, b, names), currentKey: buildComparabilityKey(ctx.current, f, names) };
}

// The baseline has the figure, this run not: a regression when nothing recorded in both runs differs.
function judgeMissing(ctx: CaseContextForCompare, b: RegressionFigure, current: RegressionFigure, why: string | null): void {
  const { referenceKey, currentKey } = keyOptions(ctx, b, current);
  const keys = compareKeys(referenceKey, currentKey, { compareAcross: ctx.policy.compareAcross, unrecordedInCurrent: 'unknown' });
  if (keys.blocking.length > 0) {
    ctx.report.notCompared.push({ ...refOf(b), kind: 'not-comparable', reason: keys.blocking.join('; ') });
    return;
  }
  const rule = ctx.policy.ruleFor(b.caseName, b.metric);
  const baselineIsBound = b.value === null;
  const baseline = b.value ?? (b.atLeast as number);
  const unrecorded = keys.unrecorded.length > 0 ? `; not recorded in this run, so not checked: ${keys.unrecorded.join(', ')}` : '';
  ctx.report.missing.push({
    ...refOf(b),
    unit: b.unit,
    baseline,
    baselineIsBound,
    action: rule.action,
    effectiveAction: ctx.monitorOnly ? 'monitor' : rule.action,
    verdict: 'regression',
    why,
    message: `${b.node} ${b.where} ${b.metric}: measured in the baseline run ${ctx.baseline.runId} (${baselineIsBound ? '>= ' : ''}${formatValue(baseline, b.unit)}), missing in this run (${why ?? 'its details do not say why'})${unrecorded}: regression`,
    comparedOn: keys.matched,
    waived: keys.waived,
    unrecorded: keys.unrecorded,
  });
}

// A baseline figure this run has no entry for: the extractor says under which conditions it would have been measured.
function judgeAbsent(ctx: CaseContextForCompare, b: RegressionFigure, result: CaseResult, extraction: Extraction): void {
  const absent = extraction.absent?.(b) ?? { context: { load: null, durationS: null } };
  if ('notMeasuredBecause' in absent) {
    ctx.report.notCompared.push({ ...refOf(b), kind: 'not-comparable', reason: absent.notMeasuredBecause });
    return;
  }
  const current: RegressionFigure = { ...refOf(b), unit: b.unit, value: null, context: absent.context };
  const why = absent.why ?? result.reason ?? (result.status === 'error' ? `${result.caseName} ended error` : null);
  judgeMissing(ctx, b, current, why);
}

function compareFigure(ctx: CaseContextForCompare, f: RegressionFigure, b: RegressionFigure | undefined): void {
  const base = refOf(f);
  if (!b) {
    ctx.report.notCompared.push({ ...base, kind: 'new', reason: `the baseline run ${ctx.baseline.runId} has no ${f.metric} for ${f.node} ${f.where}` });
    return;
  }
  if (!hasFigure(f) && hasFigure(b)) {
    judgeMissing(ctx, b, f, f.note ?? null);
    return;
  }
  const decided = decideComparability({ current: f, reference: b, ...keyOptions(ctx, b, f), options: { compareAcross: ctx.policy.compareAcross } });
  if (!decided.comparable) {
    ctx.report.notCompared.push({ ...base, kind: decided.kind, reason: decided.reason });
    return;
  }
  const rule = ctx.policy.ruleFor(f.caseName, f.metric);
  const judged = judge(f, b, rule, decided.delta);
  if ('unavailable' in judged) {
    ctx.report.notCompared.push({ ...base, kind: 'unavailable', reason: judged.unavailable });
    return;
  }
  const delta = judged.c - judged.b;
  ctx.report.compared.push({
    ...base,
    unit: f.unit,
    baseline: judged.b,
    current: judged.c,
    delta,
    deltaPercent: judged.b === 0 ? null : (delta / judged.b) * 100,
    fromBound: judged.fromBound,
    change: decided.delta,
    marginPercent: rule.marginPercent,
    action: rule.action,
    effectiveAction: ctx.monitorOnly ? 'monitor' : rule.action,
    verdict: judged.verdict,
    message: describeCompared(f, judged, rule, decided.delta),
    comparedOn: decided.matched,
    waived: decided.waived,
  });
}

function summarize(report: RegressionReport): string {
  const count = (kind: NotComparedKind) => report.notCompared.filter((n) => n.kind === kind).length;
  const asserted = [...report.compared, ...report.missing].filter((c) => c.verdict === 'regression' && c.effectiveAction === 'assert').length;
  const against = report.baseline ? `against run ${report.baseline.runId} (${report.baseline.startedAt})` : 'no baseline run';
  const head = report.failing ? 'REGRESSION' : report.regressions > 0 ? 'regression monitored' : 'no regression';
  const parts = [
    `${report.regressions} regression${report.regressions === 1 ? '' : 's'} (${asserted} assert)`,
    `${report.compared.length} compared`,
    `${report.missing.length} missing`,
    `${count('not-comparable') + count('unavailable')} not compared`,
    `${count('new')} new`,
  ];
  const lab = report.monitorOnly ? '; lab pod: regressions are monitored only and never fail the run' : '';
  return `${head} ${against}: ${parts.join(', ')}${lab}`;
}

// The CLI calls this after the cases ran; `failing` maps to exit code 71.
export function evaluateRegression(input: EvaluateRegressionInput): RegressionReport {
  const { current, baseline } = input;
  const profilePolicy = parseRegressionPolicy(input.profileSection, input.profileFile ?? current.thresholds.file);
  const policy: RegressionPolicy = { ...profilePolicy, compareAcross: [...new Set([...profilePolicy.compareAcross, ...(input.compareAcross ?? [])])] };
  const extractors = input.extractors ?? FIGURE_EXTRACTORS;
  const monitorOnly = input.isLab ?? current.pod.lab;
  const report: RegressionReport = {
    baseline: baseline ? { runId: baseline.runId, startedAt: baseline.startedAt, pod: baseline.pod.name } : null,
    monitorOnly,
    compared: [],
    missing: [],
    notCompared: [],
    notes: [],
    regressions: 0,
    failing: false,
    summary: '',
  };
  for (const result of current.cases) {
    const extraction = extractionOf(result, extractors, report.notes);
    if (!extraction) {
      report.notes.push(`${result.caseName}: no regression figures are defined for this case; skipped`);
      continue;
    }
    // A skipped case did not run here (requirements unmet, dry run): there is nothing to hold against it.
    if (result.status === 'skip') {
      report.notes.push(`${result.caseName}: ended skip in this run; its figures are not compared`);
      continue;
    }
    // An errored case is exit 70 already; what it measured is still compared, and what it lost is still missing.
    if (result.status === 'error') report.notes.push(`${result.caseName}: ended error in this run; the figures it kept are compared, and those the baseline had and it lacks are regressions`);
    const figures = extraction.figures;
    const newAll = (reason: string) => {
      for (const f of figures) report.notCompared.push({ ...refOf(f), kind: 'new', reason });
    };
    if (!baseline) {
      newAll('no baseline run to compare with');
      continue;
    }
    if (baseline.runId === current.runId) {
      for (const f of figures) report.notCompared.push({ ...refOf(f), kind: 'not-comparable', reason: 'the baseline is this run itself' });
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
    const baseFigures = extractionOf(baseCase, extractors, [])?.figures ?? [];
    const byId = new Map(baseFigures.map((f) => [f.id, f]));
    const ctx = { current, baseline, policy, monitorOnly, report };
    for (const f of figures) compareFigure(ctx, f, byId.get(f.id));
    const ids = new Set(figures.map((f) => f.id));
    for (const b of baseFigures) if (!ids.has(b.id) && hasFigure(b)) judgeAbsent(ctx, b, result, extraction);
  }
  const regressions = [...report.compared.filter((c) => c.verdict === 'regression'), ...report.missing];
  report.regressions = regressions.length;
  report.failing = regressions.some((c) => c.effectiveAction === 'assert');
  report.summary = summarize(report);
  return report;
}
