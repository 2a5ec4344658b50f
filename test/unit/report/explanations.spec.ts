import { loadThresholds } from '../../../lib/config/thresholds.ts';
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import type { CheckRecord } from '../../../lib/cases/preflight.ts';
import { runCase } from '../../../lib/harness/run-case.ts';
import { explainFailures } from '../../../lib/report/explanations.ts';
import type { CaseResult, RunResult } from '../../../lib/results/model.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';
import { buildFakeScope } from '../../support/fake-scope.ts';
import { buildFakeNode } from '../../support/fake-node-session.ts';
import { buildSnapshotSession, copyPreflightSuite, loadTree, preflightCase } from '../cases/preflight-fakes.ts';

// Records shaped as lib/cases/preflight.ts writes them (the CheckRecord type keeps them honest).
const fail = (id: string, severity: CheckRecord['severity'], fix: string): CheckRecord => ({
  id,
  title: id,
  category: id.split('.')[0] as string,
  severity,
  outcome: 'fail',
  status: severity === 'blocking' ? 'fail' : 'pass',
  expected: `${id} tuned`,
  found: `${id} untuned`,
  fix,
});
const pass = (id: string): CheckRecord => ({ id, title: id, category: 'runtime', severity: 'blocking', outcome: 'pass', status: 'pass', expected: 'x', found: 'x' });

function preflightCaseResult(details: Record<string, unknown>): CaseResult {
  const now = '2026-11-25T02:00:00.000Z';
  return { caseName: 'preflight', tier: 'preflight', projectName: 'kvmfornfv', status: 'fail', startedAt: now, stoppedAt: now, durationMs: 1, testcases: [], details, rawOutputs: [] };
}

/** daily-mixed with its hand-written timer explanation removed, and a preflight case in front. */
function runWith(details: Record<string, unknown>): RunResult {
  const run = loadRunFixture('daily-mixed');
  for (const c of run.cases) delete c.explanations;
  run.cases.unshift(preflightCaseResult(details));
  return run;
}

const caseNamed = (run: RunResult, name: string) => run.cases.find((c) => c.caseName === name) as CaseResult;

describe('explainFailures: the preflight findings behind a failed case', () => {
  it('lists the failed checks, blocking and advisory, of the node a failed latency case measured', () => {
    const run = runWith({
      'vnf-guest': {
        role: 'guest',
        checks: [
          fail('kernel.preempt-rt', 'advisory', 'boot a PREEMPT_RT kernel'),
          pass('runtime.ksm'),
          fail('runtime.rt-throttling', 'blocking', 'sysctl -w kernel.sched_rt_runtime_us=-1'),
          { id: 'runtime.thp', title: 'THP', category: 'runtime', severity: 'off', outcome: 'off' } satisfies CheckRecord,
          { ...fail('runtime.governor', 'blocking', 'x'), outcome: 'unknown', status: 'skip' } satisfies CheckRecord,
        ],
      },
      'compute-0': { role: 'host', checks: [fail('cmdline.isolcpus', 'blocking', 'add isolcpus=2-5')] },
    });
    explainFailures(run);
    expect(caseNamed(run, 'timer').explanations).to.deep.equal([
      'vnf-guest: kernel.preempt-rt failed: expected kernel.preempt-rt tuned, found kernel.preempt-rt untuned; fix: boot a PREEMPT_RT kernel',
      'vnf-guest: runtime.rt-throttling failed: expected runtime.rt-throttling tuned, found runtime.rt-throttling untuned; fix: sysctl -w kernel.sched_rt_runtime_us=-1',
    ]);
  });

  it('leaves cases that did not fail, and cases outside the latency and forwarding tiers, unexplained', () => {
    const run = runWith({ 'vnf-guest': { checks: [fail('runtime.watchdog', 'blocking', 'f')] }, 'compute-0': { checks: [fail('runtime.watchdog', 'blocking', 'f')] } });
    explainFailures(run);
    for (const name of ['device_interrupt', 'sriov_forwarding', 'preflight']) expect(caseNamed(run, name).explanations, name).to.equal(undefined);
  });

  it('finds nodes from the titles too ("<generator> -> <node>: ..."), and says when a node could not be audited', () => {
    const run = runWith({
      'vnf-guest': { checks: [fail('runtime.watchdog', 'blocking', 'sysctl -w kernel.watchdog=0')] },
      tgen: { role: 'tgen', error: 'connect ECONNREFUSED 192.0.2.30:22\nmore' },
    });
    const di = caseNamed(run, 'device_interrupt');
    di.status = 'fail';
    di.details = {};
    di.testcases = [{ ...(di.testcases[0] as CaseResult['testcases'][number]), title: 'tgen -> vnf-guest: receive_to_handler_max ≤ 10 us (assert)', status: 'fail' }];
    explainFailures(run);
    expect(di.explanations).to.deep.equal([
      'tgen: not audited by preflight: connect ECONNREFUSED 192.0.2.30:22',
      'vnf-guest: runtime.watchdog failed: expected runtime.watchdog tuned, found runtime.watchdog untuned; fix: sysctl -w kernel.watchdog=0',
    ]);
  });

  it('explains nothing new when no preflight case ran, or it found nothing wrong on the measured nodes', () => {
    const without = loadRunFixture('daily-mixed');
    const before = structuredClone(without.cases);
    explainFailures(without);
    expect(without.cases).to.deep.equal(before);
    const clean = runWith({ 'vnf-guest': { checks: [pass('runtime.watchdog')] }, 'compute-0': { checks: [fail('runtime.watchdog', 'blocking', 'f')] } });
    explainFailures(clean);
    expect(caseNamed(clean, 'timer').explanations).to.equal(undefined);
  });

  it("keeps a case's own explanations and adds its lines only once, however often it is called", () => {
    const run = loadRunFixture('daily-mixed');
    run.cases.unshift(preflightCaseResult({ 'vnf-guest': { checks: [fail('runtime.watchdog', 'blocking', 'f')] } }));
    explainFailures(run);
    explainFailures(run);
    expect(caseNamed(run, 'timer').explanations).to.deep.equal([
      "compute-0: CPU 4 (the load's CPU) shares a core with the guest's vCPU thread",
      'vnf-guest: runtime.watchdog failed: expected runtime.watchdog tuned, found runtime.watchdog untuned; fix: f',
    ]);
  });

  it('ignores details that are not preflight node records (another version, another case)', () => {
    const run = runWith({ 'vnf-guest': { checks: 'all good' }, 'compute-0': [1, 2], other: null });
    expect(() => explainFailures(run)).not.to.throw();
    expect(caseNamed(run, 'timer').explanations).to.equal(undefined);
  });

  it('reads what the preflight suite really records (lab host tree through the runner)', async () => {
    const node = buildFakeNode({ name: 'vnf-guest', role: 'guest', declaredRole: 'guest', rtCpus: [1], housekeepingCpus: [0] });
    const session = buildSnapshotSession(node, await loadTree('lab-host'));
    const suite = await copyPreflightSuite();
    const scope = await buildFakeScope({ pod: { file: 'pod.yaml', name: 'p', lab: true, nodes: [node], notes: [] }, thresholds: loadThresholds('lab'), session: async () => session, suitesDir: suite.dir });
    try {
      const preflight = await runCase(scope, preflightCase());
      const run = runWith({});
      run.cases[0] = preflight;
      explainFailures(run);
      const lines = caseNamed(run, 'timer').explanations ?? [];
      expect(lines[0]).to.match(/^vnf-guest: kernel\.preempt-rt failed: expected a PREEMPT_RT kernel.*, found uname -r 6\.18\.44-fc-v669.*; fix: boot a PREEMPT_RT kernel/);
      expect(lines).to.include('vnf-guest: cmdline.isolcpus failed: expected isolcpus covers the rt CPUs 1, found no isolcpus=; fix: add isolcpus=managed_irq,domain,1 to the kernel command line');
      expect(lines.every((l) => l.startsWith('vnf-guest: ') && / failed: expected .*, found .*; fix: /.test(l))).to.equal(true);
    } finally {
      await suite.remove();
      await rm(scope.runDir, { recursive: true, force: true });
    }
  });
});
