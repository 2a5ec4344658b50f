// Compute groups side by side through the real executeRun and mocha, with the group-probe
// fixture suite: which nodes each group's case sees, when each node was measured, turns on the
// shared generator, blocking per group, faults kept to their group, and one merged case.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Catalogue, CatalogueCase } from '../../../lib/config/catalogue.ts';
import { buildPod } from '../../../lib/config/pod.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { executeRun } from '../../../lib/harness/run.ts';
import { createJunitReporter } from '../../../lib/report/junit.ts';
import { ReporterMultiplexer } from '../../../lib/report/reporter.ts';
import type { NodeSession } from '../../../lib/remote/types.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildFakeScope } from '../../support/fake-scope.ts';
import { readJenkinsJunit } from '../../support/jenkins-junit-reader.ts';
import type { ProbeEvent } from '../../fixtures/suites/group-probe.spec.ts';
import { ENVIRONMENT } from './execute-run-fakes.ts';

const cpus = { rt_cpus: '1', housekeeping_cpus: '0' };
function threeGroups(): Pod {
  const nodes: unknown[] = [{ name: 'tg', role: 'TrafficGen', ip: '192.0.2.9' }];
  for (const i of [0, 1, 2]) {
    nodes.push({ name: `c${i}`, role: 'Compute', ip: `192.0.2.1${i}`, ...cpus }, { name: `g${i}`, role: 'vnf', ip: `192.0.2.2${i}`, host_node: `c${i}`, ...cpus });
  }
  return buildPod({ pod_name: 'groups', nodes }, { file: 'pod.yaml', env: {} });
}

interface Spec {
  name: string;
  tier: string;
  args?: Record<string, unknown>;
  blocking?: boolean;
  busyPolls?: boolean;
  suite?: string;
}

function catalogue(specs: Spec[]): Catalogue {
  const tiers: Catalogue['tiers'] = [];
  for (const s of specs) {
    let tier = tiers.find((t) => t.name === s.tier);
    if (!tier) tiers.push((tier = { name: s.tier, description: '', cases: [] }));
    const c: CatalogueCase = { caseName: s.name, tier: s.tier, blocking: s.blocking ?? false, enabled: true, description: '', dependencies: [], ...(s.busyPolls ? { busyPolls: true } : {}), suite: s.suite ?? 'group-probe', args: s.args ?? {} };
    tier.cases.push(c);
  }
  return { file: 'testcases.yaml', tiers };
}

const runDirs: string[] = [];

async function runGroups(o: { specs: Spec[]; parallel?: number; unreachable?: string[]; controller?: AbortController; pod?: Pod }) {
  const events: ProbeEvent[] = [];
  (globalThis as unknown as { __kfnProbeEvents?: ProbeEvent[] }).__kfnProbeEvents = events;
  const signal = (o.controller ?? new AbortController()).signal;
  const scope = await buildFakeScope({
    pod: o.pod ?? threeGroups(),
    signal,
    session: (node) => (o.unreachable?.includes(node.name) ? Promise.reject(new Error(`cannot connect to ${node.name}: connection refused`)) : Promise.resolve({ node } as unknown as NodeSession)),
  });
  runDirs.push(scope.runDir);
  const run = await executeRun({
    catalogue: catalogue(o.specs),
    selection: 'all',
    scope,
    environment: ENVIRONMENT,
    reporters: new ReporterMultiplexer([createJunitReporter(scope.runDir)], () => {}),
    env: {},
    nodes: {},
    tools: {},
    notes: [],
    ...(o.parallel ? { parallel: o.parallel } : {}),
  });
  const junit = readJenkinsJunit(await readFile(join(scope.runDir, 'junit.xml'), 'utf8'));
  return { run, events, junit };
}

const overlap = (a: { startMs: number; endMs: number }, b: { startMs: number; endMs: number }) => Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
const eventOf = (events: ProbeEvent[], caseName: string, node: string) => events.find((e) => e.caseName === caseName && e.node === node) as ProbeEvent;
const statuses = (run: RunResult, caseName: string) => run.cases.find((c) => c.caseName === caseName)?.testcases.map((t) => `${t.title}=${t.status}`);

describe('harness/fan-out: compute groups measured side by side', function () {
  this.timeout(20_000);
  after(async () => {
    for (const d of runDirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('measures the groups at once, and a host and its own guest one after the other', async () => {
    const { run, events } = await runGroups({ specs: [{ name: 'timer', tier: 'latency', args: { ms: 300 } }] });
    expect(run.exitCode).to.equal(0);
    for (const i of [0, 1, 2]) expect(overlap(eventOf(events, 'timer', `c${i}`), eventOf(events, 'timer', `g${i}`)), `c${i} and g${i}`).to.be.at.most(0);
    expect(overlap(eventOf(events, 'timer', 'c0'), eventOf(events, 'timer', 'c1'))).to.be.greaterThan(150);
    expect(overlap(eventOf(events, 'timer', 'g1'), eventOf(events, 'timer', 'g2'))).to.be.greaterThan(150);
    // Each group sees its own host and guest and the shared generator, nothing of the others.
    expect(eventOf(events, 'timer', 'g1').saw).to.deep.equal(['tg', 'c1', 'g1']);
    expect(run.computes).to.deep.equal([
      { name: 'c0', host: 'c0', guests: ['g0'] },
      { name: 'c1', host: 'c1', guests: ['g1'] },
      { name: 'c2', host: 'c2', guests: ['g2'] },
    ]);
  });

  it('keeps one case with every node: testcases marked with their group, details and windows per node', async () => {
    const { run, junit } = await runGroups({ specs: [{ name: 'timer', tier: 'latency', args: { ms: 20 } }] });
    expect(run.cases).to.have.length(1);
    const timer = run.cases[0];
    expect(timer?.testcases.map((t) => [t.title, t.compute])).to.deep.equal([
      ['c0: measured', 'c0'], ['g0: measured', 'c0'], ['c1: measured', 'c1'], ['g1: measured', 'c1'], ['c2: measured', 'c2'], ['g2: measured', 'c2'],
    ]);
    expect(Object.keys(timer?.details ?? {})).to.have.members(['c0', 'g0', 'c1', 'g1', 'c2', 'g2']);
    expect(timer?.windows?.map((w) => [w.node, w.compute])).to.deep.equal([['c0', 'c0'], ['g0', 'c0'], ['c1', 'c1'], ['g1', 'c1'], ['c2', 'c2'], ['g2', 'c2']]);
    expect(timer?.windows?.[0]?.start).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(junit.find((s) => s.name === 'kvmfornfv.latency.timer')?.cases.map((c) => c.name)).to.have.length(6);
  });

  it('runs a busy-polling case in turns on a pod whose nodes are one machine (the lab), side by side elsewhere', async () => {
    const spec = { name: 'oslat', tier: 'latency', args: { ms: 100 }, busyPolls: true };
    const lab = await runGroups({ specs: [spec], pod: { ...threeGroups(), lab: true } });
    expect(lab.run.exitCode).to.equal(0);
    const hosts = ['c0', 'c1', 'c2'].map((n) => eventOf(lab.events, 'oslat', n));
    for (const [a, b] of [[0, 1], [1, 2], [0, 2]] as const) expect(overlap(hosts[a]!, hosts[b]!), `c${a} and c${b} on the lab`).to.be.at.most(0);
    const real = await runGroups({ specs: [spec] });
    expect(overlap(eventOf(real.events, 'oslat', 'c0'), eventOf(real.events, 'oslat', 'c1')), 'different machines').to.be.greaterThan(50);
  });

  it('runs at most --parallel groups at once', async () => {
    const { events } = await runGroups({ specs: [{ name: 'timer', tier: 'latency', args: { ms: 100 } }], parallel: 1 });
    const hosts = ['c0', 'c1', 'c2'].map((n) => eventOf(events, 'timer', n));
    for (const [a, b] of [[0, 1], [1, 2], [0, 2]] as const) expect(overlap(hosts[a]!, hosts[b]!)).to.be.at.most(0);
  });

  it('gives groups that share a generator turns on it; a group whose generator is its own host does not wait', async () => {
    const shared = await runGroups({ specs: [{ name: 'device_interrupt', tier: 'latency', args: { ms: 150, generator: 'tgen' } }] });
    const guests = ['g0', 'g1', 'g2'].map((n) => eventOf(shared.events, 'device_interrupt', n));
    for (const [a, b] of [[0, 1], [1, 2], [0, 2]] as const) expect(overlap(guests[a]!, guests[b]!), `g${a} and g${b} on tg`).to.be.at.most(0);
    const own = await runGroups({ specs: [{ name: 'device_interrupt', tier: 'latency', args: { ms: 150, generator: 'host' } }] });
    expect(overlap(eventOf(own.events, 'device_interrupt', 'g0'), eventOf(own.events, 'device_interrupt', 'g1'))).to.be.greaterThan(75);
  });

  it('audits every node once: each group its own, the shared generator on its own', async () => {
    const { run, events } = await runGroups({ specs: [{ name: 'preflight', tier: 'preflight', args: { ms: 10 } }] });
    expect(events.filter((e) => e.node === 'tg')).to.have.length(1);
    expect(eventOf(events, 'preflight', 'c1').saw).to.deep.equal(['c1', 'g1']);
    expect(statuses(run, 'preflight')).to.include.members(['tg: audited=pass', 'c2: measured=pass']);
    expect(run.cases[0]?.testcases.find((t) => t.title === 'tg: audited')?.compute).to.equal(undefined);
  });

  it('stops only the group whose blocking preflight failed; the others measure; the exit code says so', async () => {
    const { run, events } = await runGroups({
      specs: [
        { name: 'preflight', tier: 'preflight', blocking: true, args: { ms: 10, failOn: ['g1'] } },
        { name: 'timer', tier: 'latency', args: { ms: 10 } },
        { name: 'baremetal_forwarding', tier: 'forwarding', args: { ms: 10 } },
      ],
    });
    expect(events.filter((e) => e.caseName === 'timer').map((e) => e.node)).to.have.members(['c0', 'g0', 'c2', 'g2']);
    expect(statuses(run, 'timer')).to.include('c1: timer=skip');
    expect(run.cases[1]?.testcases.find((t) => t.title === 'c1: timer')?.message).to.equal('not run on c1: blocking case preflight did not pass there');
    expect(run.cases[1]?.status).to.equal('pass');
    // Forwarding runs once on the whole pod, after the groups: a blocked group keeps it from running.
    expect(run.cases[2]?.reason).to.equal('not run: blocking case preflight on c1 did not pass');
    expect(run.exitCode).to.equal(68);
  });

  it('keeps an unreachable compute to its own tests: errors there, passes elsewhere, exit 70', async () => {
    const { run } = await runGroups({ specs: [{ name: 'timer', tier: 'latency', args: { ms: 20 } }], unreachable: ['c2', 'g2'] });
    const timer = run.cases[0];
    expect(timer?.testcases.filter((t) => t.status === 'error').map((t) => t.compute)).to.deep.equal(['c2', 'c2']);
    expect(timer?.testcases.filter((t) => t.status === 'pass').map((t) => t.title)).to.deep.equal(['c0: measured', 'g0: measured', 'c1: measured', 'g1: measured']);
    expect(timer?.testcases.find((t) => t.title === 'c2: measured')?.message).to.include('cannot connect to c2');
    expect(run.exitCode).to.equal(70);
  });

  it('stops every group on an abort, including one waiting for its turn on the generator', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('aborted by SIGTERM')), 250);
    const started = Date.now();
    const { run, events } = await runGroups({ specs: [{ name: 'device_interrupt', tier: 'latency', args: { ms: 400, generator: 'tgen' } }, { name: 'timer', tier: 'latency' }], controller });
    expect(Date.now() - started).to.be.below(3000);
    expect(events.filter((e) => e.caseName === 'timer')).to.deep.equal([]);
    const waiting = run.cases[0]?.testcases.filter((t) => t.status === 'error' && /turn on tg/.test(t.message ?? ''));
    expect(waiting?.length, JSON.stringify(run.cases[0]?.testcases.map((t) => t.message))).to.be.greaterThan(0);
    expect(run.cases[1]?.testcases.map((t) => [t.title, t.status])).to.deep.equal([['c0: timer', 'skip'], ['c1: timer', 'skip'], ['c2: timer', 'skip']]);
    expect(run.exitCode).to.equal(70);
  });
});
