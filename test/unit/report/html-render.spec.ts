// The rendered report: one self-contained file with server-rendered SVG plots, written by
// the run's reporter and by `kvmfornfv-test report`. Run folders are built in a temp dir from
// the RunResult fixtures (test/fixtures/report/README.source.md) with cyclictest JSON in the
// 2.4 `--json` shape of /work/shared/notes/formats.md.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../../../lib/cli/report-command.ts';
import { EXIT } from '../../../lib/results/exit-codes.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { appendHistory } from '../../../lib/regression/history.ts';
import { evaluateRegression } from '../../../lib/regression/evaluate.ts';
import { buildRunReportHtml, createHtmlReporter } from '../../../lib/report/html/index.ts';
import { renderCharts } from '../../../lib/report/html/render-charts.ts';
import { EXIT_MEANINGS } from '../../../lib/report/html/run-page.ts';
import { ReporterMultiplexer } from '../../../lib/report/reporter.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

const NOW = () => new Date('2026-03-12T12:00:00.000Z');

/** cyclictest 2.4 `--json` with one thread: non-zero buckets, a long tail of single samples. */
function cyclictestJson(peakUs: number, maxUs: number): string {
  const histogram: Record<string, number> = { [peakUs - 1]: 900, [peakUs]: 50_000, [peakUs + 1]: 8000, [peakUs + 40]: 12, [maxUs]: 1 };
  return JSON.stringify({ file_version: 1, 'cmdline:': 'cyclictest -m -q -h 20000 --json=x', 'rt_test_version:': '2.40', num_threads: 1, resolution_in_ns: 0, thread: { 0: { histogram, cycles: 58_913, min: peakUs - 1, max: maxUs, avg: peakUs + 0.5, cpu: 1, node: 0 } } }).replace('"avg":', '"avg": ');
}

async function writeRunFolder(root: string, run: RunResult, opts: { history?: boolean } = {}): Promise<string> {
  const dir = join(root, run.runId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), JSON.stringify(run));
  for (const rel of run.cases.flatMap((c) => c.rawOutputs).filter((p) => p.endsWith('cyclictest.json'))) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    const node = rel.split('/').at(-2) as string;
    const detail = run.cases.find((c) => c.rawOutputs.includes(rel))?.details[node] as { overall?: { summary: { max: number } } } | undefined;
    await writeFile(join(dir, rel), cyclictestJson(80, detail?.overall?.summary.max ?? 500));
  }
  if (opts.history) await appendHistory({ resultsRoot: root, run, resultsFile: join(dir, 'results.json') });
  return dir;
}

function shifted(run: RunResult, hours: number, id: string): RunResult {
  const copy = structuredClone(run);
  copy.runId = id;
  copy.startedAt = new Date(Date.parse(run.startedAt) + hours * 3600_000).toISOString();
  return copy;
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

function expectSelfContained(page: string): void {
  expect(page.startsWith('<!DOCTYPE html>')).to.equal(true);
  expect(page, 'no scripts').to.not.match(/<script/i);
  expect(page, 'no external URL').to.not.match(/https?:\/\//i);
  // url(#id) is a clip path inside the same SVG; anything else would be fetched.
  expect(/\s(src|srcset)=|url\((?!#)|@import|<link\b/i.exec(page)?.[0], 'nothing loaded from elsewhere').to.equal(undefined);
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size, 'unique ids').to.equal(ids.length);
}

describe('report/html rendered page', function () {
  this.timeout(20_000);
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kfn-html-unit-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is one self-contained file with a log-count latency histogram per timer node', async () => {
    const run = loadRunFixture('lab-timer-pass');
    const dir = await writeRunFolder(root, run);
    const page = await buildRunReportHtml({ run, runDir: dir, resultsRoot: root, generatedAt: NOW().toISOString() });
    expectSelfContained(page);
    expect(count(page, /<svg\b/g)).to.equal(2);
    expect(count(page, /<figure id="hist-timer-(host|guest)-\d+">/g)).to.equal(2);
    expect(count(page, />latency \(µs\)<\/text>/g)).to.equal(2);
    expect(count(page, />samples \(log scale\)<\/text>/g)).to.equal(2);
    // Log ticks: decades, not a linear scale.
    expect(page).to.match(/>10<\/text>[\s\S]*>100<\/text>[\s\S]*>1,000<\/text>/);
    expect(page).to.include('max 2,975 µs').and.to.include('p99 212 µs');
    expect(page).to.include('from timer/host/cyclictest.json');
  });

  it('draws a bucket of one sample with a height (bars start below 1 on the log axis)', async () => {
    const run = loadRunFixture('lab-timer-pass');
    const dir = await writeRunFolder(root, run);
    const page = await buildRunReportHtml({ run, runDir: dir, generatedAt: NOW().toISOString() });
    const svg = page.slice(page.indexOf('<svg'), page.indexOf('</svg>'));
    // ECharts writes each bucket's rect as a path "Mx yl<w> 0l0 <h>l-<w> 0Z" in the series colour.
    const heights = [...svg.matchAll(/<path d="M[\d.]+ [\d.]+l[\d.]+ 0l0 ([\d.]+)l-[\d.]+ 0Z" fill="#3366cc"/g)].map((m) => Number(m[1]));
    expect(heights.length).to.be.at.least(3);
    expect(Math.min(...heights)).to.be.greaterThan(5);
  });

  it('shows verdict, counts, nodes, reason, explanations and raw outputs of a mixed run', async () => {
    const run = loadRunFixture('daily-mixed');
    const page = await buildRunReportHtml({ run, runDir: root, generatedAt: NOW().toISOString() });
    expectSelfContained(page);
    for (const text of ['20260313T020000Z-pod2', 'intel-pod10', 'os-nosdn-kvm_ovs_dpdk-ha', 'opnfv-tc028', run.environment.buildTag, 'cannot open /dev/ptp0', "compute-0: CPU 4 (the load's CPU) shares a core with the guest's vCPU thread".replaceAll("'", '&#39;'), 'isolcpus=1-7', '4.4.50-rt62']) {
      expect(page).to.include(text);
    }
    // Cases have no advisory count; testcases do.
    expect(page).to.match(/<tr class=""><td>cases<\/td><td class="num">0<\/td><td><\/td><td class="num">1<\/td><td class="num">1<\/td><td class="num">1<\/td><\/tr>/);
    expect(page).to.match(/<tr class=""><td>testcases<\/td><td class="num">\d+<\/td><td class="num">0<\/td>/);
    expect(page).to.include('<a href="timer/vnf-guest/cyclictest.json">');
    // The raw file is not in this folder: the page says so instead of drawing nothing silently.
    expect(page).to.match(/cannot read timer\/vnf-guest\/cyclictest.json \(no such file\)/);
  });

  it('does not paint a run green whose cases passed but whose exit code is not 0', async () => {
    const run = loadRunFixture('lab-timer-pass');
    run.exitCode = 70;
    const page = await buildRunReportHtml({ run, runDir: root, generatedAt: NOW().toISOString() });
    expect(page).to.include('<header class="error">').and.to.include('70 (something could not be measured)');
    run.exitCode = 0;
    expect(await buildRunReportHtml({ run, runDir: root, generatedAt: NOW().toISOString() })).to.include('<header class="pass">');
  });

  it('renders forwarding tables per frame size and the regression verdict', async () => {
    const run = loadRunFixture('forwarding-frames');
    // The regression figures of the lab timer fixture, the guest's max doubled against its baseline.
    const timerBaseline = shifted(loadRunFixture('lab-timer-pass'), -24, 'base');
    const timerCurrent = loadRunFixture('lab-timer-pass');
    (timerCurrent.cases[0]!.details.guest as { overall: { summary: { max: number } } }).overall.summary.max *= 2;
    run.regression = evaluateRegression({ current: timerCurrent, baseline: timerBaseline, profileSection: undefined });
    expect(run.regression.regressions).to.equal(1);
    const page = await buildRunReportHtml({ run, runDir: root, generatedAt: NOW().toISOString() });
    expect(page).to.include('<h4>Forwarding: frames</h4>');
    expect(page).to.match(/<td>64<\/td><td class="num">7.41<\/td><td class="num">0.001<\/td><td class="num">21.5<\/td><td class="num">34<\/td><td class="num">61<\/td>/);
    expect(page).to.include('<section id="regression">').and.to.include(run.regression.summary.replace(/'/g, '&#39;'));
    expect(page).to.match(/<tr class="row-fail"><td>timer<\/td><td>guest all threads max<\/td><td>us<\/td><td class="num">3,311<\/td><td class="num">6,622<\/td><td class="num delta delta-exact">\+100 %<\/td>/);
    expect(count(page, /<tr class="row-fail">/g)).to.equal(1);
    expect(page).to.match(/<details><summary>3 figures within their margin<\/summary>/);
  });

  it('lists a figure the baseline had and this run lost as a regression', async () => {
    const run = loadRunFixture('lab-timer-pass');
    const baseline = shifted(loadRunFixture('lab-timer-pass'), -24, 'base');
    (run.cases[0]!.details.guest as { overall: { summary: { max: number | null } } }).overall.summary.max = null;
    run.regression = evaluateRegression({ current: run, baseline, profileSection: undefined });
    expect(run.regression.missing.map((m) => m.id)).to.have.length(1);
    const page = await buildRunReportHtml({ run, runDir: root, generatedAt: NOW().toISOString() });
    expect(page).to.include('<h4>Missing in this run</h4>');
    expect(page).to.match(/<tr class="row-fail"><td>timer<\/td><td>guest all threads max<\/td><td>us<\/td><td class="num">3,311<\/td>/);
  });

  it('keeps the exit-code meanings in step with lib/results/exit-codes.ts', () => {
    expect(Object.keys(EXIT_MEANINGS).map(Number).sort((a, b) => a - b)).to.deep.equal(Object.values(EXIT).sort((a, b) => a - b));
  });

  it('leaves a reason where a chart could not be rendered, and renders the others', async () => {
    const bad = { id: 'bad', width: 100, height: 100, option: { get series(): never { throw new Error('boom') } } };
    const good = { id: 'good', width: 100, height: 100, option: { xAxis: { type: 'value' as const }, yAxis: { type: 'log' as const }, series: [] } };
    const out = await renderCharts([bad, good]);
    expect(out.failures.get('bad')).to.equal('boom');
    expect(out.svg.get('good')).to.match(/^<svg/);
  });
});

describe('report/html escaping', function () {
  this.timeout(20_000);
  const EVIL = '<script>alert(1)</script>';
  const IMG = '<img src=x onerror=alert(2)>';

  it('escapes every text that comes from results, charts included', async () => {
    const run = loadRunFixture('daily-mixed');
    run.runId = `r${EVIL}`;
    run.notes.push(IMG);
    run.environment.buildTag = `"><svg onload=alert(3)>`;
    run.nodes['compute-0']!.cmdline = `isolcpus=1 ${EVIL}`;
    run.nodes['compute-0']!.kindEvidence = IMG;
    const timer = run.cases[0]!;
    timer.testcases[0]!.message = EVIL;
    timer.testcases[0]!.title = IMG;
    timer.explanations = [EVIL];
    timer.rawOutputs = ['javascript:alert(4)', '../../etc/passwd'];
    run.cases[1]!.reason = IMG;
    run.cases[1]!.details = { [`node${EVIL}`]: { wire_to_handler: { summary: null, reason: EVIL, buckets: [[1000, 1999, 5]] } } };
    run.comparison = { [EVIL]: [{ topology: IMG, ndr: 1 }] } as never; // a results.json of another shape must still render safely
    const dir = await mkdtemp(join(tmpdir(), 'kfn-html-esc-'));
    const page = await buildRunReportHtml({ run, runDir: dir, generatedAt: NOW().toISOString() }).finally(() => rm(dir, { recursive: true, force: true }));
    expect(page).to.not.match(/<script/i);
    expect(page).to.not.include('<img');
    expect(page).to.not.include('<svg onload');
    expect(page).to.not.match(/href="(javascript:|\.\.)/);
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).to.include('&lt;img src=x onerror=alert(2)&gt;');
    // The chart drew the hostile node name as text, escaped by ECharts.
    expect(count(page, /<svg\b/g)).to.equal(1);
    expect(page).to.match(/<text[^>]*>device_interrupt · node&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/text>/);
  });
});

describe('report/html reporter and report command', function () {
  this.timeout(30_000);
  let root: string;
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kfn-html-cmd-'));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes report.html at the end of a run, with trends over the comparable earlier runs', async () => {
    const base = loadRunFixture('lab-timer-pass');
    await writeRunFolder(root, shifted(base, -48, 'run-1'), { history: true });
    await writeRunFolder(root, shifted(base, -24, 'run-2'), { history: true });
    const other = shifted(base, -12, 'run-other');
    other.options.durationS = 5;
    await writeRunFolder(root, other, { history: true });
    const dir = await writeRunFolder(root, base);
    const reporter = createHtmlReporter(dir, { resultsRoot: root, now: NOW });
    await reporter.onEnd?.(base);
    const page = await readFile(join(dir, 'report.html'), 'utf8');
    expect(reporter.lastWritten).to.equal(join(dir, 'report.html'));
    expectSelfContained(page);
    expect(count(page, /<svg\b/g)).to.equal(3);
    expect(page).to.include('<figure id="trend-timer-latency">');
    expect(page).to.match(/<td>run-1<\/td>[^]*<td>run-2<\/td>[^]*<td>20260312T101500Z-lab<\/td>/);
    expect(page).to.not.include('<td>run-other</td>');
    expect(page).to.include('1 run of the history left out');
    expect(page).to.include('written by kvmfornfv-test at 2026-03-12T12:00:00.000Z');
  });

  it('fails alone when report.html cannot be written: the multiplexer logs it and the run goes on', async () => {
    const blocker = join(root, 'not-a-dir');
    await writeFile(blocker, 'x');
    const logged: string[] = [];
    const mux = new ReporterMultiplexer([createHtmlReporter(join(blocker, 'run'), { now: NOW })], (l) => logged.push(l));
    await mux.onEnd(loadRunFixture('lab-timer-pass'));
    expect(mux.failures.map((f) => f.reporter)).to.deep.equal(['report.html']);
    expect(logged[0]).to.match(/reporter report.html failed in onEnd/);
  });

  it('rewrites a run\'s report from a run id, a run folder or a results.json, and prints the path', async () => {
    const run = loadRunFixture('lab-timer-pass');
    const dir = await writeRunFolder(root, run);
    for (const spec of [run.runId, dir, join(dir, 'results.json')]) {
      await rm(join(dir, 'report.html'), { force: true });
      expect(await reportCommand({ run: spec, results: root, out, now: NOW })).to.equal(0);
      expect(lines.at(-1)).to.equal(join(dir, 'report.html'));
      expect(await readFile(join(dir, 'report.html'), 'utf8')).to.include('<svg');
    }
  });

  it('writes report-vs-<other>.html comparing two runs, histograms overlaid', async () => {
    const other = shifted(loadRunFixture('lab-timer-pass'), -24, 'older');
    const run = loadRunFixture('lab-timer-pass');
    (run.cases[0]!.details.guest as { overall: { summary: { max: number } } }).overall.summary.max = 5620;
    run.nodes.guest!.kernelRelease = '6.19.0-1-amd64';
    await writeRunFolder(root, other);
    const dir = await writeRunFolder(root, run);
    await reportCommand({ run: run.runId, vs: 'older', results: root, out, now: NOW });
    expect(lines).to.deep.equal([join(dir, 'report-vs-older.html')]);
    const page = await readFile(join(dir, 'report-vs-older.html'), 'utf8');
    expectSelfContained(page);
    expect(count(page, /<svg\b/g)).to.equal(2);
    expect(page).to.include(`>${run.runId}: thread 0</text>`).and.to.include('>older: thread 0</text>');
    expect(page).to.match(/<td>timer: guest all threads max<\/td><td>us<\/td><td class="num">5,620<\/td><td class="num">3,311<\/td><td class="num delta delta-exact">\+69.7 %<\/td><td><span class="worse">worse<\/span>/);
    expect(page).to.include('kernel of guest').and.to.include('6.19.0-1-amd64');
  });

  it('refuses a RUN that is neither a run id, a run folder nor a results.json, naming what it looked for', async () => {
    const error = await reportCommand({ run: 'no-such-run', results: root, out }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.include(join(root, 'no-such-run', 'results.json')).and.to.include('expected a run id');
    await writeFile(join(root, 'broken.json'), '{ not json');
    const broken = await reportCommand({ run: join(root, 'broken.json'), results: root, out }).then(() => undefined, (e: unknown) => e);
    expect((broken as ConfigError).message).to.match(/broken.json.*not JSON/);
    const run = loadRunFixture('lab-timer-pass');
    await writeRunFolder(root, run);
    const same = await reportCommand({ run: run.runId, vs: run.runId, results: root, out }).then(() => undefined, (e: unknown) => e);
    expect((same as ConfigError).message).to.match(/--vs.*expected another run/);
    expect(lines).to.deep.equal([]);
  });
});
