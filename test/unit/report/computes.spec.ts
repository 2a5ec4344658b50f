// A run over three compute groups (the recorded results.json of a real lab run,
// test/fixtures/report/lab-three-computes.run.source.md) through every view: JUnit, InfluxDB,
// TestAPI, the regression gate and report.html keep every node's figures apart.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { evaluateRegression } from '../../../lib/regression/evaluate.ts';
import { buildInfluxPoints } from '../../../lib/report/influx-points.ts';
import { buildJunitXml } from '../../../lib/report/junit.ts';
import { buildTestApiPayloads, validateTestApiPayload } from '../../../lib/report/testapi.ts';
import { buildComputeRows } from '../../../lib/report/html/compute-view.ts';
import { buildRunView } from '../../../lib/report/html/view-model.ts';
import { renderRunPage } from '../../../lib/report/html/run-page.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { readJenkinsJunit } from '../../support/jenkins-junit-reader.ts';

const load = (): RunResult => JSON.parse(readFileSync(new URL('../../fixtures/report/lab-three-computes.run.json', import.meta.url), 'utf8')) as RunResult;
/** The same figures as a later run: a run is never its own baseline. */
const later = (): RunResult => ({ ...load(), runId: '20261208-020000-beef', startedAt: '2026-12-08T02:00:00.000Z' });
const NODES = ['host', 'guest', 'host-1', 'guest-1', 'host-2', 'guest-2'];
const GUESTS = ['guest', 'guest-1', 'guest-2'];

describe('report: a run over three compute groups, per node everywhere', () => {
  it('JUnit: every node of every group has its own testcases under the one case', () => {
    const suites = readJenkinsJunit(buildJunitXml(load()));
    const timer = suites.find((s) => s.name === 'kvmfornfv.latency.timer')?.cases.map((c) => c.name) ?? [];
    for (const node of NODES) expect(timer, node).to.include(`${node}: cyclictest measured every thread`);
    expect(new Set(timer).size).to.equal(timer.length);
    const irq = suites.find((s) => s.name === 'kvmfornfv.latency.device_interrupt')?.cases.map((c) => c.name) ?? [];
    for (const guest of GUESTS) expect(irq).to.include(`tgen -> ${guest}: kfn-irqrecv measured the interrupts`);
  });

  it('InfluxDB: one timer point per node, interrupt points per receiving guest (and the shared generator its pacing)', () => {
    const points = buildInfluxPoints(load());
    expect(points.filter((p) => p.tags.case === 'timer').map((p) => p.tags.node)).to.have.members(NODES);
    const irq = points.filter((p) => p.tags.case === 'device_interrupt');
    expect([...new Set(irq.map((p) => p.tags.node))]).to.have.members([...GUESTS, 'tgen']);
    for (const guest of GUESTS) expect(irq.filter((p) => p.tags.node === guest).length, guest).to.equal(irq.filter((p) => p.tags.node === 'guest').length);
  });

  it('TestAPI: one payload per case, carrying every node figures, valid for TestAPI', () => {
    const payloads = buildTestApiPayloads(load());
    expect(payloads.map((p) => p.case_name)).to.deep.equal(['timer', 'device_interrupt']);
    for (const p of payloads) expect(validateTestApiPayload(p), p.case_name).to.deep.equal([]);
    const results = (p: number) => (payloads[p]?.details as { results: Record<string, unknown> }).results;
    expect(Object.keys(results(0))).to.have.members(NODES);
    expect(Object.keys(results(1))).to.have.members(GUESTS);
  });

  it('regression: compares each node with itself, and says why a group missing from this run is missing', () => {
    const baseline = load();
    const same = evaluateRegression({ current: later(), baseline, profileSection: undefined, profileFile: 'lab.yaml' });
    const nodes = new Set(same.compared.map((c) => c.node));
    for (const node of NODES) expect(nodes.has(node), node).to.equal(true);
    expect(same.compared.filter((c) => c.node === 'guest-2' && c.caseName === 'device_interrupt')).to.have.length.greaterThan(0);

    const current = later();
    const irq = current.cases.find((c) => c.caseName === 'device_interrupt');
    if (!irq) throw new Error('fixture has no device_interrupt');
    delete irq.details['guest-1'];
    irq.testcases = irq.testcases.map((t) => (t.title.startsWith('tgen -> guest-1:') ? { ...t, status: 'error', message: 'cannot connect to guest-1: connection refused' } : t));
    const report = evaluateRegression({ current, baseline, profileSection: undefined, profileFile: 'lab.yaml' });
    const gone = report.missing.filter((m) => m.node === 'guest-1');
    expect(gone.length).to.be.greaterThan(0);
    for (const m of gone) expect(m.why).to.equal('cannot connect to guest-1: connection refused');
  });

  it('report.html: one row per compute with its counts, worst latencies and window, the worst marked', () => {
    const run = load();
    const rows = buildComputeRows(run);
    expect(rows.map((r) => [r.compute, r.nodes, r.counts.pass, r.counts.error])).to.deep.equal([
      ['host', ['host', 'guest'], 13, 0],
      ['host-1', ['host-1', 'guest-1'], 13, 0],
      ['host-2', ['host-2', 'guest-2'], 13, 0],
    ]);
    for (const r of rows) {
      expect(r.timerMax?.where).to.match(/^(host|guest)(-\d)? all threads$/);
      expect(r.interruptMax?.where).to.match(/^guest(-\d)? (receive|wire)_to_handler$/);
      expect(Date.parse(r.measuredTo ?? '') - Date.parse(r.measuredFrom ?? '')).to.be.greaterThan(10_000);
    }
    const peak = Math.max(...rows.map((r) => Math.max(r.timerMax?.us ?? 0, r.interruptMax?.us ?? 0)));
    expect(rows.filter((r) => r.worst).map((r) => Math.max(r.timerMax?.us ?? 0, r.interruptMax?.us ?? 0))).to.deep.equal([peak]);

    const page = renderRunPage(buildRunView({ run }), { svg: new Map(), problems: [] } as never, { generatedAt: '2026-12-07T00:00:00Z', linkRawOutputs: false });
    const section = /<section id="computes">([\s\S]*?)<\/section>/.exec(page)?.[1] ?? '';
    expect(section).to.contain('<h2>Computes</h2>');
    expect((section.match(/<tr class/g) ?? []).length).to.equal(3);
    expect(section).to.contain('worst');
    expect(page).to.contain('href="#computes"');
  });

  it('report.html: a run of one group has no compute table', () => {
    const run = load();
    delete run.computes;
    expect(buildComputeRows(run)).to.deep.equal([]);
    expect(renderRunPage(buildRunView({ run }), { svg: new Map(), problems: [] } as never, { generatedAt: '2026-12-07T00:00:00Z', linkRawOutputs: false })).not.to.contain('id="computes"');
  });
});
