// Guard for issue 11: what report.html says must be true. The run is a recorded lab run
// (test/fixtures/report/lab-all.run.source.md): 28 failed advisory checks and a bare-metal
// 64 B NDR that is only a lower bound, plus a regression verdict against a baseline whose
// SR-IOV NDR is a floor. Its junit.xml, results.json and report.html are written by the run's
// own reporters into a run folder, and the page is opened in headless Chromium (Debian
// package chromium). What the page must say is taken from junit.xml (which testcases are
// failed advisory checks) and results.json (which figures are bounds), never from the
// report's view model; the page is read by its badge and cell classes, not only its words.
// Set KFN_HTML_SCREENSHOT_DIR to keep a screenshot of the page.
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { reportCommand } from '../../../lib/cli/report-command.ts';
import { evaluateRegression } from '../../../lib/regression/evaluate.ts';
import { buildForwardingComparison } from '../../../lib/report/comparison.ts';
import { createHtmlReporter } from '../../../lib/report/html/index.ts';
import { createJunitReporter, testcaseProperties } from '../../../lib/report/junit.ts';
import { createResultsJsonReporter } from '../../../lib/report/results-json.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadLabAllRun } from '../../fixtures/report/lab-runs.ts';
import { requireChromium, visitPage } from '../../support/chromium.ts';
import { readJenkinsJunit } from '../../support/jenkins-junit-reader.ts';

interface CellSeen {
  text: string;
  classes: string[];
  badges: string[][];
}
interface TableSeen {
  headers: string[];
  rows: CellSeen[][];
}

// Every table of a section as Chromium lays it out: cell text, cell classes, badge classes.
const TABLES = (selector: string) => `[...(document.querySelector(${JSON.stringify(selector)})?.querySelectorAll('table') ?? [])].map((t) => ({
  headers: [...t.querySelectorAll('thead th')].map((th) => th.textContent),
  rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => ({ text: td.innerText ?? td.textContent, classes: [...td.classList], badges: [...td.querySelectorAll('.badge')].map((b) => [...b.classList]) }))),
}))`;
const SVG_TEXT = (selector: string) => `[...document.querySelectorAll(${JSON.stringify(`${selector} svg text`)})].map((t) => t.textContent)`;

/** A difference written as an exact signed number: what must never stand next to a bound. */
const SIGNED = /^[+\-±−]\s*\d/;

function expectBounded(cell: CellSeen | undefined, what: string): void {
  expect(cell, what).to.not.equal(undefined);
  expect(cell!.classes, what).to.not.include('delta-exact');
  expect(cell!.text.trim(), what).to.not.match(SIGNED);
  expect(cell!.text.trim(), what).to.match(/^(≤|≥|not comparable)/);
}

function column(table: TableSeen, header: string): number {
  const i = table.headers.indexOf(header);
  expect(i, `column ${header} in ${table.headers.join(' | ')}`).to.be.at.least(0);
  return i;
}

// The baseline: the same run a day earlier, whose SR-IOV 64 B NDR was only a floor above this run's figure.
function baselineOf(run: RunResult): RunResult {
  const base = structuredClone(run);
  base.runId = 'baseline-run';
  base.startedAt = new Date(Date.parse(run.startedAt) - 86_400_000).toISOString();
  const sriov = base.cases.find((c) => c.caseName === 'sriov_forwarding')!;
  const entry = (sriov.details.throughput as { frameSize: number; ndrPps: number; ndr: Record<string, unknown> }[]).find((t) => t.frameSize === 64)!;
  entry.ndrPps = Math.round(entry.ndrPps * 1.25);
  Object.assign(entry.ndr, { isLowerBound: true, limitedBy: 'generator' });
  return base;
}

async function writeRun(root: string, run: RunResult): Promise<string> {
  const dir = join(root, run.runId);
  await mkdir(dir, { recursive: true });
  // As lib/cli/run-command.ts finishes a run: the comparison is built, then the reporters end.
  run.comparison = buildForwardingComparison(run);
  for (const reporter of [createJunitReporter(dir), createResultsJsonReporter(dir), createHtmlReporter(dir)]) await reporter.onEnd?.(run);
  return dir;
}

describe('report/html says what junit.xml and results.json say (headless Chromium)', function () {
  this.timeout(120_000);
  let root: string;
  let runDir: string;

  before(async function () {
    requireChromium(this);
    root = await mkdtemp(join(tmpdir(), 'kfn-html-truth-'));
    const run = loadLabAllRun();
    const baseline = baselineOf(run);
    await writeRun(root, baseline);
    run.regression = evaluateRegression({ current: run, baseline, profileSection: undefined });
    runDir = await writeRun(root, run);
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows no failed advisory check with a PASS badge: each carries the advisory badge, with what was expected, found and the fix', async () => {
    // The cases' suites; the regression verdict is a suite of its own, not a case of the page.
    const junit = readJenkinsJunit(await readFile(join(runDir, 'junit.xml'), 'utf8')).filter((s) => s.name !== 'kvmfornfv.regression');
    // From junit.xml: passing testcases whose suite properties say severity=advisory, outcome=fail.
    const advisory = junit.flatMap((s) => s.cases.filter((c) => c.status === 'PASSED').filter((c) => {
      const p = testcaseProperties(s.properties, c.name);
      return p.severity === 'advisory' && p.outcome === 'fail';
    }).map((c) => c.name));
    expect(advisory).to.have.length(28);
    const page = pathToFileURL(join(runDir, 'report.html')).href;
    // KFN_HTML_SCREENSHOT_DIR keeps a full-page screenshot for a look.
    const shots = process.env.KFN_HTML_SCREENSHOT_DIR;
    const visit = await visitPage(page, { evaluate: [TABLES('#cases'), TABLES('#summary')], ...(shots ? { screenshot: join(shots, 'report-truth.png') } : {}) });
    expect(visit.errors).to.deep.equal([]);
    const rows = (visit.values[TABLES('#cases')] as TableSeen[]).filter((t) => t.headers.join() === 'status,testcase,message').flatMap((t) => t.rows);
    for (const title of advisory) {
      const row = rows.find((r) => r[1]?.text === title);
      expect(row, title).to.not.equal(undefined);
      expect(row![0]!.badges, title).to.deep.equal([['badge', 'advisory']]);
      expect(row![0]!.text.trim().toLowerCase(), title).to.equal('advisory');
      expect(row![2]!.text, title).to.match(/^expected .+; found .+; fix: .+/);
    }
    // Every PASS badge on the page belongs to a testcase junit.xml does not call a finding.
    const passed = rows.filter((r) => r[0]!.badges.some((b) => b.includes('pass'))).map((r) => r[1]!.text);
    expect(passed.filter((t) => advisory.includes(t))).to.deep.equal([]);
    // The verdict counts findings apart from passes, and lists them with their fix.
    const summary = visit.values[TABLES('#summary')] as TableSeen[];
    const counts = summary.find((t) => t.headers.includes('advisory'))!;
    const testcases = counts.rows.find((r) => r[0]!.text === 'testcases')!;
    const passes = junit.flatMap((s) => s.cases).filter((c) => c.status === 'PASSED').length;
    expect(testcases[column(counts, 'pass')]!.text).to.equal(String(passes - advisory.length));
    expect(testcases[column(counts, 'advisory')]!.text).to.equal(String(advisory.length));
    const findings = summary.find((t) => t.headers.includes('fix'))!;
    expect(findings.rows).to.have.length(advisory.length);
    expect(findings.rows.every((r) => r[0]!.badges.length === 1 && r[0]!.badges[0]!.includes('advisory'))).to.equal(true);
  });

  it('states no signed difference against a lower bound: comparison table, bar chart and regression verdict', async () => {
    const results = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8')) as {
      comparison: { baseline: string; frameSizes: { frameSize: string; cells: { caseName: string; ndrIsLowerBound: boolean; maxAtLeastNs?: number | null }[] }[] };
      regression: { compared: { caseName: string; verdict: string; fromBound: boolean }[] };
    };
    const page = pathToFileURL(join(runDir, 'report.html')).href;
    const visit = await visitPage(page, { evaluate: [TABLES('#comparison'), TABLES('#regression'), SVG_TEXT('#comparison-ndr')] });
    expect(visit.errors).to.deep.equal([]);
    const [table] = visit.values[TABLES('#comparison')] as TableSeen[];
    let bounded = 0;
    for (const fs of results.comparison.frameSizes) {
      const base = fs.cells.find((c) => c.caseName === results.comparison.baseline);
      for (const cell of fs.cells.filter((c) => c !== base)) {
        const row = table!.rows.find((r) => r[0]!.text === `${fs.frameSize} B` && r[1]!.text === cell.caseName)!;
        if (cell.ndrIsLowerBound || base?.ndrIsLowerBound) {
          bounded += 1;
          expectBounded(row[column(table!, 'NDR vs bare metal')], `${fs.frameSize} B ${cell.caseName} NDR`);
        }
        if (typeof cell.maxAtLeastNs === 'number' || typeof base?.maxAtLeastNs === 'number') expectBounded(row[column(table!, 'max vs bare metal')], `${fs.frameSize} B ${cell.caseName} max`);
      }
      for (const cell of fs.cells.filter((c) => c.ndrIsLowerBound)) {
        const row = table!.rows.find((r) => r[0]!.text === `${fs.frameSize} B` && r[1]!.text === cell.caseName)!;
        expect(row[column(table!, 'NDR Mpps')]!.text, `${fs.frameSize} B ${cell.caseName}`).to.match(/^≥ /);
      }
    }
    // The recorded run: bare metal's 64 B floor bounds both SR-IOV's and OVS-DPDK's differences.
    expect(bounded).to.equal(2);
    // The NDR chart draws each floor apart (a ≥ over its bar) and names it in the legend.
    const texts = visit.values[SVG_TEXT('#comparison-ndr')] as string[];
    const floors = results.comparison.frameSizes.flatMap((f) => f.cells).filter((c) => c.ndrIsLowerBound).length;
    expect(texts.filter((t) => t === '≥')).to.have.length(floors);
    expect(texts).to.include('≥ only a lower bound');
    // Regression rows, regressions first then the rest, in results.json order.
    const compared = [...results.regression.compared.filter((c) => c.verdict === 'regression'), ...results.regression.compared.filter((c) => c.verdict !== 'regression')];
    const regression = (visit.values[TABLES('#regression')] as TableSeen[]).filter((t) => t.headers.includes('change'));
    const changes = regression.flatMap((t) => t.rows.map((r) => r[column(t, 'change')]));
    expect(changes).to.have.length(compared.length);
    expect(compared.filter((c) => c.fromBound)).to.have.length(1);
    compared.forEach((c, i) => {
      if (c.fromBound) expectBounded(changes[i], `regression ${c.caseName}`);
      else expect(changes[i]!.classes, `regression ${c.caseName}`).to.include('delta-exact');
    });
  });

  it('report --vs states a difference to a reference floor as one-sided', async () => {
    // From both results.json files: the forwarding rates that are only floors, by row label.
    const floors = new Set<string>();
    for (const dir of [runDir, join(root, 'baseline-run')]) {
      const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { cases: { caseName: string; tier: string; details: { throughput?: { frameSize: number; ndr?: { isLowerBound?: boolean }; pdr?: { isLowerBound?: boolean } }[] } }[] };
      for (const c of results.cases.filter((x) => x.tier === 'forwarding')) {
        for (const t of c.details.throughput ?? []) {
          for (const m of ['ndr', 'pdr'] as const) if (t[m]?.isLowerBound === true) floors.add(`${c.caseName}: ${t.frameSize} B frames ${m}`);
        }
      }
    }
    expect([...floors].sort()).to.deep.equal(['baremetal_forwarding: 64 B frames ndr', 'baremetal_forwarding: 64 B frames pdr', 'sriov_forwarding: 64 B frames ndr']);
    const lines: string[] = [];
    await reportCommand({ run: runDir, vs: join(root, 'baseline-run'), results: root, out: (l) => lines.push(l) });
    const visit = await visitPage(pathToFileURL(lines[0]!).href, { evaluate: [TABLES('#figures')] });
    expect(visit.errors).to.deep.equal([]);
    const [table] = visit.values[TABLES('#figures')] as TableSeen[];
    const change = column(table!, 'change');
    for (const label of floors) expectBounded(table!.rows.find((r) => r[0]!.text === label)?.[change], label);
    // Exact in this run, a floor in the reference: only "at most" is known.
    expect(table!.rows.find((r) => r[0]!.text === 'sriov_forwarding: 64 B frames ndr')![change]!.text).to.equal('≤ -20 %');
  });
});
