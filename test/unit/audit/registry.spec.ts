import { expect } from 'chai';
import { ALL_CHECKS, CHECK_CATEGORIES, CHECK_IDS } from '../../../lib/audit/index.ts';

describe('audit check registry', () => {
  it('exports one unique id per check, prefixed by its category', () => {
    expect(CHECK_IDS).to.have.length(ALL_CHECKS.length);
    expect(new Set(CHECK_IDS).size).to.equal(CHECK_IDS.length);
    for (const check of ALL_CHECKS) {
      expect(CHECK_CATEGORIES).to.include(check.category);
      expect(check.id.startsWith(`${check.category}.`), check.id).to.equal(true);
      expect(check.id).to.match(/^[a-z-]+\.[a-z0-9-]+$/);
    }
  });

  it('covers every check the preflight design lists', () => {
    expect(CHECK_IDS).to.include.members([
      'kernel.preempt-rt',
      'cmdline.isolcpus', 'cmdline.nohz-full', 'cmdline.rcu-nocbs', 'cmdline.cstates', 'cmdline.pstate', 'cmdline.tsc-reliable', 'cmdline.hugepages', 'cmdline.iommu',
      'runtime.hugepages-free', 'runtime.governor', 'runtime.cpuidle', 'runtime.irqbalance', 'runtime.irq-affinity', 'runtime.watchdog', 'runtime.nmi-watchdog',
      'runtime.rt-throttling', 'runtime.fair-server', 'runtime.timer-migration', 'runtime.thp', 'runtime.ksm', 'runtime.housekeeping',
      'guest-placement.vcpu-pinning', 'guest-placement.emulator-pinning', 'guest-placement.memory-locked', 'guest-placement.hugepage-backing', 'guest-placement.cpu-model',
      'forwarding.nic-driver', 'forwarding.vfio-binding', 'forwarding.sriov-vfs', 'forwarding.nic-numa',
    ]);
  });

  it('documents every check: why, expected, how to fix, what it reads, where it applies', () => {
    for (const check of ALL_CHECKS) {
      expect(check.title, check.id).to.have.length.greaterThan(5);
      expect(check.why, check.id).to.have.length.greaterThan(40);
      expect(check.expected, check.id).to.have.length.greaterThan(5);
      expect(check.howToFix, check.id).to.have.length.greaterThan(5);
      expect(check.reads, check.id).to.have.length.greaterThan(0);
      expect(check.appliesTo, check.id).to.have.length.greaterThan(0);
    }
  });

  it('keeps definitions immutable, so a caller cannot swap a check out', () => {
    expect(Object.isFrozen(ALL_CHECKS)).to.equal(true);
    expect(Object.isFrozen(ALL_CHECKS[0])).to.equal(true);
  });
});
