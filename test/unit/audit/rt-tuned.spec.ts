import { expect } from 'chai';
import { ALL_CHECKS, auditNode, checkApplies } from '../../../lib/audit/index.ts';
import { CONTEXTS, loadTree, type TreeName } from './node-trees.ts';

// Written RT-tuned examples: every check that applies must pass, or the check is wrong.
const cases: Array<{ tree: TreeName; notApplicable: string[] }> = [
  { tree: 'rt-tuned-host', notApplicable: [] },
  {
    tree: 'rt-tuned-guest',
    notApplicable: [
      'cmdline.pstate',
      'cmdline.iommu',
      'runtime.governor',
      'guest-placement.vcpu-pinning',
      'guest-placement.emulator-pinning',
      'guest-placement.memory-locked',
      'guest-placement.hugepage-backing',
      'guest-placement.cpu-model',
      'guest-placement.ovs-pmd-cpus',
      'guest-placement.vnf-vcpu-pinning',
      'guest-placement.vhost-user-memory',
      'forwarding.sriov-vfs',
    ],
  },
];

describe('audit on the written RT-tuned trees', () => {
  for (const { tree, notApplicable } of cases) {
    describe(tree, () => {
      it('skips exactly the checks that do not apply to this node', () => {
        const skipped = ALL_CHECKS.filter((c) => !checkApplies(c, CONTEXTS[tree]).applies).map((c) => c.id);
        expect(skipped).to.deep.equal(notApplicable);
      });

      for (const check of ALL_CHECKS.filter((c) => !notApplicable.includes(c.id))) {
        it(`passes ${check.id}`, async () => {
          const result = check.evaluate(await loadTree(tree), CONTEXTS[tree]);
          expect(result, JSON.stringify(result)).to.include({ outcome: 'pass' });
          expect(result.found).to.be.a('string').and.not.equal('');
        });
      }

      it('auditNode runs every applicable check and skips the rest with a reason', async () => {
        const entries = auditNode({ snapshot: await loadTree(tree), context: CONTEXTS[tree] });
        expect(entries).to.have.length(ALL_CHECKS.length);
        for (const entry of entries) {
          if (notApplicable.includes(entry.check.id)) expect(entry.skipped).to.match(/applies/);
          else expect(entry.result?.outcome).to.equal('pass');
        }
      });
    });
  }
});
