// Every latency distribution a case recorded, as one table row in microseconds: timer
// threads and their overall, device-interrupt figures, any `{where, summary}` pair. Pure.
import type { LatencySummary } from '../../results/model.ts';

export interface LatencyRow {
  /** e.g. `guest thread 0 (cpu 1)` or `guest wire_to_handler` */
  label: string;
  samples: number | null;
  min: number | null;
  avg: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  p9999: number | null;
  max: number | null;
  maxIsLowerBound: boolean;
  overflows: number | null;
  /** Why figures are missing or bounds, as the case recorded it. */
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

// results.json may come from another version: only a summary of the model's shape is a row.
export function isLatencySummary(v: unknown): v is LatencySummary {
  return isObject(v) && (v.unit === 'us' || v.unit === 'ns') && typeof v.samples === 'number' && typeof v.maxIsLowerBound === 'boolean';
}

// Summaries keep their recorded unit; the report shows microseconds everywhere.
export function buildLatencyRow(label: string, s: LatencySummary): LatencyRow {
  const k = s.unit === 'ns' ? 1e-3 : 1;
  const us = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v * k : null);
  const notes = Object.entries(isObject(s.notes) ? s.notes : {}).map(([figure, note]) => `${figure}: ${String(note)}`);
  return {
    label,
    samples: s.samples,
    min: us(s.min),
    avg: us(s.avg),
    p50: us(s.p50),
    p99: us(s.p99),
    p999: us(s.p999),
    p9999: us(s.p9999),
    max: us(s.max),
    maxIsLowerBound: s.maxIsLowerBound,
    overflows: typeof s.overflows === 'number' ? s.overflows : null,
    notes,
  };
}

function emptyRow(label: string, reason: string): LatencyRow {
  return { label, samples: null, min: null, avg: null, p50: null, p99: null, p999: null, p9999: null, max: null, maxIsLowerBound: false, overflows: null, notes: [reason] };
}

const isFrameList = (v: unknown[]) => v.length > 0 && v.every((e) => isObject(e) && 'frameSize' in e);

/**
 * Walks details: `{where, summary}` rows are named by `where`, bare summaries by their key path
 * (`summary` left out), `{summary: null, reason}` figures become a row that says why. Lists of
 * frame sizes are left to the forwarding table.
 */
export function findLatencyRows(details: Record<string, unknown>, maxDepth = 5): LatencyRow[] {
  const rows: LatencyRow[] = [];
  const visit = (value: unknown, path: string[], depth: number) => {
    if (depth > maxDepth) return;
    if (Array.isArray(value)) {
      if (!isFrameList(value)) value.forEach((v, i) => visit(v, [...path, `#${i}`], depth + 1));
      return;
    }
    if (!isObject(value)) return;
    if (isLatencySummary(value)) {
      rows.push(buildLatencyRow(path.filter((p) => p !== 'summary').join(' '), value));
      return;
    }
    if (typeof value.where === 'string' && isLatencySummary(value.summary)) {
      rows.push(buildLatencyRow(value.where, value.summary));
      return;
    }
    if ('summary' in value && value.summary === null && typeof value.reason === 'string') {
      rows.push(emptyRow(path.join(' '), `not computed: ${value.reason}`));
      return;
    }
    for (const [key, v] of Object.entries(value)) visit(v, [...path, key], depth + 1);
  };
  visit(details, [], 0);
  return rows;
}
