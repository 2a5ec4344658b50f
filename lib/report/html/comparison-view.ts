// The bare-metal / SR-IOV / OVS-DPDK comparison (run.comparison, built by
// lib/report/comparison.ts) as table rows in Mpps and microseconds, and as grouped bar charts
// of NDR and p99 per frame size. Differences keep the kind the comparison gave them: exact,
// one-sided (a lower bound on one side) or not comparable. Pure; any other shape falls back
// to the generic tables.
import type { ComparisonCell, Delta, ForwardingComparison, NoDelta } from '../../results/comparison.ts';
import { buildGenericBlocks, type GenericBlock } from './generic-view.ts';

/** A difference as the page shows it: `value` already in the row's unit (percent or µs). */
export type DeltaView = Delta | NoDelta;

export interface ComparisonRow {
  frameSize: string;
  caseName: string;
  isBaseline: boolean;
  ndrMpps: number | null;
  ndrIsLowerBound: boolean;
  /** Against bare metal; null on the bare-metal row, and when either figure is missing. */
  ndrVs: DeltaView | null;
  p99Us: number | null;
  p99Vs: DeltaView | null;
  /** The max, or its lower bound when maxIsLowerBound. */
  maxUs: number | null;
  maxIsLowerBound: boolean;
  maxVs: DeltaView | null;
  latencyWhere: string | null;
  /** e.g. `testpmd io`, `kvm`; null when not recorded. */
  forwarder: string | null;
  accelerator: string | null;
}

/** One grouped bar chart: categories are frame sizes, one series per case. */
export interface BarChartView {
  id: string;
  title: string;
  axisName: string;
  categories: string[];
  /** `bounds[i]`: values[i] is only a lower bound, drawn apart and named in the legend. */
  series: { name: string; values: (number | null)[]; bounds: boolean[] }[];
}

export type ComparisonSection =
  | { kind: 'forwarding'; baseline: string; rows: ComparisonRow[]; notes: string[]; charts: BarChartView[] }
  | { kind: 'generic'; blocks: GenericBlock[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A comparison written by schema 1.2.0 or later: its cells say how each difference may be stated. */
export function hasBoundedDeltas(v: ForwardingComparison): boolean {
  return v.frameSizes.every((f) => f.cells.every((c) => c.ndrVsBaseline !== undefined));
}

// results.json may come from another version: only the exact shape gets the dedicated view.
export function isForwardingComparison(v: unknown): v is ForwardingComparison {
  return isObject(v) && typeof v.baseline === 'string' && Array.isArray(v.cases) && Array.isArray(v.notes) && Array.isArray(v.frameSizes)
    && v.frameSizes.every((f) => isObject(f) && typeof f.frameSize === 'string' && Array.isArray(f.cells) && f.cells.every((c) => isObject(c) && typeof c.caseName === 'string'));
}

const us = (ns: number | null | undefined) => (typeof ns === 'number' ? ns / 1000 : null);

// Written before schema 1.2.0, a cell has only the signed fields, which were signed even
// against a bound: such a difference is shown only when neither side was a bound.
function legacyDelta(value: number | null | undefined, bounded: boolean): DeltaView | null {
  if (value === null || value === undefined) return null;
  return bounded ? { kind: 'not-comparable', reason: 'written before bounded differences were recorded (results schema < 1.2.0), and a figure is only a lower bound' } : { kind: 'exact', value, percent: null };
}

// Latency differences from ns to µs; percentages stay.
function inUs(d: Delta | NoDelta | null | undefined): DeltaView | null | undefined {
  return d && d.kind !== 'not-comparable' ? { ...d, value: d.value / 1000 } : d;
}

// The NDR column shows percent: the difference's value becomes its percentage.
function inPercent(d: DeltaView): DeltaView {
  if (d.kind === 'not-comparable') return d;
  return d.percent === null ? { kind: 'not-comparable', reason: 'bare metal forwarded 0 pps: no percentage' } : { ...d, value: d.percent };
}

const has = (v: unknown) => typeof v === 'number';

function rowOf(frameSize: string, c: ComparisonCell, baseline: string, base: ComparisonCell | undefined): ComparisonRow {
  const isBaseline = c.caseName === baseline;
  const maxAtLeast = typeof c.maxAtLeastNs === 'number' ? c.maxAtLeastNs : null;
  const ndrBounded = c.ndrIsLowerBound === true || base?.ndrIsLowerBound === true;
  const maxBounded = maxAtLeast !== null || typeof base?.maxAtLeastNs === 'number';
  // A figure missing on either side has no difference to state: the cell shows a dash, not a reason.
  const both = (x: unknown, y: unknown) => !isBaseline && base !== undefined && has(x) && has(y);
  const ndrVs = c.ndrVsBaseline !== undefined ? c.ndrVsBaseline : legacyDelta(c.ndrDeltaPercent, ndrBounded);
  return {
    frameSize,
    caseName: c.caseName,
    isBaseline,
    ndrMpps: typeof c.ndrPps === 'number' ? c.ndrPps / 1e6 : null,
    ndrIsLowerBound: c.ndrIsLowerBound === true,
    ndrVs: both(c.ndrPps, base?.ndrPps) && ndrVs ? inPercent(ndrVs) : null,
    p99Us: us(c.p99Ns),
    p99Vs: both(c.p99Ns, base?.p99Ns) ? (c.p99VsBaseline !== undefined ? inUs(c.p99VsBaseline) ?? null : legacyDelta(us(c.p99DeltaNs), false)) : null,
    maxUs: us(c.maxNs) ?? us(maxAtLeast),
    maxIsLowerBound: c.maxNs === null && maxAtLeast !== null,
    maxVs: both(c.maxNs ?? maxAtLeast, base?.maxNs ?? base?.maxAtLeastNs) ? (c.maxVsBaseline !== undefined ? inUs(c.maxVsBaseline) ?? null : legacyDelta(us(c.maxDeltaNs), maxBounded)) : null,
    latencyWhere: c.latencyWhere ?? null,
    forwarder: c.conditions?.forwarder ?? null,
    accelerator: c.conditions?.accelerator ?? null,
  };
}

function barChart(id: string, title: string, axisName: string, data: ForwardingComparison, pick: (c: ComparisonCell) => { value: number | null; bound: boolean }): BarChartView {
  const categories = data.frameSizes.map((f) => `${f.frameSize} B`);
  const series = data.cases.map((name) => {
    const points = data.frameSizes.map((f) => {
      const c = f.cells.find((x) => x.caseName === name);
      return c ? pick(c) : { value: null, bound: false };
    });
    return { name, values: points.map((p) => p.value), bounds: points.map((p) => p.value !== null && p.bound) };
  });
  return { id, title, axisName, categories, series };
}

// The dedicated view when the data is a ForwardingComparison, tables of its keys otherwise.
export function buildComparisonSection(value: unknown, notes?: readonly string[]): ComparisonSection {
  if (!isForwardingComparison(value)) return { kind: 'generic', blocks: buildGenericBlocks(value) };
  return {
    kind: 'forwarding',
    baseline: value.baseline,
    rows: value.frameSizes.flatMap((f) => f.cells.map((c) => rowOf(f.frameSize, c, value.baseline, f.cells.find((x) => x.caseName === value.baseline)))),
    notes: [...(notes ?? []), ...value.notes],
    charts: [
      barChart('comparison-ndr', 'NDR per frame size', 'NDR (Mpps)', value, (c) => ({ value: typeof c.ndrPps === 'number' ? c.ndrPps / 1e6 : null, bound: c.ndrIsLowerBound === true })),
      barChart('comparison-p99', 'latency p99 per frame size', 'p99 (µs)', value, (c) => ({ value: us(c.p99Ns), bound: false })),
    ],
  };
}
