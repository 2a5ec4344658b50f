// Pieces both pages share: the document shell with its inline stylesheet, status badges,
// tables, latency rows and charts. Everything is built with the escaping `html` tag.
import { formatDelta, type Delta, type NoDelta } from '../../results/comparison.ts';
import type { Status } from '../../results/model.ts';
import type { GenericBlock } from './generic-view.ts';
import type { LatencyRow } from './latency-rows.ts';
import { formatNumber } from './format.ts';
import { html, trustSvg, type SafeHtml } from './safe-html.ts';
import type { RenderedCharts } from './render-charts.ts';

const CSS = `
:root { --pass: #1a7f37; --advisory: #8a5a00; --fail: #cf222e; --error: #9a3d00; --skip: #6e7781; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
header { padding: 16px 24px; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header.pass { background: var(--pass); } header.fail { background: var(--fail); } header.error { background: var(--error); } header.skip { background: var(--skip); }
nav { padding: 8px 24px; background: var(--soft); border-bottom: 1px solid var(--line); }
nav a { margin-right: 16px; color: #0969da; text-decoration: none; }
main { padding: 8px 24px 32px; max-width: 1380px; }
section { margin-top: 24px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
h4 { font-size: 14px; margin: 16px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.row-fail td, tr.row-error td { background: #fff5f5; }
tr.row-advisory td { background: #fff8e1; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; text-transform: uppercase; }
.badge.pass { background: var(--pass); } .badge.advisory { background: var(--advisory); } .badge.fail { background: var(--fail); } .badge.error { background: var(--error); } .badge.skip { background: var(--skip); }
header .badge { background: rgba(255,255,255,.25); font-size: 14px; }
article.case { border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px 12px; margin: 16px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 4px; padding: 4px; background: #fff; }
figcaption { font-size: 12px; color: #57606a; max-width: 640px; }
.muted { color: #57606a; }
.reason { padding: 6px 10px; background: #fff8c5; border-left: 4px solid #d4a72c; }
.explain li { margin: 2px 0; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
pre { background: var(--soft); padding: 8px; overflow-x: auto; }
td.cmdline { max-width: 520px; word-break: break-all; }
.better { color: var(--pass); } .worse { color: var(--fail); }
td.delta-at-most, td.delta-at-least { font-style: italic; } td.delta-not-comparable { color: #57606a; }
`;

// One self-contained document: inline CSS and SVG, no scripts, no external references.
export function renderDocument(a: { title: string; status: Status; heading: SafeHtml; nav: [string, string][]; body: SafeHtml; footer: string }): string {
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${a.title}</title>
<style>${{ __html: CSS }}</style>
</head>
<body>
<header class="${a.status}">${a.heading}</header>
<nav>${a.nav.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</nav>
<main>
${a.body}
</main>
<footer class="muted" style="padding: 8px 24px">${a.footer}</footer>
</body>
</html>
`;
  return page.__html;
}

/** The badge classes; `advisory` is a failed advisory check, which is never shown as a pass. */
export const BADGE_CLASSES = ['pass', 'advisory', 'fail', 'error', 'skip'] as const;

// A status badge; `label` replaces the status word where another reads better (e.g. "regression").
export function renderBadge(status: string, label: string = status): SafeHtml {
  // A run with no verdict (`running`) takes the colour of an error: it is never green.
  const colour = status === 'running' ? 'error' : (BADGE_CLASSES as readonly string[]).includes(status) ? status : 'skip';
  return html`<span class="badge ${colour}">${label}</span>`;
}

/** A cell: plain values are escaped; numbers and `{ numText }` are right-aligned. */
export type Cell = string | number | null | SafeHtml | { numText: string; className?: string };

function renderCell(c: Cell): SafeHtml {
  if (typeof c === 'number' || c === null) return html`<td class="num">${formatNumber(c)}</td>`;
  if (typeof c === 'object' && 'numText' in c) return html`<td class="${['num', c.className ?? ''].join(' ').trim()}">${c.numText}</td>`;
  return html`<td>${c}</td>`;
}

/**
 * A difference against a reference, `value` already in the column's unit. Its class names its
 * kind (delta-exact, delta-at-most, delta-at-least, delta-not-comparable), so that a reader,
 * and a test, tells a one-sided bound from a difference; a bound always reads ≤ or ≥.
 */
export function renderDeltaCell(d: Delta | NoDelta | null, unit: string): Cell {
  if (d === null) return { numText: '' };
  const text = d.kind === 'not-comparable' ? 'not comparable' : formatDelta(d.kind, d.value, (v) => `${formatNumber(v, 1)}${unit}`);
  return { numText: text, className: `delta delta-${d.kind}` };
}

// Every table of the report goes through here, so every cell is escaped or SafeHtml.
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], rowClass?: (i: number) => string): SafeHtml {
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r, i) => html`<tr class="${rowClass?.(i) ?? ''}">${r.map(renderCell)}</tr>`)}</tbody></table>`;
}

const LATENCY_HEADERS = ['where', 'samples', 'min µs', 'avg µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'p99.99 µs', 'max µs', 'overflows', 'notes'];

// A max that is only a lower bound (overflowed histogram) reads "≥ N", never plain N.
export function renderLatencyTable(rows: readonly LatencyRow[]): SafeHtml {
  return renderTable(
    LATENCY_HEADERS,
    rows.map((r) => [
      r.label, r.samples, r.min, r.avg, r.p50, r.p99, r.p999, r.p9999,
      r.maxIsLowerBound ? { numText: `≥ ${formatNumber(r.max)}` } : r.max,
      r.overflows, r.notes.join('; '),
    ]),
  );
}

// A chart, or the reason it could not be drawn in its place.
export function renderChart(id: string, charts: RenderedCharts, caption: readonly string[]): SafeHtml {
  const svg = charts.svg.get(id);
  const body = svg === undefined ? html`<p class="reason">chart not drawn: ${charts.failures.get(id) ?? 'no data'}</p>` : trustSvg(svg);
  return html`<figure id="${id}">${body}${caption.length > 0 ? html`<figcaption>${caption.join('; ')}</figcaption>` : ''}</figure>`;
}

// Data of a shape the report does not know yet, shown as it is rather than dropped.
export function renderGenericBlocks(blocks: readonly GenericBlock[]): SafeHtml {
  return html`${blocks.map((b) => {
    const title = b.title ? html`<h4>${b.title}</h4>` : '';
    if (b.kind === 'table') return html`${title}${renderTable(b.columns, b.rows)}`;
    if (b.kind === 'pairs') return html`${title}${renderTable(['field', 'value'], b.pairs)}`;
    return html`${title}<pre>${b.text}</pre>`;
  })}`;
}

// Raw outputs link to the files beside the report; anything that is not a plain relative
// path (a scheme, an absolute path, `..`) is shown as text, never as a link.
export function renderRawOutputs(paths: readonly string[], link: boolean): SafeHtml {
  const safe = (p: string) => link && !/^[a-z][a-z0-9+.-]*:/i.test(p) && !p.startsWith('/') && !p.split(/[\\/]/).includes('..');
  return html`<ul class="mono">${paths.map((p) => (safe(p) ? html`<li><a href="${p}">${p}</a></li>` : html`<li>${p}</li>`))}</ul>`;
}
