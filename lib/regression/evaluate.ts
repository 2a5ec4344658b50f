// Compares this run's figures with a baseline run's, separate from absolute thresholds:
// a figure that got worse by more than its margin is a regression, and so is a figure the
// baseline measured that this run, under the same conditions, did not (a path that stopped
// forwarding has no NDR: that must not pass). Pure: runs in, report out. Every figure of the
// run ends in exactly one list: compared, missing, or not compared with a reason.
import type { CaseResult, RunResult } from '../results/model.ts';
import { convert, formatValue } from '../verdict/units.ts';
import { buildComparabilityKey, compareKeys, relevantNodes } from './comparability.ts';
import { FIGURE_EXTRACTORS, REGRESSION_METRICS, type Extraction, type FigureExtractor, type RegressionFigure } from './figures.ts';
import { parseRegressionPolicy, type CompareAcross, type MetricRule, type RegressionPolicy } from './policy.ts';

/** Which figure: the fields every list of the report shares. */
export type FigureRef = Pick<RegressionFigure, 'id' | 'caseName' | 'node' | 'where' | 'metric'>;

/** What a judged figure (compared, or missing) states beside its verdict. */
interface JudgedFigure extends FigureRef {
  unit: string;
  action: 'assert' | 'monitor';
  /** monitor on the lab pod whatever the profile says. */
  effectiveAction: 'assert' | 'monitor';
  message: string;
  /** The conditions that matched, so the comparison says what it compared. */
  comparedOn: string;
  /** Differences compared anyway because regression.compare_across allows it. */
  waived: string[];
}

export interface ComparedFigure extends JudgedFigure {
  baseline: number;
  current: number;
  delta: number;
  /** Null when the baseline is 0. */
  deltaPercent: number | null;
  /** True when a value is a bound (overflowed histogram) and the verdict holds for any true value. */
  fromBound: boolean;
  marginPercent: number;
  verdict: 'pass' | 'regression';
}

/** A figure the baseline measured and this comparable run lacks: always a regression. */
export interface MissingFigure extends JudgedFigure {
  /** The baseline's value, or its lower bound when baselineIsBound. */
  baseline: number;
  baselineIsBound: boolean;
  verdict: 'regression';
  /** Why this run has no value, as its details or tests say; null when they do not. */
  why: string | null;
  /** Conditions this run did not record (it stopped before): not checked, not held against it. */
  unrecorded: string[];
}

export type NotComparedKind = 'new' | 'not-comparable' | 'unavailable';

export interface NotComparedFigure extends FigureRef {
  kind: NotComparedKind;
  reason: string;
}

export interface RegressionReport {
  baseline: { runId: string; startedAt: string; pod: string } | null;
  /** True on the lab pod: regressions are reported and never fail the run. */
  monitorOnly: boolean;
  compared: ComparedFigure[];
  /** Regressions too: measured in the baseline, absent or null in this run. */
  missing: MissingFigure[];
  notCompared: NotComparedFigure[];
  /** Cases skipped as a whole and details that could not be read. */
  notes: string[];
  /** Compared regressions plus missing figures. */
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
  /** Added to the profile's compare_across, e.g. from --compare-across. */
  compareAcross?: readonly CompareAcross[];
  extractors?: Readonly<Record<string, FigureExtractor>>;
}

const refOf = (f: FigureRef): FigureRef => ({ id: f.id, caseName: f.caseName, node: f.node, where: f.where, metric: f.metric });
const hasFigure = (f: RegressionFigure) => f.value !== null || f.atLeast !== undefined;

type Judged = { verdict: 'pass' | 'regression'; fromBound: boolean; b: number; c: number } | { unavailable: string };

// Exact values compare directly; a lower bound decides only when any true value gives the same verdict.
function judge(f: RegressionFigure, b: RegressionFigure, rule: MetricRule, unit: string): Judged {
  if (!hasFigure(f) && !hasFigure(b)) return { unavailable: `neither run has ${f.metric}: ${f.note ?? 'not measured'}` };
  const bValue = b.value === null ? null : convert(b.value, b.unit, unit);
  const bBound = b.atLeast === undefined ? undefined : convert(b.atLeast, b.unit, unit);
  if (REGRESSION_METRICS[f.metric].direction === 'higher-is-better') {
    // Scaled by 100 rather than divided, so that exactly 90 % of 10 Mpps is exactly the bound.
    const below = (c: number, base: number) => c * 100 < base * (100 - rule.marginPercent);
    if (f.value !== null && bValue !== null) return { verdict: below(f.value, bValue) ? 'regression' : 'pass', fromBound: false, b: bValue, c: f.value };
    // A floor (generator-limited rate) decides only when every true value gives the same verdict.
    const fBound = f.atLeast;
    if (f.value === null && fBound !== undefined && bValue !== null && !below(fBound, bValue)) return { verdict: 'pass', fromBound: true, b: bValue, c: fBound };
    if (f.value !== null && bValue === null && bBound !== undefined && below(f.value, bBound)) return { verdict: 'regression', fromBound: true, b: bBound, c: f.value };
    if (f.value === null && fBound === undefined) return { unavailable: `this run has no ${f.metric}: ${f.note ?? 'not measured'}` };
    if (bValue === null && bBound === undefined) return { unavailable: `the baseline has no ${f.metric}: ${b.note ?? 'not measured'}` };
    const side = f.value === null ? `this run's ${f.metric}` : `the baseline's ${f.metric}`;
    return { unavailable: `${side} is a lower bound (${(f.value === null ? f.note : b.note) ?? 'not exact'}), and it does not decide the comparison` };
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

function keysFor(ctx: CaseContextForCompare, b: RegressionFigure, f: RegressionFigure, unrecordedInCurrent: 'blocks' | 'unknown') {
  const names = [...new Set([...relevantNodes(ctx.current, f), ...relevantNodes(ctx.baseline, b)])].sort();
  return compareKeys(buildComparabilityKey(ctx.baseline, b, names), buildComparabilityKey(ctx.current, f, names), { compareAcross: ctx.policy.compareAcross, unrecordedInCurrent });
}

// The baseline has the figure, this run not: a regression when nothing recorded in both runs differs.
function judgeMissing(ctx: CaseContextForCompare, b: RegressionFigure, current: RegressionFigure, why: string | null): void {
  const keys = keysFor(ctx, b, current, 'unknown');
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
  const keys = keysFor(ctx, b, f, 'blocks');
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
