// The page of one run: verdict summary, regression, comparison, every case with its figures
// and plots, trends, nodes, notes. Takes the view model and the rendered charts; no I/O.
import type { Delta, NoDelta } from '../../results/comparison.ts';
import type { RegressionReport } from '../../results/regression-report.ts';
import { POD_WIDE } from '../../regression/figures.ts';
import type { Status } from '../../results/model.ts';
import { buildBarSpec, buildHistogramSpec, buildTrendSpec, type ChartSpec } from './chart-specs.ts';
import type { ComparisonRow, ComparisonSection, DeltaView } from './comparison-view.ts';
import { formatDuration, formatMpps, formatNumber } from './format.ts';
import type { ForwardingTable } from './forwarding-view.ts';
import { renderBadge, renderChart, renderDeltaCell, renderDocument, renderGenericBlocks, renderLatencyTable, renderRawOutputs, renderTable } from './page-parts.ts';
import type { RenderedCharts } from './render-charts.ts';
import { renderComputeTable } from './compute-view.ts';
import { html, type SafeHtml } from './safe-html.ts';
import type { TrendView } from './trends.ts';
import type { CaseView, Counts, RunSummaryView, RunView } from './view-model.ts';

/** What each exit code means (lib/results/exit-codes.ts; a unit test keeps the two in step). */
export const EXIT_MEANINGS: Record<number, string> = {
  0: 'ok',
  2: 'bad input',
  68: 'a threshold was missed',
  69: 'a result push failed',
  70: 'something could not be measured',
  71: 'a regression against the baseline',
};

export interface PageOptions {
  /** ISO time printed in the footer; injected so that tests get a stable page. */
  generatedAt: string;
  /** Link raw outputs: true when the page sits in the run's own folder. */
  linkRawOutputs: boolean;
}

// A run whose cases passed but whose exit code is not 0 (a lab left behind, a failed push) must
// not look green, nor may a run with no verdict (`running`): the banner is an error's then.
export function bannerStatus(s: Pick<RunSummaryView, 'status' | 'exitCode'>): Status {
  return s.status === 'running' || (s.status === 'pass' && s.exitCode !== 0) ? 'error' : s.status;
}

// Every plot of the page, in page order, for one rendering pass.
export function collectRunChartSpecs(view: RunView): ChartSpec[] {
  const comparison = view.comparison?.kind === 'forwarding' ? view.comparison.charts.map((c) => buildBarSpec(c)) : [];
  return [...comparison, ...view.cases.flatMap((c) => c.histograms.map((h) => buildHistogramSpec(h))), ...view.trends.charts.map((t) => buildTrendSpec(t))];
}

// Cases and testcases by status: the numbers a CI reader checks first. Failed advisory checks
// are counted apart from the passes they are in JUnit; a case has no such count.
export function renderCounts(rows: [string, Counts][]): SafeHtml {
  return renderTable(['', 'pass', 'advisory', 'fail', 'error', 'skip'], rows.map(([label, c]) => [label, c.pass, c.advisory === undefined ? '' : c.advisory, c.fail, c.error, c.skip]));
}

// Each failed advisory check with what was expected, what was found and the fix: a release
// reader must not take "host: PREEMPT_RT kernel" for a pass.
function renderFindings(findings: RunView['findings']): SafeHtml {
  if (findings.length === 0) return html``;
  return html`<h4 id="advisory">Advisory findings (${findings.length})</h4>
<p class="muted">Checks the threshold profile makes advisory that failed: they do not fail the run (JUnit counts them as passes, with severity=advisory), but each is a finding, not a pass.</p>
${renderTable(['', 'node', 'check', 'expected', 'found', 'fix'], findings.map((f) => [renderBadge('advisory'), f.node ?? '', f.check, f.expected ?? '(not recorded)', f.found ?? '(not recorded)', f.fix ?? '(not recorded)']), () => 'row-advisory')}`;
}

// The verdict fields, shared with the comparison page so both pages name them alike.
export function summaryPairs(s: RunSummaryView): [string, string | SafeHtml][] {
  return [
    ['run id', s.runId],
    ['pod', s.lab ? `${s.pod} (embedded lab pod)` : s.pod],
    ['scenario', s.scenario],
    ['installer', s.installer],
    ['build tag', s.buildTag],
    ['CI loop', s.ciLoop],
    ['threshold profile', s.profile],
    ['status', renderBadge(s.status)],
    ['exit code', `${s.exitCode} (${EXIT_MEANINGS[s.exitCode] ?? 'unknown code'})`],
    ['started', s.startedAt],
    ['stopped', s.stoppedAt],
    ['selection', s.selection],
    ['duration option', s.durationS === null ? 'per case (catalogue)' : `${s.durationS} s`],
  ];
}

function renderSummary(view: RunView): SafeHtml {
  const s = view.summary;
  return html`<section id="summary"><h2>Verdict</h2>
${renderTable(['field', 'value'], summaryPairs(s))}
${renderCounts([['cases', s.caseCounts], ['testcases', s.testcaseCounts]])}
${renderFindings(view.findings)}
${view.notes.length > 0 ? html`<h4>Run notes</h4><ul>${view.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}</section>`;
}

// The gate's `where` often starts with the node already (`guest all threads`).
function figureName(f: { node: string; where: string; metric: string }): string {
  return `${f.node === POD_WIDE || f.where.startsWith(`${f.node} `) ? f.where : `${f.node} ${f.where}`} ${f.metric}`;
}

// The change in percent as the gate stated it; a report from before 1.2.0 has only fromBound.
function changeOf(c: RegressionReport['compared'][number]): Delta | NoDelta {
  if (c.change) return c.change.percent === null ? { kind: 'not-comparable', reason: 'the baseline is 0' } : { ...c.change, value: c.change.percent };
  if (c.fromBound) return { kind: 'not-comparable', reason: 'one figure is a lower bound (written before bounded differences were recorded)' };
  return c.deltaPercent === null ? { kind: 'not-comparable', reason: 'the baseline is 0' } : { kind: 'exact', value: c.deltaPercent, percent: c.deltaPercent };
}

// The gate's verdict against its baseline; regressions in view, the rest folded.
function renderRegression(r: RegressionReport): SafeHtml {
  const [verdict, word] = r.failing ? ['fail', 'regression'] : r.regressions > 0 ? ['error', 'monitored'] : ['pass', 'no regression'];
  // Regressions in view, the figures within their margin folded; ns figures in µs like the rest of the page.
  const k = (unit: string) => (unit === 'ns' ? 1e-3 : 1);
  const bound = (v: number, isBound: boolean) => ({ numText: `${isBound ? '≥ ' : ''}${formatNumber(v)}` });
  const table = (rows: RegressionReport['compared']) => renderTable(
    ['case', 'figure', 'unit', 'baseline', 'this run', 'change', 'allowed', 'action', 'verdict'],
    rows.map((c) => [
      c.caseName, figureName(c), c.unit === 'ns' ? 'µs' : c.unit, bound(c.baseline * k(c.unit), c.change?.kind === 'at-most'), bound(c.current * k(c.unit), c.change?.kind === 'at-least'), renderDeltaCell(changeOf(c), ' %'),
      `${c.marginPercent} %`, c.effectiveAction === c.action ? c.action : `${c.action}, monitored here`, c.verdict === 'regression' ? renderBadge('fail', 'regression') : renderBadge('pass', 'ok'),
    ]),
    (i) => (rows[i]?.verdict === 'regression' ? 'row-fail' : ''),
  );
  const worse = r.compared.filter((c) => c.verdict === 'regression');
  const within = r.compared.filter((c) => c.verdict !== 'regression');
  const compared = html`${worse.length > 0 ? table(worse) : ''}${within.length > 0 ? html`<details><summary>${within.length} figure${within.length === 1 ? '' : 's'} within their margin</summary>${table(within)}</details>` : ''}`;
  // Older results.json files (schema 1.0) have no missing list.
  const missingRows = r.missing ?? [];
  const missing = missingRows.length === 0 ? '' : html`<h4>Missing in this run</h4>${renderTable(
    ['case', 'figure', 'unit', 'baseline', 'why', 'action', 'verdict'],
    missingRows.map((m) => [m.caseName, figureName(m), m.unit === 'ns' ? 'µs' : m.unit, m.baseline * k(m.unit), m.why ?? 'not recorded', m.effectiveAction === m.action ? m.action : `${m.action}, monitored here`, renderBadge('fail', 'regression')]),
    () => 'row-fail',
  )}`;
  const notCompared = r.notCompared.length === 0 ? '' : html`<h4>Not compared</h4>${renderTable(['figure', 'why', 'reason'], r.notCompared.map((n) => [`${n.caseName}: ${figureName(n)}`, n.kind, n.reason]))}`;
  return html`<p>${renderBadge(verdict, word)} ${r.summary}</p>
${r.baseline ? html`<p class="muted">baseline run ${r.baseline.runId} on ${r.baseline.pod}, started ${r.baseline.startedAt}</p>` : ''}
${r.compared.length > 0 ? compared : ''}${missing}${notCompared}
${r.notes.length > 0 ? html`<ul>${r.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}`;
}

// NDR and PDR in Mpps per frame size; a rate that is only a lower bound reads "≥".
function renderForwardingTable(t: ForwardingTable): SafeHtml {
  const headers = ['frame size'];
  if (t.columns.ndr) headers.push('NDR Mpps');
  if (t.columns.pdr) headers.push('PDR Mpps');
  if (t.columns.rx) headers.push('rx Mpps');
  if (t.columns.loss) headers.push('loss %');
  if (t.columns.latency) headers.push('latency avg µs', 'p99 µs', 'max µs');
  headers.push('notes');
  const rows = t.rows.map((r) => {
    const cells: (string | number | null | { numText: string })[] = [r.frameSize];
    if (t.columns.ndr) cells.push({ numText: `${r.ndrIsLowerBound ? '≥ ' : ''}${formatMpps(r.ndrPps)}` });
    if (t.columns.pdr) cells.push({ numText: `${r.pdrIsLowerBound ? '≥ ' : ''}${formatMpps(r.pdrPps)}` });
    if (t.columns.rx) cells.push({ numText: formatMpps(r.rxPps) });
    if (t.columns.loss) cells.push({ numText: formatNumber(r.lossPercent, 4) });
    if (t.columns.latency) {
      const l = r.latencyUs;
      cells.push(l?.avg ?? null, l?.p99 ?? null, l ? { numText: `${l.maxIsLowerBound ? '≥ ' : ''}${formatNumber(l.max)}` } : null);
    }
    cells.push(r.notes.join('; '));
    return cells;
  });
  return html`<h4>Forwarding: ${t.source}</h4>${renderTable(headers, rows)}${t.latencyWhere ? html`<p class="muted">latency: ${t.latencyWhere}</p>` : ''}`;
}

// Differences are against bare metal, the baseline the virtualised paths are judged against;
// one that cannot be stated says so in its cell and why below the table.
export function renderComparison(section: ComparisonSection, charts: RenderedCharts): SafeHtml {
  if (section.kind === 'generic') return renderGenericBlocks(section.blocks);
  const bounded = (v: number | null, bound: boolean) => ({ numText: `${bound && v !== null ? '≥ ' : ''}${formatNumber(v)}` });
  // Blank on the bare-metal row, a dash where a figure is missing on either side.
  const delta = (r: ComparisonRow, d: DeltaView | null, unit: string) => (r.isBaseline ? { numText: '' } : d === null ? { numText: '—' } : renderDeltaCell(d, unit));
  const table = renderTable(
    ['frame size', 'case', 'NDR Mpps', 'NDR vs bare metal', 'p99 µs', 'p99 vs bare metal', 'max µs', 'max vs bare metal', 'forwarder', 'latency taken at'],
    section.rows.map((r) => [
      `${r.frameSize} B`, r.caseName, bounded(r.ndrMpps, r.ndrIsLowerBound),
      r.isBaseline ? { numText: '(baseline)' } : delta(r, r.ndrVs, ' %'),
      r.p99Us, delta(r, r.p99Vs, ' µs'), bounded(r.maxUs, r.maxIsLowerBound), delta(r, r.maxVs, ' µs'),
      [r.forwarder, r.accelerator && r.accelerator !== 'none recorded' ? `under ${r.accelerator}` : null].filter(Boolean).join(' ') || '—', r.latencyWhere ?? '',
    ]),
  );
  const reasons = section.rows.flatMap((r) => ([['NDR', r.ndrVs], ['p99', r.p99Vs], ['max', r.maxVs]] as const).flatMap(([what, d]) => (d?.kind === 'not-comparable' ? [`${r.frameSize} B ${r.caseName} ${what}: ${d.reason}`] : [])));
  return html`<div class="charts">${section.charts.map((c) => renderChart(c.id, charts, c.series.some((s) => s.bounds.some(Boolean)) ? ['hatched bars marked ≥ are only lower bounds: the true value may be higher'] : []))}</div>${table}
${reasons.length > 0 ? html`<h4>Not comparable</h4><ul class="not-comparable">${reasons.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
${section.notes.length > 0 ? html`<ul>${section.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}<p class="muted">≥ before a figure: only a lower bound (generator, calibrated ceiling, iteration cap or an overflowed histogram). ≤ or ≥ before a difference: one figure is a lower bound, so only that side of the difference is known. Differences are against ${section.baseline}.</p>`;
}

function renderCase(c: CaseView, charts: RenderedCharts, options: PageOptions): SafeHtml {
  const testcases = renderTable(
    ['status', 'testcase', 'message'],
    c.testcases.map((t) => [renderBadge(t.status), t.title, t.message ?? '']),
    (i) => `row-${c.testcases[i]?.status ?? ''}`,
  );
  const advisory = c.testcases.filter((t) => t.status === 'advisory').length;
  return html`<article class="case" id="${c.anchor}">
<h3>${c.caseName} ${renderBadge(c.status)}${advisory > 0 ? html` ${renderBadge('advisory', `${advisory} advisory`)}` : ''} <span class="muted">tier ${c.tier}, ${formatDuration(c.durationMs)}</span></h3>
${c.reason ? html`<p class="reason">${c.reason}</p>` : ''}
${c.explanations.length > 0 ? html`<h4>Why (failed preflight checks on the measured nodes)</h4><ul class="explain">${c.explanations.map((e) => html`<li>${e}</li>`)}</ul>` : ''}
${c.latency.length > 0 ? html`<h4>Latency</h4>${renderLatencyTable(c.latency)}` : ''}
${c.histograms.length > 0 ? html`<h4>Latency histograms</h4><div class="charts">${c.histograms.map((h) => renderChart(h.id, charts, h.notes))}</div>` : ''}
${c.forwarding.map(renderForwardingTable)}
${c.testcases.length > 0 ? html`<h4>Testcases</h4>${testcases}` : ''}
${c.rawOutputs.length > 0 ? html`<details><summary>raw outputs (${c.rawOutputs.length})</summary>${renderRawOutputs(c.rawOutputs, options.linkRawOutputs)}</details>` : ''}
</article>`;
}

// Trend charts with the runs they span, so a step in a line can be traced to its run.
function renderTrends(t: TrendView, charts: RenderedCharts): SafeHtml {
  return html`<section id="trends"><h2>Trends across the results history</h2>
${t.notes.length > 0 ? html`<ul>${t.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
${t.charts.map((c) => renderChart(c.id, charts, c.series.some((s) => s.points.some((p) => p.bound)) ? [c.kind === 'throughput' ? 'a triangle is only a lower bound: the generator, the calibrated ceiling or the iteration cap stopped the search' : 'a triangle is only a lower bound: the histogram overflowed'] : []))}
${t.runs.length > 1 ? renderTable(['run', 'started', 'status', 'kernels'], t.runs.map((r) => [r.runId, r.startedAt, renderBadge(r.status), r.kernels])) : ''}
</section>`;
}

// What each node ran on: the context any latency figure needs.
function renderNodes(view: Pick<RunView, 'nodes'>): SafeHtml {
  const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');
  return renderTable(
    ['node', 'role', 'kind', 'kernel', 'PREEMPT_RT', 'QEMU', 'CPUs', 'tools', 'kernel command line'],
    view.nodes.map((n) => [
      n.node, n.role, html`${n.kind}<br><span class="muted">${n.kindEvidence}</span>`,
      `${n.kernelRelease ?? 'unknown'} ${n.kernelVersion ?? ''}`.trim(), yesNo(n.preemptRt), n.qemuVersion ?? 'none found', n.cpus,
      Object.entries(n.tools).map(([tool, v]) => `${tool} ${v}`).join(', '), html`<span class="mono">${n.cmdline ?? 'unknown'}</span>`,
    ]),
  );
}

// The whole page of one run.
export function renderRunPage(view: RunView, charts: RenderedCharts, options: PageOptions): string {
  const s = view.summary;
  const nav: [string, string][] = [['summary', 'Verdict']];
  if (view.computes.length > 0) nav.push(['computes', 'Computes']);
  if (view.regression) nav.push(['regression', 'Regression']);
  if (view.comparison) nav.push(['comparison', 'Comparison']);
  nav.push(['cases', 'Cases'], ['trends', 'Trends'], ['nodes', 'Nodes']);
  if (view.problems.length > 0) nav.push(['problems', 'Report problems']);
  const body = html`${renderSummary(view)}
${view.computes.length > 0 ? html`<section id="computes"><h2>Computes</h2>${renderComputeTable(view.computes)}</section>` : ''}
${view.regression ? html`<section id="regression"><h2>Regression</h2>${renderRegression(view.regression)}</section>` : ''}
${view.comparison ? html`<section id="comparison"><h2>Bare metal, SR-IOV and OVS-DPDK</h2>${renderComparison(view.comparison, charts)}</section>` : ''}
<section id="cases"><h2>Cases</h2>${view.cases.length === 0 ? html`<p class="muted">no case ran</p>` : view.cases.map((c) => renderCase(c, charts, options))}</section>
${renderTrends(view.trends, charts)}
<section id="nodes"><h2>Nodes</h2>${renderNodes(view)}</section>
${view.problems.length > 0 ? html`<section id="problems"><h2>What this report could not read</h2><ul>${view.problems.map((p) => html`<li class="reason">${p}</li>`)}</ul></section>` : ''}`;
  return renderDocument({
    title: `kvmfornfv-test ${s.runId}: ${s.status.toUpperCase()}`,
    status: bannerStatus(s),
    heading: html`<h1>kvmfornfv-test run ${s.runId} ${renderBadge(s.status)}</h1><div>pod ${s.pod}${s.lab ? ' (lab)' : ''} · scenario ${s.scenario} · profile ${s.profile} · exit code ${s.exitCode} (${EXIT_MEANINGS[s.exitCode] ?? 'unknown code'})</div>`,
    nav,
    body,
    footer: `written by kvmfornfv-test at ${options.generatedAt} from results.json; one file, no external resources`,
  });
}
