// One row per compute group of a run with several: its testcases by status, its worst timer
// and interrupt latency and where, and when it was measured, so that the worst compute is
// found at a glance. Pure: read from the result model only.
import type { CaseResult, RunResult, Status } from '../../results/model.ts';
import { html, type SafeHtml } from './safe-html.ts';
import { buildLatencyRow, isLatencySummary } from './latency-rows.ts';
import { renderBadge, renderTable } from './page-parts.ts';

type Counts = Record<Status, number>;

export interface Worst {
  us: number;
  where: string;
  /** Only a lower bound: the histogram overflowed. */
  bound: boolean;
}

export interface ComputeRow {
  compute: string;
  nodes: string[];
  counts: Counts;
  timerMax: Worst | null;
  interruptMax: Worst | null;
  measuredFrom: string | null;
  measuredTo: string | null;
  /** The group with the highest latency of the run, or one whose tests failed or erred. */
  worst: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// The higher of two maxima; a bound counts at its value.
function higher(a: Worst | null, b: Worst | null): Worst | null {
  if (!a) return b;
  if (!b) return a;
  return b.us > a.us ? b : a;
}

function maxOf(summary: unknown, where: string): Worst | null {
  if (!isLatencySummary(summary)) return null;
  const row = buildLatencyRow(where, summary);
  return row.max === null ? null : { us: row.max, where, bound: row.maxIsLowerBound };
}

// timer: details.<node>.overall.summary; device_interrupt: details.<guest>.receive_to_handler and wire_to_handler.
function worstOf(cases: readonly CaseResult[], caseName: string, nodes: readonly string[]): Worst | null {
  let worst: Worst | null = null;
  for (const c of cases.filter((x) => x.caseName === caseName)) {
    for (const node of nodes) {
      const d = c.details[node];
      if (!isObject(d)) continue;
      if (caseName === 'timer') worst = higher(worst, maxOf(isObject(d.overall) ? d.overall.summary : undefined, `${node} all threads`));
      for (const figure of ['receive_to_handler', 'wire_to_handler']) {
        const f = d[figure];
        if (caseName !== 'timer' && isObject(f)) worst = higher(worst, maxOf(f.summary, `${node} ${figure}`));
      }
    }
  }
  return worst;
}

export function buildComputeRows(run: RunResult): ComputeRow[] {
  const rows = (run.computes ?? []).map((g): ComputeRow => {
    const nodes = [...(g.host ? [g.host] : []), ...g.guests];
    const counts: Counts = { pass: 0, fail: 0, error: 0, skip: 0 };
    for (const t of run.cases.flatMap((c) => c.testcases).filter((t) => t.compute === g.name)) counts[t.status] += 1;
    const windows = run.cases.flatMap((c) => c.windows ?? []).filter((w) => w.compute === g.name);
    const times = windows.flatMap((w) => [w.start, w.end]).sort();
    return {
      compute: g.name,
      nodes,
      counts,
      timerMax: worstOf(run.cases, 'timer', nodes),
      interruptMax: worstOf(run.cases, 'device_interrupt', nodes),
      measuredFrom: times[0] ?? null,
      measuredTo: times[times.length - 1] ?? null,
      worst: false,
    };
  });
  const peak = Math.max(...rows.map((r) => Math.max(r.timerMax?.us ?? -1, r.interruptMax?.us ?? -1)));
  for (const r of rows) r.worst = r.counts.error + r.counts.fail > 0 || (peak >= 0 && Math.max(r.timerMax?.us ?? -1, r.interruptMax?.us ?? -1) === peak);
  return rows;
}

const cell = (w: Worst | null) => (w ? { numText: `${w.bound ? '≥ ' : ''}${w.us.toFixed(1)} (${w.where})` } : '—');

export function renderComputeTable(rows: readonly ComputeRow[]): SafeHtml {
  const table = renderTable(
    ['compute', 'nodes', 'pass', 'fail', 'error', 'skip', 'timer max µs', 'interrupt max µs', 'measured'],
    rows.map((r) => [
      r.worst ? html`${r.compute} ${renderBadge(r.counts.error > 0 ? 'error' : 'fail', 'worst')}` : r.compute,
      r.nodes.join(', '), r.counts.pass, r.counts.fail, r.counts.error, r.counts.skip, cell(r.timerMax), cell(r.interruptMax),
      r.measuredFrom && r.measuredTo ? `${r.measuredFrom} to ${r.measuredTo}` : '—',
    ]),
    (i) => (rows[i]?.counts.error ? 'row-error' : rows[i]?.counts.fail ? 'row-fail' : ''),
  );
  return html`${table}<p class="muted">each compute is a host and its guests, measured one after the other; computes were measured side by side. worst: the highest latency of the run, or any failed or erred test. Times are each node's own clock.</p>`;
}
