import { expect } from 'chai';
import { ALL_CHECKS, type CheckOutcome, type NodeContext } from '../../../lib/audit/index.ts';
import type { NodeSnapshot } from '../../../lib/tools/node-snapshot/parse.ts';
import { CONTEXTS, cloneSnapshot, loadTree } from './node-trees.ts';

// Each case breaks one fact of the tuned host and expects exactly its check to notice.
type Case = { name: string; id: string; outcome: CheckOutcome; mutate: (s: NodeSnapshot) => void; context?: Partial<NodeContext>; found?: RegExp };

const CMDLINE = '/proc/cmdline';
const editCmdline = (s: NodeSnapshot, from: RegExp, to: string) => s.files.set(CMDLINE, (s.files.get(CMDLINE) as string).replace(from, to));
const XML = 'virsh-dumpxml.rt-guest';
const editXml = (s: NodeSnapshot, from: string | RegExp, to: string) => {
  const xml = s.commands.get(XML) as { exitCode: number; stdout: string };
  s.commands.set(XML, { ...xml, stdout: xml.stdout.replace(from, to) });
};

// A running ovs-vswitchd (OVS 3.1 names its PMD threads pmd-c<core>/id:<n>) with one PMD on `cpu`.
const addPmd = (s: NodeSnapshot, cpu: number) => {
  s.files.set('/proc/5000/comm', 'ovs-vswitchd\n');
  s.files.set('/proc/5000/task/5012/comm', `pmd-c0${cpu}/id:9\n`);
  s.files.set('/proc/5000/task/5012/status', `Name:\tpmd-c0${cpu}/id:9\nCpus_allowed_list:\t${cpu}\n`);
};

const cases: Case[] = [
  { name: 'non-RT kernel', id: 'kernel.preempt-rt', outcome: 'fail', mutate: (s) => s.commands.set('uname-v', { exitCode: 0, stdout: '#1 SMP PREEMPT_DYNAMIC Debian 6.12.43-1\n' }) },
  { name: 'isolcpus misses CPU 3', id: 'cmdline.isolcpus', outcome: 'fail', mutate: (s) => editCmdline(s, /isolcpus=\S+/, 'isolcpus=2'), found: /isolcpus=2/ },
  { name: 'isolcpus without domain', id: 'cmdline.isolcpus', outcome: 'fail', mutate: (s) => editCmdline(s, /isolcpus=\S+/, 'isolcpus=managed_irq,2-3') },
  { name: 'isolcpus given twice, differently', id: 'cmdline.isolcpus', outcome: 'unknown', mutate: (s) => editCmdline(s, / quiet/, ' quiet isolcpus=4') },
  { name: 'nohz_full given twice, differently', id: 'cmdline.nohz-full', outcome: 'unknown', mutate: (s) => editCmdline(s, /$/, ' nohz_full=2') },
  { name: 'nohz_full on other CPUs', id: 'cmdline.nohz-full', outcome: 'fail', mutate: (s) => editCmdline(s, /nohz_full=\S+/, 'nohz_full=4-7') },
  { name: 'rcu_nocbs without a list', id: 'cmdline.rcu-nocbs', outcome: 'fail', mutate: (s) => editCmdline(s, /rcu_nocbs=\S+/, 'rcu_nocbs') },
  { name: 'only processor.max_cstate', id: 'cmdline.cstates', outcome: 'fail', mutate: (s) => editCmdline(s, /intel_idle\.max_cstate=0/, '') },
  { name: 'P-state driver active, powersave', id: 'cmdline.pstate', outcome: 'fail', mutate: (s) => { editCmdline(s, /intel_pstate=disable/, ''); s.files.set('/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor', 'powersave\n'); } },
  { name: 'tsc=unstable after reliable', id: 'cmdline.tsc-reliable', outcome: 'fail', mutate: (s) => editCmdline(s, /tsc=reliable/, 'tsc=reliable tsc=unstable') },
  { name: 'hugepages=0', id: 'cmdline.hugepages', outcome: 'fail', mutate: (s) => editCmdline(s, /hugepages=8/, 'hugepages=0') },
  { name: 'iommu not in pass-through', id: 'cmdline.iommu', outcome: 'fail', mutate: (s) => editCmdline(s, /iommu=pt/, '') },
  { name: 'no free hugepage on node 0', id: 'runtime.hugepages-free', outcome: 'fail', mutate: (s) => s.files.set('/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages', '0\n') },
  { name: 'ondemand governor', id: 'runtime.governor', outcome: 'fail', mutate: (s) => s.files.set('/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor', 'ondemand\n'), found: /cpu3: ondemand/ },
  { name: 'C1 enabled on CPU 2', id: 'runtime.cpuidle', outcome: 'fail', mutate: (s) => s.files.set('/sys/devices/system/cpu/cpu2/cpuidle/state1/disable', '0\n'), found: /cpu2 state1 \(C1\)/ },
  { name: 'NIC queue IRQ on CPU 3', id: 'runtime.irq-affinity', outcome: 'fail', mutate: (s) => s.files.set('/proc/irq/122/smp_affinity_list', '3\n'), found: /IRQ 122/ },
  { name: 'default affinity all CPUs', id: 'runtime.irq-affinity', outcome: 'fail', mutate: (s) => s.files.set('/proc/irq/default_smp_affinity', 'ff\n') },
  { name: 'housekeeping CPU offline', id: 'runtime.housekeeping', outcome: 'fail', mutate: (s) => s.files.set('/sys/devices/system/cpu/online', '1-7\n') },
  { name: 'irqbalance running', id: 'runtime.irqbalance', outcome: 'fail', mutate: (s) => s.commands.set('processes', { exitCode: 0, stdout: '/proc/1\tsystemd\n/proc/700\tirqbalance\n' }) },
  { name: 'watchdog on', id: 'runtime.watchdog', outcome: 'fail', mutate: (s) => s.files.set('/proc/sys/kernel/watchdog', '1\n') },
  { name: 'NMI watchdog on', id: 'runtime.nmi-watchdog', outcome: 'fail', mutate: (s) => s.files.set('/proc/sys/kernel/nmi_watchdog', '1\n') },
  { name: 'RT throttling at 95 %', id: 'runtime.rt-throttling', outcome: 'fail', mutate: (s) => s.files.set('/proc/sys/kernel/sched_rt_runtime_us', '950000\n') },
  { name: 'fair server default on CPU 3', id: 'runtime.fair-server', outcome: 'fail', mutate: (s) => s.files.set('/sys/kernel/debug/sched/fair_server/cpu3/runtime', '50000000\n') },
  { name: 'debugfs unreadable on 6.12', id: 'runtime.fair-server', outcome: 'unknown', mutate: (s) => s.files.delete('/sys/kernel/debug/sched/fair_server/cpu2/runtime') },
  { name: 'timer migration on', id: 'runtime.timer-migration', outcome: 'fail', mutate: (s) => s.files.set('/proc/sys/kernel/timer_migration', '1\n') },
  { name: 'THP madvise', id: 'runtime.thp', outcome: 'fail', mutate: (s) => s.files.set('/sys/kernel/mm/transparent_hugepage/enabled', 'always [madvise] never\n') },
  { name: 'KSM running', id: 'runtime.ksm', outcome: 'fail', mutate: (s) => s.files.set('/sys/kernel/mm/ksm/run', '1\n') },
  { name: 'two vCPUs on one CPU (XML)', id: 'guest-placement.vcpu-pinning', outcome: 'fail', mutate: (s) => editXml(s, "vcpu='1' cpuset='3'", "vcpu='1' cpuset='2'") },
  { name: 'vCPU thread floating (process)', id: 'guest-placement.vcpu-pinning', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/task/4251/status', 'Name:\tCPU 1/KVM\nCpus_allowed_list:\t0-7\n') },
  { name: 'vCPU pinned to a housekeeping CPU', id: 'guest-placement.vcpu-pinning', outcome: 'fail', mutate: (s) => editXml(s, "vcpu='0' cpuset='2'", "vcpu='0' cpuset='0'") },
  { name: 'no emulatorpin', id: 'guest-placement.emulator-pinning', outcome: 'fail', mutate: (s) => editXml(s, /<emulatorpin[^>]*>/, '') },
  { name: 'QEMU I/O thread on an rt CPU', id: 'guest-placement.emulator-pinning', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/task/4247/status', 'Name:\tIO mon_iothread\nCpus_allowed_list:\t0-3\n'), found: /IO mon_iothread\)→0-3/ },
  { name: 'memory not locked (XML)', id: 'guest-placement.memory-locked', outcome: 'fail', mutate: (s) => editXml(s, '<locked/>', '') },
  { name: 'hugepages dropped from XML', id: 'guest-placement.hugepage-backing', outcome: 'fail', mutate: (s) => editXml(s, /<hugepages>[\s\S]*?<\/hugepages>/, '') },
  { name: 'QEMU backend not on hugetlbfs', id: 'guest-placement.hugepage-backing', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/cmdline', (s.files.get('/proc/4242/cmdline') as string).replace('/dev/hugepages1G/', '/dev/shm/')) },
  { name: 'no invtsc (XML)', id: 'guest-placement.cpu-model', outcome: 'fail', mutate: (s) => editXml(s, "<feature policy='require' name='invtsc'/>", '') },
  { name: 'TCG vCPU threads', id: 'guest-placement.cpu-model', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/task/4250/comm', 'CPU 0/TCG\n') },
  { name: 'an OVS PMD thread on vCPU 1\'s CPU', id: 'guest-placement.ovs-pmd-cpus', outcome: 'fail', mutate: (s) => addPmd(s, 3), found: /PMD CPUs 3 shared with QEMU pid 4242 \(rt-guest\) vCPU 1 \(3\)/ },
  { name: 'an OVS PMD thread on vCPU 1\'s CPU', id: 'guest-placement.vnf-vcpu-pinning', outcome: 'fail', mutate: (s) => addPmd(s, 3) },
  { name: 'the VNF vCPU floating', id: 'guest-placement.vnf-vcpu-pinning', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/task/4251/status', 'Name:\tCPU 1/KVM\nCpus_allowed_list:\t2-3\n') },
  { name: 'an I/O thread allowed on the VNF vCPU\'s CPU', id: 'guest-placement.vnf-vcpu-pinning', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/task/4247/status', 'Name:\tIO mon_iothread\nCpus_allowed_list:\t0-3\n') },
  { name: 'the launched guest\'s QEMU not found', id: 'guest-placement.vnf-vcpu-pinning', outcome: 'unknown', mutate: (s) => s.files.set('/proc/4242/cmdline', (s.files.get('/proc/4242/cmdline') as string).replace('guest=rt-guest', 'guest=other')) },
  { name: 'guest RAM not shared with the vswitch', id: 'guest-placement.vhost-user-memory', outcome: 'fail', mutate: (s) => s.files.set('/proc/4242/cmdline', (s.files.get('/proc/4242/cmdline') as string).replace('"share":true,', '')), found: /share=off/ },
  { name: 'PF taken by vfio-pci', id: 'forwarding.nic-driver', outcome: 'fail', mutate: (s) => s.links.set('/sys/bus/pci/devices/0000:18:00.1/driver', '../../../../bus/pci/drivers/vfio-pci') },
  { name: 'DPDK port unbound', id: 'forwarding.nic-driver', outcome: 'fail', mutate: (s) => { s.links.delete('/sys/bus/pci/devices/0000:18:00.0/driver'); s.missing.add('/sys/bus/pci/devices/0000:18:00.0/driver'); } },
  { name: 'DPDK port on its kernel driver', id: 'forwarding.vfio-binding', outcome: 'fail', mutate: (s) => s.links.set('/sys/bus/pci/devices/0000:18:00.0/driver', '../../../../bus/pci/drivers/i40e'), found: /i40e/ },
  { name: 'VFs not created', id: 'forwarding.sriov-vfs', outcome: 'fail', mutate: (s) => s.files.set('/sys/bus/pci/devices/0000:18:00.1/sriov_numvfs', '0\n') },
  { name: 'NIC on the other socket', id: 'forwarding.nic-numa', outcome: 'fail', mutate: (s) => s.files.set('/sys/bus/pci/devices/0000:18:00.0/numa_node', '1\n'), found: /node 1/ },
  { name: 'no NUMA node on a 2-node host', id: 'forwarding.nic-numa', outcome: 'unknown', mutate: (s) => s.files.set('/sys/bus/pci/devices/0000:18:00.0/numa_node', '-1\n') },
];

describe('audit checks notice a single broken fact on the tuned host', () => {
  let tuned: NodeSnapshot;
  before(async () => {
    tuned = await loadTree('rt-tuned-host');
  });

  for (const c of cases) {
    it(`${c.id}: ${c.name} → ${c.outcome}`, () => {
      const check = ALL_CHECKS.find((x) => x.id === c.id);
      expect(check, c.id).to.not.equal(undefined);
      const context = { ...CONTEXTS['rt-tuned-host'], ...c.context };
      expect(check?.evaluate(tuned, context).outcome, 'passes before the mutation').to.equal('pass');
      const snapshot = cloneSnapshot(tuned);
      c.mutate(snapshot);
      const result = check?.evaluate(snapshot, context);
      expect(result?.outcome, JSON.stringify(result)).to.equal(c.outcome);
      if (c.outcome === 'fail') expect(result?.fix).to.be.a('string').with.length.greaterThan(5);
      if (c.found) expect(result?.found).to.match(c.found);
    });
  }
});
