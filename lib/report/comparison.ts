// The forwarding comparison: per frame size, the NDR and the p99/max latency of every
// forwarding case that ran, each next to its difference from bare metal, the baseline the
// virtualised paths are judged against. Pure functions of the run's results; the table is
// printed at the end of the run and the data kept in results.json under `comparison`.
import type { CaseResult, RunResult } from '../results/model.ts';

export const BASELINE_CASE = 'baremetal_forwarding';
export const FORWARDING_CASES = [BASELINE_CASE, 'sriov_forwarding', 'ovs_dpdk_forwarding'] as const;

export interface ComparisonCell {
  caseName: string;
  /** All directions together, pps; null when the case could not confirm one. */
  ndrPps: number | null;
  ndrIsLowerBound: boolean;
  p99Ns: number | null;
  maxNs: number | null;
  /** Where the latency was taken, e.g. `90 % of NDR, both directions merged`. */
  latencyWhere: string | null;
  /** Relative to bare metal: (case - baseline) / baseline x 100; null without both figures. */
  ndrDeltaPercent: number | null;
  p99DeltaNs: number | null;
  maxDeltaNs: number | null;
}

export interface ForwardingComparison {
  baseline: string;
  /** Forwarding cases with at least one frame size measured, in catalogue order. */
  cases: string[];
  frameSizes: Array<{ frameSize: string; cells: ComparisonCell[] }>;
  notes: string[];
}

interface Entry {
  frameSize: string;
  ndrPps: number | null;
  ndrIsLowerBound: boolean;
  p99Ns: number | null;
  maxNs: number | null;
  latencyWhere: string | null;
}

// The comparison data, or undefined when no forwarding case measured anything.
export function buildForwardingComparison(run: RunResult): ForwardingComparison | undefined {
  const notes: string[] = [];
  const byCase = new Map<string, Entry[]>();
  for (const name of FORWARDING_CASES) {
    const result = run.cases.find((c) => c.caseName === name);
    if (!result) continue;
    const entries = readEntries(result, notes);
    if (entries.length > 0) byCase.set(name, entries);
    if (result.status !== 'pass' && entries.length > 0) notes.push(`${name} ended ${result.status}: its figures are shown but were not all judged`);
  }
  if (byCase.size === 0) return undefined;
  const baseline = byCase.get(BASELINE_CASE);
  if (!baseline) notes.push(`${BASELINE_CASE} did not run: no differences to bare metal`);
  const sizes = [...new Set([...byCase.values()].flatMap((es) => es.map((e) => e.frameSize)))].sort(bySize);
  const frameSizes = sizes.map((frameSize) => {
    const base = baseline?.find((e) => e.frameSize === frameSize);
    const cells = [...byCase.entries()].flatMap(([caseName, es]) => {
      const e = es.find((x) => x.frameSize === frameSize);
      if (!e) return [];
      const cell: ComparisonCell = {
        caseName,
        ndrPps: e.ndrPps,
        ndrIsLowerBound: e.ndrIsLowerBound,
        p99Ns: e.p99Ns,
        maxNs: e.maxNs,
        latencyWhere: e.latencyWhere,
        ndrDeltaPercent: base && base.ndrPps !== null && base.ndrPps > 0 && e.ndrPps !== null ? (100 * (e.ndrPps - base.ndrPps)) / base.ndrPps : null,
        p99DeltaNs: base && base.p99Ns !== null && e.p99Ns !== null ? e.p99Ns - base.p99Ns : null,
        maxDeltaNs: base && base.maxNs !== null && e.maxNs !== null ? e.maxNs - base.maxNs : null,
      };
      return [cell];
    });
    return { frameSize, cells };
  });
  return { baseline: BASELINE_CASE, cases: [...byCase.keys()], frameSizes, notes };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function readEntries(result: CaseResult, notes: string[]): Entry[] {
  const list = result.details.throughput;
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    notes.push(`${result.caseName}: details.throughput is not a list; left out`);
    return [];
  }
  return list.flatMap((t: unknown, i): Entry[] => {
    if (!isObject(t) || (typeof t.frameSize !== 'number' && typeof t.frameSize !== 'string')) {
      notes.push(`${result.caseName}: details.throughput[${i}] has no frameSize; left out`);
      return [];
    }
    const latency = isObject(t.latency) ? t.latency : undefined;
    // A latency trial the generator could not drive ran under less load than the others: left out.
    if (latency?.valid === false) notes.push(`${result.caseName} ${String(t.frameSize)} B: the generator could not drive the latency trial; its latency is left out`);
    const summary = latency && latency.valid !== false && isObject(latency.summary) ? latency.summary : undefined;
    const scale = summary?.unit === 'us' ? 1000 : summary?.unit === 'ns' ? 1 : null;
    const inNs = (v: unknown) => (scale === null || num(v) === null ? null : num(v)! * scale);
    const ndr = isObject(t.ndr) ? t.ndr : {};
    return [
      {
        frameSize: String(t.frameSize),
        ndrPps: num(t.ndrPps),
        ndrIsLowerBound: ndr.isLowerBound === true,
        p99Ns: inNs(summary?.p99),
        // A max that is only a lower bound is no figure to subtract.
        maxNs: summary?.maxIsLowerBound === true ? null : inNs(summary?.max),
        latencyWhere: typeof latency?.where === 'string' ? latency.where : null,
      },
    ];
  });
}

function bySize(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isNaN(na) || Number.isNaN(nb)) return Number.isNaN(na) ? (Number.isNaN(nb) ? a.localeCompare(b) : 1) : -1;
  return na - nb;
}

// The comparison as a text table, one block per frame size, deltas signed against bare metal.
export function formatComparisonTable(data: ForwardingComparison): string {
  const header = ['frame', 'case', 'NDR pps', 'vs bare metal', 'p99 us', 'vs bm', 'max us', 'vs bm'];
  const rows: string[][] = [];
  for (const fs of data.frameSizes) {
    fs.cells.forEach((c, i) => {
      const base = c.caseName === data.baseline;
      rows.push([
        i === 0 ? `${fs.frameSize} B` : '',
        c.caseName.replace(/_forwarding$/, ''),
        c.ndrPps === null ? '?' : `${Math.round(c.ndrPps)}${c.ndrIsLowerBound ? '*' : ''}`,
        base ? '(baseline)' : c.ndrDeltaPercent === null ? '-' : `${signed(c.ndrDeltaPercent)} %`,
        us(c.p99Ns),
        base ? '' : c.p99DeltaNs === null ? '-' : signed(c.p99DeltaNs / 1000),
        us(c.maxNs),
        base ? '' : c.maxDeltaNs === null ? '-' : signed(c.maxDeltaNs / 1000),
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    'Forwarding comparison (NDR: all directions; * lower bound, ? not confirmed; latency at the highest latency load)',
    line(header),
    ...rows.map(line),
    ...data.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

function us(ns: number | null): string {
  return ns === null ? '-' : fmt(ns / 1000);
}

function signed(v: number): string {
  return `${v > 0 ? '+' : v < 0 ? '-' : '±'}${fmt(Math.abs(v))}`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}
