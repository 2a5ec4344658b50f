import { expect } from 'chai';
import { ALL_CHECKS, type NodeContext } from '../../../lib/audit/index.ts';
import { createEmptySnapshot } from '../../../lib/tools/node-snapshot/parse.ts';
import { CONTEXTS, loadTree } from './node-trees.ts';

// Bad input must never become a pass, and must never crash the audit.
describe('audit on bad input', () => {
  it('gives no pass and no throw on the broken tree', async () => {
    const snapshot = await loadTree('broken');
    for (const check of ALL_CHECKS) {
      const result = check.evaluate(snapshot, CONTEXTS.broken);
      expect(result.outcome, `${check.id}: ${JSON.stringify(result)}`).to.be.oneOf(['fail', 'unknown']);
      if (result.outcome === 'unknown') expect(result.reason, check.id).to.be.a('string').with.length.greaterThan(5);
      else expect(result.fix, check.id).to.be.a('string').with.length.greaterThan(5);
      expect(result.reason ?? '', check.id).not.to.match(/internal error/);
    }
  });

  it('reports garbage as unknown with the offending value, not as a fail', async () => {
    const snapshot = await loadTree('broken');
    const outcome = (id: string) => ALL_CHECKS.find((c) => c.id === id)?.evaluate(snapshot, CONTEXTS.broken);
    expect(outcome('cmdline.isolcpus')).to.include({ outcome: 'unknown' }).and.have.property('reason').that.includes('banana');
    expect(outcome('runtime.rt-throttling')).to.include({ outcome: 'unknown' }).and.have.property('reason').that.includes('-1abc');
    expect(outcome('runtime.nmi-watchdog')).to.include({ outcome: 'unknown' }).and.have.property('reason').that.includes('Permission denied');
    expect(outcome('kernel.preempt-rt')).to.include({ outcome: 'unknown' });
  });

  it('gives only unknown on an empty snapshot, for every role', () => {
    const roles: NodeContext['role'][] = ['host', 'guest', 'tgen'];
    for (const role of roles) {
      const context = { ...CONTEXTS.broken, role };
      for (const check of ALL_CHECKS) {
        const result = check.evaluate(createEmptySnapshot(), context);
        expect(result.outcome, `${role} ${check.id}: ${JSON.stringify(result)}`).to.equal('unknown');
        expect(result.reason, check.id).to.be.a('string').and.not.match(/internal error/);
      }
    }
  });

  it('never passes a per-CPU check vacuously when pod.yaml gives no rt CPUs', async () => {
    const context = { ...CONTEXTS['rt-tuned-host'], rtCpus: [] };
    const snapshot = await loadTree('rt-tuned-host');
    const perCpu = ['cmdline.isolcpus', 'cmdline.nohz-full', 'cmdline.rcu-nocbs', 'runtime.governor', 'runtime.cpuidle', 'runtime.irq-affinity',
      'runtime.hugepages-free', 'runtime.fair-server', 'guest-placement.vcpu-pinning', 'forwarding.nic-numa'];
    for (const id of perCpu) {
      const result = ALL_CHECKS.find((c) => c.id === id)?.evaluate(snapshot, context);
      expect(result?.outcome, id).to.equal('unknown');
      expect(result?.reason, id).to.match(/no rt_cpus/);
    }
  });

  it('turns a crash inside a check into unknown naming the check', async () => {
    const check = ALL_CHECKS.find((c) => c.id === 'runtime.thp');
    const snapshot = createEmptySnapshot();
    // A getter that throws stands in for a bug in the check's logic.
    Object.defineProperty(snapshot, 'files', { get: () => { throw new Error('boom'); } });
    const result = check?.evaluate(snapshot, CONTEXTS['rt-tuned-host']);
    expect(result).to.include({ outcome: 'unknown' });
    expect(result?.reason).to.equal('internal error in check runtime.thp: Error: boom');
  });
});
