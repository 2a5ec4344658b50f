// One read-only probe per node records the build under test: kernel, command line,
// PREEMPT_RT, what kind of machine it is, and QEMU on hosts.

export const SYSINFO_MARK = '@@kfn-sysinfo:';

const PROBES: ReadonlyArray<readonly [string, string]> = [
  ['release', 'uname -r'],
  ['version', 'uname -v'],
  ['cmdline', 'cat /proc/cmdline'],
  ['realtime', 'cat /sys/kernel/realtime'],
  ['netns', 'ip netns identify $$'],
  ['virt', 'systemd-detect-virt --vm'],
  ['hypervisor_flag', 'grep -c -w hypervisor /proc/cpuinfo'],
  ['dmi', 'cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name'],
  ['qemu', 'for q in qemu-system-x86_64 /usr/libexec/qemu-kvm qemu-kvm; do command -v $q >/dev/null 2>&1 && { $q --version | head -n 1; break; }; done'],
  // --all: isolcpus takes CPUs out of a process's affinity, and plain nproc counts only those left.
  ['cpus', 'nproc --all'],
];

export function buildSysinfoScript(): string {
  return PROBES.map(([key, command]) => `echo '${SYSINFO_MARK}${key}'; (${command}) 2>/dev/null`).join('\n');
}
