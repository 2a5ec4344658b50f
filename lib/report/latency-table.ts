// A fixed-width latency table for JUnit system-out and the console.
import type { LocatedSummary } from '../cases/latency-figures.ts';

const COLUMNS = ['samples', 'min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999', 'overflows'] as const;

export function formatLatencyTable(rows: readonly LocatedSummary[]): string {
  if (rows.length === 0) return '';
  const unit = rows[0]?.summary.unit ?? 'us';
  const header = ['where', ...COLUMNS.map((c) => (c === 'samples' || c === 'overflows' ? c : `${c} ${unit}`))];
  const body = rows.map(({ where, summary }) => [
    where,
    ...COLUMNS.map((c) => {
      const v = summary[c];
      if (v === null) return '-';
      return c === 'avg' ? v.toFixed(1) : String(v);
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const notes = rows.flatMap(({ where, summary }) => Object.entries(summary.notes).map(([k, v]) => `${where}: ${k}: ${v}`));
  return [line(header), ...body.map(line), ...notes].join('\n');
}
