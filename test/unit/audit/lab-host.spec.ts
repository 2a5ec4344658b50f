import { expect } from 'chai';
import { ALL_CHECKS, auditNode, type CheckOutcome } from '../../../lib/audit/index.ts';
import { CONTEXTS, loadTree } from './node-trees.ts';

// The lab is a Firecracker VM with a PREEMPT_DYNAMIC 6.18 kernel and no tuning: these
// are its honest outcomes (see test/fixtures/node-trees/lab-host.source.md).
const EXPECTED: Record<string, CheckOutcome | 'skipped'> = {
  'kernel.preempt-rt': 'fail', // PREEMPT_DYNAMIC, no /sys/kernel/realtime
  'cmdline.isolcpus': 'fail',
  'cmdline.nohz-full': 'fail',
  'cmdline.rcu-nocbs': 'fail',
  'cmdline.cstates': 'fail', // cpuidle_haltpoll.force=1, no idle=poll
  'cmdline.pstate': 'unknown', // no P-state parameter and no cpufreq in a VM
  'cmdline.tsc-reliable': 'fail',
  'cmdline.hugepages': 'fail',
  'cmdline.iommu': 'skipped', // no SR-IOV in the lab
  'runtime.hugepages-free': 'fail', // pools exist but hold no pages
  'runtime.governor': 'unknown', // no cpufreq
  'runtime.cpuidle': 'fail', // haltpoll idle state enabled on CPU 1
  'runtime.irq-affinity': 'fail', // every IRQ on 0-1, default mask 3
  'runtime.housekeeping': 'pass', // CPU 0 online, nothing isolated
  'runtime.irqbalance': 'pass', // not running (and no systemd)
  'runtime.watchdog': 'fail', // 1
  'runtime.nmi-watchdog': 'pass', // 0
  'runtime.rt-throttling': 'fail', // 950000
  'runtime.fair-server': 'unknown', // 6.18 has one, but debugfs is not mounted
  'runtime.timer-migration': 'fail', // 1
  'runtime.thp': 'fail', // [madvise]
  'runtime.ksm': 'pass', // 0
  'guest-placement.vcpu-pinning': 'unknown', // no guest
  'guest-placement.emulator-pinning': 'unknown',
  'guest-placement.memory-locked': 'unknown',
  'guest-placement.hugepage-backing': 'unknown',
  'guest-placement.cpu-model': 'unknown',
  'guest-placement.ovs-pmd-cpus': 'skipped', // this context launches no guest and places no PMD
  'guest-placement.vnf-vcpu-pinning': 'skipped',
  'guest-placement.vhost-user-memory': 'skipped',
  'forwarding.nic-driver': 'skipped', // lab data ports are veths, none in this context
  'forwarding.vfio-binding': 'skipped',
  'forwarding.sriov-vfs': 'skipped',
  'forwarding.nic-numa': 'skipped',
};

describe('audit on the recorded lab host', () => {
  it('has an expected outcome for every check', () => {
    expect(Object.keys(EXPECTED)).to.have.members(ALL_CHECKS.map((c) => c.id));
  });

  it('gives each check its honest outcome', async () => {
    const entries = auditNode({ snapshot: await loadTree('lab-host'), context: CONTEXTS['lab-host'] });
    const got = Object.fromEntries(entries.map((e) => [e.check.id, e.skipped ? 'skipped' : e.result?.outcome]));
    expect(got).to.deep.equal(EXPECTED);
  });

  it('names the kernel it found when PREEMPT_RT fails', async () => {
    const result = ALL_CHECKS.find((c) => c.id === 'kernel.preempt-rt')?.evaluate(await loadTree('lab-host'), CONTEXTS['lab-host']);
    expect(result?.found).to.include('6.18.44-fc-v669').and.include('PREEMPT_DYNAMIC');
  });

  it('fills expected, found, why and an exact fix on every failing check', async () => {
    const entries = auditNode({ snapshot: await loadTree('lab-host'), context: CONTEXTS['lab-host'] });
    const failing = entries.filter((e) => e.result?.outcome === 'fail');
    expect(failing).to.have.length.greaterThan(10);
    for (const { check, result } of failing) {
      expect(result?.expected, check.id).to.be.a('string').with.length.greaterThan(5);
      expect(result?.found, check.id).to.be.a('string').with.length.greaterThan(0);
      expect(result?.fix, check.id).to.be.a('string').with.length.greaterThan(5);
      expect(check.why, check.id).to.have.length.greaterThan(20);
    }
  });

  it('gives node-specific fixes, not only the general advice', async () => {
    const entries = auditNode({ snapshot: await loadTree('lab-host'), context: CONTEXTS['lab-host'] });
    const fix = (id: string) => entries.find((e) => e.check.id === id)?.result?.fix;
    expect(fix('cmdline.isolcpus')).to.equal('add isolcpus=managed_irq,domain,1 to the kernel command line');
    expect(fix('runtime.cpuidle')).to.equal('cpupower -c 1 idle-set -D 0');
    expect(fix('runtime.irq-affinity')).to.match(/^write 0 to \/proc\/irq\/N\/smp_affinity_list for N in 24 25 26 28 .* 43; and write 1 to \/proc\/irq\/default_smp_affinity$/);
  });

  it('gives every unknown outcome a reason', async () => {
    const entries = auditNode({ snapshot: await loadTree('lab-host'), context: CONTEXTS['lab-host'] });
    for (const { check, result } of entries.filter((e) => e.result?.outcome === 'unknown')) {
      expect(result?.reason, check.id).to.be.a('string').with.length.greaterThan(10);
    }
    const guest = entries.find((e) => e.check.id === 'guest-placement.vcpu-pinning')?.result;
    expect(guest?.reason).to.match(/no guest found on this host/);
  });
});
