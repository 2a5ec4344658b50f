// The HTML report as a person sees it: written by the run's reporter into a run folder, then
// opened from disk in headless Chromium (Debian package chromium) over the DevTools protocol.
// It must render with no console error, request nothing but itself, and show its plots.
// The run: the lab timer fixture (test/fixtures/report/README.source.md) with cyclictest 2.4
// JSON (formats.md shape), a device-interrupt case from the agents' recorded outputs
// (test/fixtures/irq-agent/veth-monotonic.*.source.md), two forwarding cases in the
// throughput[] shape of lib/cases/forwarding-figures.ts with their comparison
// (lib/report/comparison.ts), a regression verdict and two earlier runs.
// Set KFN_HTML_SCREENSHOT_DIR to keep the pages and their screenshots for a look.
import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { reportCommand } from '../../../lib/cli/report-command.ts';
import { evaluateRegression } from '../../../lib/regression/evaluate.ts';
import { appendHistory } from '../../../lib/regression/history.ts';
import { buildForwardingComparison } from '../../../lib/report/comparison.ts';
import { createHtmlReporter } from '../../../lib/report/html/index.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildDeviceInterruptDetails } from '../../../lib/tools/irq-agent/details.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../lib/tools/irq-agent/parse.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';
import { requireChromium, visitPage, type PageVisit } from '../../support/chromium.ts';

const irqFixture = (name: string) => readFileSync(new URL(`../../fixtures/irq-agent/${name}`, import.meta.url), 'utf8');

function cyclictestJson(maxUs: number, spread: number): string {
  const histogram: Record<string, number> = {};
  for (let us = 60; us < 60 + spread; us += 1) histogram[us] = Math.max(1, Math.round(40_000 * Math.exp(-((us - 80) ** 2) / 60)));
  histogram[maxUs] = 1;
  return JSON.stringify({ file_version: 1, 'rt_test_version:': '2.40', num_threads: 1, thread: { 0: { histogram, cycles: 60_000, min: 60, max: maxUs, avg: 85 } } });
}

function buildRun(id: string, hoursBefore: number, scale: number): RunResult {
  const run = loadRunFixture('lab-timer-pass');
  run.runId = id;
  run.startedAt = new Date(Date.parse(run.startedAt) - hoursBefore * 3600_000).toISOString();
  for (const d of Object.values(run.cases[0]!.details) as { overall: { summary: { max: number; p99: number } } }[]) {
    d.overall.summary.max = Math.round(d.overall.summary.max * scale);
    d.overall.summary.p99 = Math.round(d.overall.summary.p99 * scale);
  }
  const details = buildDeviceInterruptDetails({ gen: parseIrqGenSummary(irqFixture('veth-monotonic.irqgen.json')), recv: parseIrqRecvSummary(irqFixture('veth-monotonic.irqrecv.json')), device: 'veth' });
  run.cases.push({ ...structuredClone(run.cases[0]!), caseName: 'device_interrupt', testcases: [], rawOutputs: [], details: { guest: details } });
  // A forwarding entry as lib/cases/forwarding-figures.ts records it (ThroughputEntry, in part).
  const histogram: [number, number, number][] = [[8000, 15_999, 400], [16_000, 31_999, 2500], [32_000, 63_999, 95], [240_000, 255_999, 5]];
  const summary = { unit: 'ns' as const, samples: 3000, min: 9000, avg: 21_000, max: 250_000, p50: 20_000, p99: 60_000, p999: null, p9999: null, notes: {}, overflows: 0, maxIsLowerBound: false };
  const forwarding = (caseName: string, ndrScale: number) => ({
    ...structuredClone(run.cases[0]!),
    caseName,
    tier: 'forwarding',
    testcases: [],
    rawOutputs: [],
    details: {
      // What the comparison holds a path to (lib/regression/conditions.ts): generator, forwarder, search resolution.
      plan: { epsilonFraction: 0.001 },
      generator: { name: 'softgen' },
      forwarder: { kind: 'testpmd', forwardMode: 'io' },
      throughput: [64, 512, 1518].map((frameSize, i) => ({
        frameSize, durationS: 60, direction: 'bidirectional', flows: 1, ndrPps: ((1.2e6 * ndrScale) / (i + 1)) * scale, pdrPps: ((1.25e6 * ndrScale) / (i + 1)) * scale,
        ndr: { lossPercentLimit: 0.001, isLowerBound: i === 0, limitedBy: i === 0 ? 'generator' : 'device-loss', status: 'confirmed' },
        pdr: { lossPercentLimit: 0.1, isLowerBound: false },
        latency: { where: '90 % of NDR, both directions merged', ratePps: 1e6, lossPercent: 0, summary: { ...summary, p99: summary.p99 / ndrScale }, histogram, jitterNs: null },
      })),
    },
  });
  run.cases.push(forwarding('baremetal_forwarding', 1.5), forwarding('ovs_dpdk_forwarding', 1));
  run.comparison = buildForwardingComparison(run);
  return run;
}

async function writeRunFolder(root: string, run: RunResult): Promise<string> {
  const dir = join(root, run.runId);
  for (const node of ['host', 'guest']) {
    await mkdir(join(dir, 'timer', node), { recursive: true });
    const max = (run.cases[0]!.details[node] as { overall: { summary: { max: number } } }).overall.summary.max;
    await writeFile(join(dir, 'timer', node, 'cyclictest.json'), cyclictestJson(max, node === 'host' ? 60 : 120));
  }
  await writeFile(join(dir, 'results.json'), JSON.stringify(run));
  await appendHistory({ resultsRoot: root, run, resultsFile: join(dir, 'results.json') });
  return dir;
}

const EXPRESSIONS = {
  svgs: 'document.querySelectorAll("svg").length',
  shown: '[...document.querySelectorAll("figure svg")].filter((s) => { const r = s.getBoundingClientRect(); return r.width > 300 && r.height > 200; }).length',
  drawn: '[...document.querySelectorAll("figure svg")].map((s) => s.querySelectorAll("path").length)',
  scripts: 'document.querySelectorAll("script").length',
  text: 'document.body.innerText',
  height: 'document.documentElement.scrollHeight',
};

function expectCleanVisit(visit: PageVisit, page: string): void {
  expect(visit.errors, 'console errors').to.deep.equal([]);
  expect(visit.requests, 'only the page itself is loaded').to.deep.equal([pathToFileURL(page).href]);
  expect(visit.values[EXPRESSIONS.scripts]).to.equal(0);
}

async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const png = await readFile(path);
  expect(png.subarray(1, 4).toString()).to.equal('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('report/html in headless Chromium', function () {
  this.timeout(120_000);
  let root: string;
  let runDir: string;

  before(async function () {
    requireChromium(this);
    root = await mkdtemp(join(tmpdir(), 'kfn-html-chromium-'));
    await writeRunFolder(root, buildRun('run-1', 48, 1));
    await writeRunFolder(root, buildRun('run-2', 24, 1.2));
    const run = buildRun('run-3', 0, 1.5);
    run.regression = evaluateRegression({ current: run, baseline: buildRun('run-2', 24, 1.2), profileSection: undefined });
    runDir = await writeRunFolder(root, run);
    await createHtmlReporter(runDir, { resultsRoot: root }).onEnd?.(run);
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function keep(...files: string[]): Promise<void> {
    const dir = process.env.KFN_HTML_SCREENSHOT_DIR;
    if (dir) for (const f of files) await copyFile(f, join(dir, f.split('/').at(-1) as string));
  }

  it('renders a run\'s report.html with no console error, nothing fetched, and every plot drawn', async () => {
    const page = join(runDir, 'report.html');
    const html = await readFile(page, 'utf8');
    const expected = (html.match(/<svg\b/g) ?? []).length;
    const figures = [...html.matchAll(/<figure id="([^"]+)"/g)].map((m) => m[1]);
    // Comparison bars, timer host and guest, device interrupt, two forwarding cases, trends.
    for (const id of ['comparison-ndr', 'comparison-p99', 'hist-timer-host-0', 'hist-timer-guest-1', 'hist-device_interrupt-guest-0', 'hist-baremetal_forwarding-throughput-0', 'hist-ovs_dpdk_forwarding-throughput-0', 'trend-timer-latency', 'trend-ovs_dpdk_forwarding-throughput']) {
      expect(figures).to.include(id);
    }
    expect(expected).to.equal(figures.length);
    const shot = join(root, 'report.png');
    const visit = await visitPage(pathToFileURL(page).href, { evaluate: Object.values(EXPRESSIONS), screenshot: shot });
    expectCleanVisit(visit, page);
    expect(visit.values[EXPRESSIONS.svgs]).to.equal(expected);
    expect(visit.values[EXPRESSIONS.shown]).to.equal(expected);
    expect((visit.values[EXPRESSIONS.drawn] as number[]).every((n) => n > 10)).to.equal(true);
    const text = String(visit.values[EXPRESSIONS.text]);
    for (const s of ['latency (µs)', 'samples (log scale)', 'timer · host', 'device_interrupt · guest', 'wire_to_handler', 'Forwarding: throughput', 'NDR per frame size', 'NDR vs bare metal', 'Trends across the results history', 'p99 and max latency per run', 'regression']) {
      expect(text).to.include(s);
    }
    const size = await pngSize(shot);
    expect(size.width).to.be.at.least(1000);
    expect(size.height).to.equal(visit.values[EXPRESSIONS.height]);
    await keep(shot, page);
  });

  it('renders the comparison of two runs with both runs overlaid in each histogram', async () => {
    const lines: string[] = [];
    await reportCommand({ run: 'run-3', vs: 'run-1', results: root, out: (l) => lines.push(l) });
    const page = lines[0] as string;
    expect(page).to.equal(join(runDir, 'report-vs-run-1.html'));
    const shot = join(root, 'report-vs.png');
    const visit = await visitPage(pathToFileURL(page).href, { evaluate: [...Object.values(EXPRESSIONS), '[...document.querySelectorAll("figure svg text")].map((t) => t.textContent).filter((t) => /^run-[13]: /.test(t)).length'], screenshot: shot });
    expectCleanVisit(visit, page);
    // timer host and guest, device interrupt, and the two forwarding cases.
    expect(visit.values[EXPRESSIONS.svgs]).to.equal(5);
    expect(visit.values[EXPRESSIONS.shown]).to.equal(5);
    expect(String(visit.values[EXPRESSIONS.text])).to.include('timer: guest all threads max');
    // Two legend entries (one per run) in each of the five overlaid charts, or more.
    expect(visit.values['[...document.querySelectorAll("figure svg text")].map((t) => t.textContent).filter((t) => /^run-[13]: /.test(t)).length']).to.be.at.least(10);
    await keep(shot, page);
  });
});
