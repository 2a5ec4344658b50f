// docs/tuning.md is rendered from the check definitions, so the guide an operator reads
// and the audit the CI runs cannot drift apart. A unit test compares the committed file
// with this output.
import type { CheckCategory, CheckDefinition } from './types.ts';

const CATEGORY_TITLES: Record<CheckCategory, string> = {
  kernel: 'Kernel',
  cmdline: 'Kernel command line',
  runtime: 'Runtime settings',
  'guest-placement': 'Guest placement (hosts running a guest)',
  forwarding: 'Forwarding nodes',
};

const INTRO = `# Tuning a pod for RT-KVM

This guide is generated from the preflight audit's check definitions (\`lib/audit\`) by
\`node scripts/generate-tuning-doc.ts\`. Do not edit it by hand: change the check and
regenerate. Every section below is a check that the \`preflight\` tier runs on each node
before any latency is measured; its outcome is pass, fail or unknown (the node did not
show enough to tell). Whether a fail blocks the run is set per check id in the threshold
profile, not here.

The test plan's design considerations ask for hardware resources statically and
exclusively assigned to the VNFs, hugepages and guest-to-host mappings preallocated, a
host kernel configured for hard real time, and as few VM exits as the hardware allows.
The checks below cover the host and guest kernels and QEMU/KVM; the BIOS is outside
what a node can report about itself, so it is guidance only.

## BIOS and firmware (guidance, not audited)

- Enable VT-x and VT-d (AMD: AMD-V and AMD-Vi). KVM needs the first, device
  assignment and SR-IOV the second.
- Disable deep C-states (C1E, C3 and deeper, package C-states), or cap them at C1 where
  power matters more than the last microseconds of wakeup latency.
- Disable P-states (EIST/SpeedStep, Cool'n'Quiet) and Turbo Boost, so that the rt CPUs
  run at one fixed frequency; select the vendor's "maximum performance" or
  low-latency profile.
- Disable SMT (Hyper-Threading) where latency matters more than throughput; otherwise
  keep the sibling thread of every rt CPU idle (list it in neither rt_cpus nor
  housekeeping_cpus, and isolate it too).
- Keep NUMA enabled (no node interleaving), so that CPUs, memory and NICs can be placed
  on one socket.
- Ask the vendor which firmware features raise system management interrupts (SMIs)
  and turn off those you can; hwlatdetect (rt-tests) measures what remains.

## Host kernel command line, by example

For a host whose rt CPUs are 2-5 and housekeeping CPUs 0-1, with 1 GB hugepages and
SR-IOV:

\`\`\`
isolcpus=managed_irq,domain,2-5 nohz_full=2-5 rcu_nocbs=2-5 rcu_nocb_poll
idle=poll intel_pstate=disable tsc=reliable nmi_watchdog=0 nowatchdog
transparent_hugepage=never default_hugepagesz=1G hugepagesz=1G hugepages=16
intel_iommu=on iommu=pt
\`\`\`

Runtime settings, in /etc/sysctl.d/90-kvmfornfv-rt.conf:

\`\`\`
kernel.sched_rt_runtime_us = -1
kernel.timer_migration = 0
kernel.watchdog = 0
kernel.nmi_watchdog = 0
\`\`\`

Red Hat's \`tuned\` profiles \`realtime-virtual-host\` and \`realtime-virtual-guest\` apply
most of this from one \`isolated_cores=\` setting.

## QEMU/KVM options, by example

libvirt domain XML for a 2-vCPU guest on host CPUs 2-3:

\`\`\`xml
<domain type='kvm'>
  <memoryBacking><hugepages/><locked/><nosharepages/></memoryBacking>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='1' cpuset='3'/>
    <emulatorpin cpuset='0-1'/>
    <vcpusched vcpus='0-1' scheduler='fifo' priority='1'/>
  </cputune>
  <cpu mode='host-passthrough'><feature policy='require' name='invtsc'/></cpu>
</domain>
\`\`\`

Plain QEMU, with vCPU threads (named \`CPU n/KVM\`) then pinned by \`taskset -pc\`:

\`\`\`
qemu-system-x86_64 -accel kvm -cpu host,+invtsc -smp 2 -m 4G \\
  -object memory-backend-file,id=mem,size=4G,mem-path=/dev/hugepages,share=on,prealloc=on \\
  -numa node,memdev=mem -overcommit mem-lock=on
\`\`\`

Inside the guest, the kernel and runtime checks apply again, against the guest's own
rt CPUs.`;

// Markdown would read <memoryBacking> as HTML; only text outside code spans is escaped.
function escapeText(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')))
    .join('');
}

function renderCheck(check: CheckDefinition): string {
  const where = `${check.appliesTo.join(', ')} nodes${check.condition ? `, where ${check.condition.text}` : ''}`;
  return [
    `### ${escapeText(check.title)}`,
    '',
    `Check \`${check.id}\`, on ${where}.`,
    '',
    `- **Expected:** ${escapeText(check.expected)}`,
    `- **Why:** ${escapeText(check.why)}`,
    `- **How to fix:** ${escapeText(check.howToFix)}`,
    `- **What the audit reads:** ${check.reads.map((r) => `\`${r}\``).join(', ')}`,
  ].join('\n');
}

// Pure: the same definitions always give the same text, so the committed guide can be compared byte for byte.
export function renderTuningDoc(checks: readonly CheckDefinition[]): string {
  const sections = (Object.keys(CATEGORY_TITLES) as CheckCategory[])
    .map((category) => {
      const inCategory = checks.filter((c) => c.category === category);
      if (inCategory.length === 0) return '';
      return [`## ${CATEGORY_TITLES[category]}`, '', ...inCategory.map(renderCheck).flatMap((s) => [s, ''])].join('\n');
    })
    .filter((s) => s !== '');
  return `${[INTRO, '', ...sections].join('\n').trimEnd()}\n`;
}
