// The page of `report RUN --vs OTHER`: both verdicts side by side, what differs in the
// systems, status changes, key figures with their change, and overlaid histograms.
import { buildHistogramSpec, type ChartSpec } from './chart-specs.ts';
import type { CompareView } from './compare-view.ts';
import { formatNumber } from './format.ts';
import { renderBadge, renderChart, renderDeltaCell, renderDocument, renderTable } from './page-parts.ts';
import type { RenderedCharts } from './render-charts.ts';
import { bannerStatus, renderCounts, summaryPairs } from './run-page.ts';
import { html, type SafeHtml } from './safe-html.ts';

// Every plot of the comparison page, for one rendering pass.
export function collectCompareChartSpecs(view: CompareView): ChartSpec[] {
  return view.histograms.map((h) => buildHistogramSpec(h));
}

const statusCell = (s: string | null): SafeHtml | string => (s === null ? 'not run' : renderBadge(s));

function renderSummaries(view: CompareView): SafeHtml {
  const a = summaryPairs(view.run);
  const b = summaryPairs(view.other);
  const rows = a.map(([field, value], i) => [field, value, b[i]?.[1] ?? '']);
  return html`<section id="summary"><h2>Verdicts</h2>
${renderTable(['field', `this run (${view.run.runId})`, `reference (${view.other.runId})`], rows, (i) => {
    const x = a[i]?.[1];
    const y = b[i]?.[1];
    const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    return i > 0 && text(x) !== text(y) ? 'row-error' : '';
  })}
${renderCounts([[`cases, ${view.run.runId}`, view.run.caseCounts], [`cases, ${view.other.runId}`, view.other.caseCounts], [`testcases, ${view.run.runId}`, view.run.testcaseCounts], [`testcases, ${view.other.runId}`, view.other.testcaseCounts]])}
${view.caveats.length > 0 ? html`<h4>Not alike</h4><ul>${view.caveats.map((c) => html`<li class="reason">${c}</li>`)}</ul>` : html`<p class="muted">same pod, threshold profile, duration, kernels and QEMU</p>`}
</section>`;
}

function renderFigures(view: CompareView): SafeHtml {
  if (view.figures.length === 0) return html`<p class="muted">no key figures in either run</p>`;
  const value = (v: number | null, bound: boolean) => ({ numText: `${bound ? '≥ ' : ''}${formatNumber(v)}` });
  // Why two figures that both exist are not set against each other; a missing one speaks for itself.
  const reasons = view.figures.flatMap((f) => (f.change.kind === 'not-comparable' && f.run !== null && f.other !== null ? [`${f.label}: ${f.change.reason}`] : []));
  return html`${renderTable(
    ['figure', 'unit', 'this run', 'reference', 'change', ''],
    view.figures.map((f) => [
      f.label, f.unit, value(f.run, f.runBound), value(f.other, f.otherBound), f.run === null || f.other === null ? { numText: '—' } : renderDeltaCell(f.change, ' %'),
      f.better === null ? '' : f.better ? html`<span class="better">better</span>` : html`<span class="worse">worse</span>`,
    ]),
  )}${reasons.length > 0 ? html`<h4>Not comparable</h4><ul class="not-comparable">${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
<p class="muted">≥ before a figure: only a lower bound. ≤ or ≥ before a change: one figure is a lower bound, so only that side of the change is known.</p>`;
}

// The whole comparison page.
export function renderComparePage(view: CompareView, charts: RenderedCharts, options: { generatedAt: string }): string {
  const body = html`${renderSummaries(view)}
<section id="cases"><h2>Cases</h2>
${renderTable(['case', 'this run', 'reference'], view.caseRows.map((r) => [r.caseName, statusCell(r.run), statusCell(r.other)]))}
${view.testcaseChanges.length > 0 ? html`<h4>Testcases whose status changed</h4>${renderTable(['case', 'testcase', 'this run', 'reference'], view.testcaseChanges.map((t) => [t.caseName, t.title, statusCell(t.run), statusCell(t.other)]))}` : html`<p class="muted">every testcase ended the same in both runs</p>`}
</section>
<section id="figures"><h2>Key figures</h2>${renderFigures(view)}</section>
<section id="histograms"><h2>Latency histograms</h2>${view.histograms.length === 0 ? html`<p class="muted">no histograms in either run</p>` : html`<div class="charts">${view.histograms.map((h) => renderChart(h.id, charts, h.notes))}</div>`}</section>
<section id="nodes"><h2>System differences</h2>${view.systemRows.length === 0 ? html`<p class="muted">no differences in kernel, PREEMPT_RT, kind, QEMU, CPUs or kernel command line</p>` : renderTable(['node', 'field', 'this run', 'reference'], view.systemRows.map((r) => [r.node, r.field, r.run, r.other]))}</section>`;
  return renderDocument({
    title: `kvmfornfv-test ${view.run.runId} vs ${view.other.runId}`,
    status: bannerStatus(view.run),
    heading: html`<h1>kvmfornfv-test run ${view.run.runId} ${renderBadge(view.run.status)} vs ${view.other.runId} ${renderBadge(view.other.status)}</h1><div>pod ${view.run.pod} · profile ${view.run.profile}</div>`,
    nav: [['summary', 'Verdicts'], ['cases', 'Cases'], ['figures', 'Key figures'], ['histograms', 'Histograms'], ['nodes', 'System differences']],
    body,
    footer: `written by kvmfornfv-test at ${options.generatedAt} from two results.json files; one file, no external resources`,
  });
}
