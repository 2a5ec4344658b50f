// The forwarding comparison: per frame size, the NDR and the p99/max latency of every
// forwarding case that ran, each next to its difference from bare metal, the baseline the
// virtualised paths are judged against. Pure functions of the run's results; the table is
// printed at the end of the run and the data kept in results.json under `comparison`.
// The figures are the regression gate's (lib/regression/figures.ts), and whether and how a
// path may be set against bare metal is decided by the gate's own decideComparability: a
// floor is never subtracted as if it were exact, and paths measured with another forwarder,
// generator or accelerator are not comparable.
import { acrossPaths, buildConditionKey, decideComparability } from '../regression/comparability.ts';
import { ACCELERATOR_CONDITION, NO_ACCELERATOR } from '../regression/conditions.ts';
import { extractForwardingFigures, type RegressionFigure } from '../regression/figures.ts';
import { formatDelta, type ComparisonCell, type Delta, type ForwardingComparison, type NoDelta } from '../results/comparison.ts';
import type { RunResult } from '../results/model.ts';
import { convert } from '../verdict/units.ts';

export type { ComparisonCell, ForwardingComparison } from '../results/comparison.ts';

export const BASELINE_CASE = 'baremetal_forwarding';
export const FORWARDING_CASES = [BASELINE_CASE, 'sriov_forwarding', 'ovs_dpdk_forwarding'] as const;

const FORWARDER_CONDITION = 'forwarder (forwarder, forward_mode)';
const LATENCY_WHERE_CONDITION = 'latency trial (latency_loads)';

/** One case's figures at one frame size. */
interface Entry {
  ndr?: RegressionFigure;
  p99?: RegressionFigure;
  max?: RegressionFigure;
}

// Figures of one case by frame size, in the order the case measured them.
function readEntries(run: RunResult, caseName: string, notes: string[]): Map<string, Entry> | undefined {
  const result = run.cases.find((c) => c.caseName === caseName);
  if (!result || result.details.throughput === undefined) return undefined;
  const extraction = extractForwardingFigures(result);
  notes.push(...extraction.notes);
  const entries = new Map<string, Entry>();
  for (const f of extraction.figures) {
    if (f.metric === 'pdr' || f.context.frameSize === undefined) continue;
    const size = String(f.context.frameSize);
    const entry = entries.get(size) ?? {};
    entry[f.metric] = f;
    entries.set(size, entry);
    // A latency trial the generator could not drive ran under less load than the others: left out.
    if (f.metric === 'p99' && f.note?.startsWith('the generator could not drive the latency trial')) {
      notes.push(`${caseName} ${size} B: the generator could not drive the latency trial; its latency is left out`);
    }
  }
  if (entries.size > 0 && result.status !== 'pass') notes.push(`${caseName} ended ${result.status}: its figures are shown but were not all judged`);
  // A path that stands in for the real one (the lab's macvtap for a VF) says so beside its figures.
  const topology = result.details.topology as { description?: unknown } | undefined;
  if (entries.size > 0 && typeof topology?.description === 'string' && /analogue/.test(topology.description)) notes.push(`${caseName} is an analogue: ${topology.description}`);
  return entries.size > 0 ? entries : undefined;
}

const inNs = (value: number | null | undefined, unit: string): number | null => (value === null || value === undefined ? null : convert(value, unit, 'ns'));

// The difference to bare metal as the shared comparability rule allows it to be stated.
function versus(caseName: string, f: RegressionFigure | undefined, base: RegressionFigure | undefined, what: string): Delta | NoDelta {
  if (!f) return { kind: 'not-comparable', reason: `${caseName} has no ${what} at this frame size` };
  if (!base) return { kind: 'not-comparable', reason: `${BASELINE_CASE} has no ${what} at this frame size` };
  const decided = decideComparability({
    current: f,
    reference: base,
    currentKey: acrossPaths(buildConditionKey(f)),
    referenceKey: acrossPaths(buildConditionKey(base)),
    options: { labels: { reference: BASELINE_CASE, current: caseName, either: 'either path' } },
  });
  return decided.comparable ? decided.delta : { kind: 'not-comparable', reason: decided.reason };
}

// Bare metal against itself: 0 for an exact figure, nothing for a bound or a gap.
const self = (f: RegressionFigure | undefined): number | null => (f && f.value !== null ? 0 : null);

// The old signed fields keep their meaning only where it is true: both figures exact.
const exactOnly = (d: Delta | NoDelta | null, pick: (d: Delta) => number | null): number | null => (d && d.kind === 'exact' ? pick(d) : null);

function buildCell(caseName: string, e: Entry, base: Entry | undefined, isBaseline: boolean): ComparisonCell {
  const { ndr, p99, max } = e;
  const vs = (f: RegressionFigure | undefined, b: RegressionFigure | undefined, what: string) => (isBaseline || base === undefined ? null : versus(caseName, f, b, what));
  const ndrVs = vs(ndr, base?.ndr, 'NDR');
  const p99Vs = vs(p99, base?.p99, 'p99 latency');
  const maxVs = vs(max, base?.max, 'max latency');
  // Latency deltas are in the current figure's unit: nanoseconds in the table.
  const deltaNs = (d: Delta, f: RegressionFigure | undefined) => inNs(d.value, f?.unit ?? 'ns');
  const conditions = ndr?.context.conditions ?? {};
  return {
    caseName,
    ndrPps: ndr ? (ndr.value ?? ndr.atLeast ?? null) : null,
    ndrIsLowerBound: ndr !== undefined && ndr.value === null && ndr.atLeast !== undefined,
    p99Ns: p99 ? inNs(p99.value, p99.unit) : null,
    maxNs: max ? inNs(max.value, max.unit) : null,
    maxAtLeastNs: max && max.value === null && max.atLeast !== undefined ? inNs(max.atLeast, max.unit) : null,
    latencyWhere: p99?.context.conditions?.[LATENCY_WHERE_CONDITION] ?? null,
    ndrDeltaPercent: isBaseline ? self(ndr) : exactOnly(ndrVs, (d) => d.percent),
    p99DeltaNs: isBaseline ? self(p99) : exactOnly(p99Vs, (d) => deltaNs(d, p99)),
    maxDeltaNs: isBaseline ? self(max) : exactOnly(maxVs, (d) => deltaNs(d, max)),
    ndrVsBaseline: ndrVs,
    p99VsBaseline: p99Vs === null || p99Vs.kind === 'not-comparable' ? p99Vs : { ...p99Vs, value: deltaNs(p99Vs, p99) as number },
    maxVsBaseline: maxVs === null || maxVs.kind === 'not-comparable' ? maxVs : { ...maxVs, value: deltaNs(maxVs, max) as number },
    conditions: { forwarder: conditions[FORWARDER_CONDITION] ?? null, accelerator: conditions[ACCELERATOR_CONDITION] ?? null },
  };
}

// The comparison data, or undefined when no forwarding case measured anything.
export function buildForwardingComparison(run: RunResult): ForwardingComparison | undefined {
  const notes: string[] = [];
  const byCase = new Map<string, Map<string, Entry>>();
  for (const name of FORWARDING_CASES) {
    const entries = readEntries(run, name, notes);
    if (entries) byCase.set(name, entries);
  }
  if (byCase.size === 0) return undefined;
  const baseline = byCase.get(BASELINE_CASE);
  if (!baseline) notes.push(`${BASELINE_CASE} did not run: no differences to bare metal`);
  const sizes = [...new Set([...byCase.values()].flatMap((es) => [...es.keys()]))].sort(bySize);
  const frameSizes = sizes.map((frameSize) => ({
    frameSize,
    cells: [...byCase.entries()].flatMap(([caseName, es]) => {
      const e = es.get(frameSize);
      return e ? [buildCell(caseName, e, baseline === undefined ? undefined : (baseline.get(frameSize) ?? {}), caseName === BASELINE_CASE)] : [];
    }),
  }));
  return { baseline: BASELINE_CASE, cases: [...byCase.keys()], frameSizes, notes };
}

function bySize(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isNaN(na) || Number.isNaN(nb)) return Number.isNaN(na) ? (Number.isNaN(nb) ? a.localeCompare(b) : 1) : -1;
  return na - nb;
}

// A difference for the text table: `-` when a figure is missing, `n/c` (with a note) when the two
// figures cannot be set against each other, `≤`/`≥` when only one side of it is known.
function deltaText(d: Delta | NoDelta | null | undefined, hasBoth: boolean, scale: (d: Delta) => string, onNotComparable: (reason: string) => void): string {
  if (!d) return '-';
  if (d.kind !== 'not-comparable') return scale(d);
  if (!hasBoth) return '-';
  onNotComparable(d.reason);
  return 'n/c';
}

// The comparison as a text table, one block per frame size, differences against bare metal.
export function formatComparisonTable(data: ForwardingComparison): string {
  const header = ['frame', 'case', 'forwarder (where)', 'NDR pps', 'vs bare metal', 'p99 us', 'vs bm', 'max us', 'vs bm'];
  const rows: string[][] = [];
  // One note per case and reason: a VM under TCG is not comparable for every figure, for one reason.
  const reasons = new Map<string, { caseName: string; reason: string; what: string[] }>();
  for (const fs of data.frameSizes) {
    const base = fs.cells.find((c) => c.caseName === data.baseline);
    fs.cells.forEach((c, i) => {
      const isBase = c.caseName === data.baseline;
      const note = (what: string) => (reason: string) => {
        const key = `${c.caseName}\n${reason}`;
        const entry = reasons.get(key) ?? { caseName: c.caseName, reason, what: [] };
        entry.what.push(`${fs.frameSize} B ${c.caseName.replace(/_forwarding$/, '')} ${what}`);
        reasons.set(key, entry);
      };
      const maxOf = (x: typeof c | undefined) => (x?.maxNs ?? x?.maxAtLeastNs ?? null);
      rows.push([
        i === 0 ? `${fs.frameSize} B` : '',
        c.caseName.replace(/_forwarding$/, ''),
        describeForwarder(c),
        c.ndrPps === null ? '?' : `${c.ndrIsLowerBound ? '≥ ' : ''}${Math.round(c.ndrPps)}`,
        isBase ? '(baseline)' : deltaText(c.ndrVsBaseline, c.ndrPps !== null && base?.ndrPps != null, (d) => (d.percent === null ? '-' : formatDelta(d.kind, d.percent, (v) => `${fmt(v)} %`)), note('NDR')),
        us(c.p99Ns),
        isBase ? '' : deltaText(c.p99VsBaseline, c.p99Ns !== null && base?.p99Ns != null, (d) => formatDelta(d.kind, d.value / 1000, fmt), note('p99')),
        c.maxNs === null && c.maxAtLeastNs != null ? `≥ ${us(c.maxAtLeastNs)}` : us(c.maxNs),
        isBase ? '' : deltaText(c.maxVsBaseline, maxOf(c) !== null && maxOf(base) !== null, (d) => formatDelta(d.kind, d.value / 1000, fmt), note('max')),
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    'Forwarding comparison (NDR: all directions; ≥ only a lower bound, ? not confirmed; ≤/≥ before a difference: only that side of it is known, n/c not comparable; latency at the highest latency load)',
    line(header),
    ...rows.map(line),
    ...data.notes.map((n) => `note: ${n}`),
    ...[...reasons.values()].map((r) => `note: ${r.what.join(', ')}: not comparable: ${r.reason}`),
    '',
  ].join('\n');
}

// What forwarded, and where: a VM row names its accelerator, so a TCG figure is never read as KVM's.
export function describeForwarder(c: Pick<ComparisonCell, 'conditions'>): string {
  const forwarder = c.conditions?.forwarder ?? '?';
  const accelerator = c.conditions?.accelerator;
  return accelerator && accelerator !== NO_ACCELERATOR ? `${forwarder} (VM, ${accelerator.toUpperCase()})` : `${forwarder} (no VM)`;
}

function us(ns: number | null | undefined): string {
  return ns === null || ns === undefined ? '-' : fmt(ns / 1000);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}
