// What a nightly Jenkins job gets from a lab run with -r, end to end: two latency-tier runs on
// the lab pod, the second judged against the first (--baseline last), pushing TestAPI
// payloads to a file:// URL and points to a private influxd (Debian's influxdb), then
// every output checked by the reader it is meant for: TestAPI's validation rules, an
// InfluxQL query, xmllint with the Jenkins xUnit JUnit XSD, and headless Chromium.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { validateTestApiPayload, type TestApiPayload } from '../../lib/report/testapi.ts';
import { HISTORY_FILE } from '../../lib/regression/history.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { findChromium, visitPage } from '../support/chromium.ts';
import { readJenkinsJunit } from '../support/jenkins-junit-reader.ts';
import { runCliProcess, type CliRun } from '../support/cli.ts';
import { findInfluxd, startPrivateInfluxd, type PrivateInfluxd } from '../support/influxd.ts';

const XSD = fileURLToPath(new URL('../fixtures/junit/jenkins-xunit-junit-10.xsd', import.meta.url));
const BUILD_TAG = 'jenkins-kvmfornfv-daily-master-kfn-lab-7';

describe('lab: run -r twice, the second against the first (issue 6, done when)', function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'kfn-lab-ci-reports-'));
  const resultsRoot = join(root, 'results');
  const payloadFile = join(root, 'testapi.jsonl');
  let influx: PrivateInfluxd | undefined;
  const runs: { cli: CliRun; dir: string; result: RunResult }[] = [];

  before(async function () {
    const missing = [
      findInfluxd() ? undefined : 'influxd (Debian package influxdb)',
      spawnSync('xmllint', ['--version']).error ? 'xmllint (Debian package libxml2-utils)' : undefined,
      findChromium() ? undefined : 'chromium (Debian package chromium)',
    ].filter(Boolean);
    if (missing.length > 0) {
      if (process.env.CI) throw new Error(`missing in CI: ${missing.join(', ')}`);
      this.skip();
    }
    influx = await startPrivateInfluxd();
    await influx.query('CREATE DATABASE kvmfornfv');
    const env = { TEST_DB_URL: pathToFileURL(payloadFile).href, INFLUXDB_URL: `${influx.baseUrl}/write?db=kvmfornfv`, BUILD_TAG, CI_LOOP: 'daily' };
    // One lab for both runs: a run that finds the lab up uses it and leaves it up.
    const up = await runCliProcess(['lab', 'up', '--guest', 'namespace'], { timeoutMs: 240_000 });
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).to.equal(0);
    for (const extra of [[], ['--baseline', 'last']]) {
      const before = new Set(readdirSafe(resultsRoot));
      const cli = await runCliProcess(['run', '-t', 'latency', '--duration', '2', '-r', '--results', resultsRoot, ...extra], { env, timeoutMs: 200_000 });
      const [id] = readdirSafe(resultsRoot).filter((d) => !before.has(d) && d !== HISTORY_FILE);
      const dir = join(resultsRoot, id ?? 'missing');
      runs.push({ cli, dir, result: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult });
    }
  });

  after(async () => {
    await runCliProcess(['lab', 'down'], { timeoutMs: 180_000 });
    await influx?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('both runs end with 0 or 68 (a VM spike past the lab limits), never an error or a failed push', () => {
    for (const { cli } of runs) expect([0, 68], `${cli.stdout}\n${cli.stderr}`).to.include(cli.exitCode);
  });

  it('appends one TestAPI payload per case and run to the file:// URL, each passing TestAPI\'s validation', () => {
    const payloads = readFileSync(payloadFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TestApiPayload);
    const row = (name: string) => ['kvmfornfv', name, 'master', BUILD_TAG];
    // hwlatdetect is skipped on the lab (no hwlat tracer), and Xtesting pushes no skipped case.
    const pushed = [row('timer'), row('oslat'), row('device_interrupt')];
    expect(payloads.map((p) => [p.project_name, p.case_name, p.version, p.build_tag])).to.deep.equal([...pushed, ...pushed]);
    for (const payload of payloads) expect(validateTestApiPayload(payload)).to.deep.equal([]);
    expect(payloads.map((p) => p.criteria)).to.deep.equal(runs.flatMap(({ result }) => result.cases.filter((c) => c.status !== 'skip').map((c) => (c.status === 'pass' ? 'PASS' : 'FAIL'))));
  });

  it('writes points to InfluxDB that a query reads back: host and guest, for each run', async () => {
    const answer = await influx!.query(`SELECT max_us FROM kvmfornfv_cyclictest_idle_idle WHERE build = '${BUILD_TAG}' GROUP BY node`, 'kvmfornfv');
    const series = answer.results[0]?.series ?? [];
    expect(series.map((s) => [s.tags?.node, s.values.length]).sort()).to.deep.equal([
      ['guest', 2],
      ['host', 2],
    ]);
    for (const s of series) for (const [, max] of s.values) expect(max).to.be.a('number').greaterThan(0);
    // oslat: one point per thread and one for all threads, per node, under the case's own name.
    const oslat = await influx!.query(`SELECT max_us, p99_us FROM kvmfornfv_oslat WHERE build = '${BUILD_TAG}' AND "series" =~ /overall/ GROUP BY node`, 'kvmfornfv');
    expect((oslat.results[0]?.series ?? []).map((s) => [s.tags?.node, s.values.length]).sort()).to.deep.equal([
      ['guest', 2],
      ['host', 2],
    ]);
    for (const s of oslat.results[0]?.series ?? []) for (const [, max] of s.values) expect(max).to.be.a('number').at.least(0);
    const irq = await influx!.query(`SELECT p99_us FROM kvmfornfv_device_interrupt WHERE build = '${BUILD_TAG}' GROUP BY node, load`, 'kvmfornfv');
    const irqSeries = irq.results[0]?.series ?? [];
    expect(irqSeries.length).to.be.greaterThan(0);
    for (const s of irqSeries) {
      expect(s.tags?.node).to.be.a('string').and.not.equal('');
      expect(s.tags?.load).to.be.a('string').and.not.equal('');
    }
  });

  it('writes junit.xml that passes the JUnit XSD, with the regression suite in the second run', () => {
    for (const { dir } of runs) {
      const check = spawnSync('xmllint', ['--noout', '--schema', XSD, join(dir, 'junit.xml')], { encoding: 'utf8' });
      expect(check.status, check.stderr).to.equal(0);
    }
    const xml = readFileSync(join(runs[1]!.dir, 'junit.xml'), 'utf8');
    expect(xml).to.include('name="kvmfornfv.regression"');
    const cases = readJenkinsJunit(xml).flatMap((s) => s.cases);
    const oslat = cases.filter((c) => c.className === 'kvmfornfv.latency.oslat');
    expect(oslat.map((c) => c.name)).to.include.members(['host: oslat measured every RT CPU', 'guest: oslat measured every RT CPU', 'guest: max ≤ 1000000 us (assert)']);
    expect(oslat.find((c) => c.name === 'guest: oslat measured every RT CPU')?.stdout).to.match(/<measurement><name>guest_max_us<\/name><value>\d+/);
    // hwlatdetect on a kernel without the hwlat tracer: skipped with that reason, never passed.
    const hwlat = cases.filter((c) => c.className === 'kvmfornfv.latency.hwlatdetect');
    expect(hwlat.length).to.be.greaterThan(0);
    for (const c of hwlat) expect(`${c.status} ${c.skippedMessage}`, c.name).to.match(/^SKIPPED .*has no hwlat tracer/);
  });

  it('gives the second run a regression verdict against the first, like with like, monitor-only on the lab', () => {
    const regression = runs[1]!.result.regression;
    expect(regression?.baseline?.runId).to.equal(runs[0]!.result.runId);
    expect(regression?.compared.length).to.be.greaterThan(0);
    expect(new Set(regression?.compared.map((f) => f.caseName))).to.deep.equal(new Set(['timer', 'oslat', 'device_interrupt']));
    for (const figure of regression?.compared ?? []) {
      expect(figure.effectiveAction).to.equal('monitor');
      expect(figure.comparedOn).to.be.a('string').and.not.equal('');
    }
    expect(regression?.monitorOnly).to.equal(true);
    expect(runs[0]!.result.regression).to.equal(undefined);
  });

  it('writes report.html that renders in Chromium with no console error and its plots drawn', async () => {
    const page = join(runs[1]!.dir, 'report.html');
    const html = readFileSync(page, 'utf8');
    expect(html).to.match(/oslat/);
    const svgs = (html.match(/<svg\b/g) ?? []).length;
    expect(svgs).to.be.at.least(3);
    const drawn = '[...document.querySelectorAll("figure svg")].filter((s) => s.getBoundingClientRect().width > 300 && s.querySelectorAll("path").length > 10).length';
    const visit = await visitPage(pathToFileURL(page).href, { evaluate: [drawn] });
    expect(visit.errors).to.deep.equal([]);
    expect(visit.values[drawn]).to.equal(svgs);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
