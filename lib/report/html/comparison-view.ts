// The bare-metal / SR-IOV / OVS-DPDK comparison (run.comparison, built by
// lib/report/comparison.ts) as table rows in Mpps and microseconds, and as grouped bar charts
// of NDR and p99 per frame size. Pure; any other shape falls back to the generic tables.
import type { ComparisonCell, ForwardingComparison } from '../comparison.ts';
import { buildGenericBlocks, type GenericBlock } from './generic-view.ts';

export interface ComparisonRow {
  frameSize: string;
  caseName: string;
  isBaseline: boolean;
  ndrMpps: number | null;
  ndrIsLowerBound: boolean;
  ndrDeltaPercent: number | null;
  p99Us: number | null;
  p99DeltaUs: number | null;
  maxUs: number | null;
  maxDeltaUs: number | null;
  latencyWhere: string | null;
}

/** One grouped bar chart: categories are frame sizes, one series per case. */
export interface BarChartView {
  id: string;
  title: string;
  axisName: string;
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
}

export type ComparisonSection =
  | { kind: 'forwarding'; baseline: string; rows: ComparisonRow[]; notes: string[]; charts: BarChartView[] }
  | { kind: 'generic'; blocks: GenericBlock[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// results.json may come from another version: only the exact shape gets the dedicated view.
export function isForwardingComparison(v: unknown): v is ForwardingComparison {
  return isObject(v) && typeof v.baseline === 'string' && Array.isArray(v.cases) && Array.isArray(v.notes) && Array.isArray(v.frameSizes)
    && v.frameSizes.every((f) => isObject(f) && typeof f.frameSize === 'string' && Array.isArray(f.cells) && f.cells.every((c) => isObject(c) && typeof c.caseName === 'string'));
}

const us = (ns: number | null | undefined) => (typeof ns === 'number' ? ns / 1000 : null);

function rowOf(frameSize: string, c: ComparisonCell, baseline: string): ComparisonRow {
  return {
    frameSize,
    caseName: c.caseName,
    isBaseline: c.caseName === baseline,
    ndrMpps: typeof c.ndrPps === 'number' ? c.ndrPps / 1e6 : null,
    ndrIsLowerBound: c.ndrIsLowerBound === true,
    ndrDeltaPercent: c.ndrDeltaPercent ?? null,
    p99Us: us(c.p99Ns),
    p99DeltaUs: us(c.p99DeltaNs),
    maxUs: us(c.maxNs),
    maxDeltaUs: us(c.maxDeltaNs),
    latencyWhere: c.latencyWhere ?? null,
  };
}

function barChart(id: string, title: string, axisName: string, data: ForwardingComparison, pick: (c: ComparisonCell) => number | null): BarChartView {
  const categories = data.frameSizes.map((f) => `${f.frameSize} B`);
  return {
    id,
    title,
    axisName,
    categories,
    series: data.cases.map((name) => ({ name, values: data.frameSizes.map((f) => { const c = f.cells.find((x) => x.caseName === name); return c ? pick(c) : null; }) })),
  };
}

// The dedicated view when the data is a ForwardingComparison, tables of its keys otherwise.
export function buildComparisonSection(value: unknown): ComparisonSection {
  if (!isForwardingComparison(value)) return { kind: 'generic', blocks: buildGenericBlocks(value) };
  return {
    kind: 'forwarding',
    baseline: value.baseline,
    rows: value.frameSizes.flatMap((f) => f.cells.map((c) => rowOf(f.frameSize, c, value.baseline))),
    notes: value.notes,
    charts: [
      barChart('comparison-ndr', 'NDR per frame size', 'NDR (Mpps)', value, (c) => (typeof c.ndrPps === 'number' ? c.ndrPps / 1e6 : null)),
      barChart('comparison-p99', 'latency p99 per frame size', 'p99 (µs)', value, (c) => us(c.p99Ns)),
    ],
  };
}
