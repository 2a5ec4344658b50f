// One read-only shell script gathers everything the preflight audit judges, in one SSH
// round trip. It only reads: cat, readlink, uname, ps, virsh list/dumpxml, ethtool -i,
// systemctl is-active. Output redirection is limited to `2>&1` and `>/dev/null`, and a
// unit test scans the built script to hold it to that.
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../errors.ts';

export interface SnapshotScriptOptions {
  /** Per-run token that delimits items; random when not given. Letters, digits, dashes. */
  boundary?: string;
  /** PCI addresses of the node's data ports (pod.yaml), e.g. `0000:18:00.0`. */
  pciAddresses?: readonly string[];
  /** Kernel interface names of the node's data ports, for `ethtool -i`. */
  interfaces?: readonly string[];
}

export interface SnapshotScript {
  script: string;
  boundary: string;
}

/** Single files, read with cat. */
export const SNAPSHOT_FILES: readonly string[] = [
  '/proc/cmdline',
  '/proc/interrupts',
  '/proc/mounts',
  '/proc/irq/default_smp_affinity',
  '/proc/sys/kernel/osrelease',
  '/proc/sys/kernel/watchdog',
  '/proc/sys/kernel/nmi_watchdog',
  '/proc/sys/kernel/sched_rt_runtime_us',
  '/proc/sys/kernel/sched_rt_period_us',
  '/proc/sys/kernel/timer_migration',
  '/sys/kernel/realtime',
  '/sys/kernel/mm/transparent_hugepage/enabled',
  '/sys/kernel/mm/ksm/run',
  '/sys/devices/system/cpu/online',
  '/sys/devices/system/cpu/possible',
  '/sys/devices/system/cpu/isolated',
  '/sys/devices/system/cpu/nohz_full',
  '/sys/devices/system/cpu/cpuidle/current_driver',
];

/** Globs whose matches are read with cat; a pattern that matches nothing is reported missing. */
export const SNAPSHOT_FILE_GLOBS: readonly string[] = [
  '/proc/irq/*/smp_affinity_list',
  '/proc/irq/*/effective_affinity_list',
  '/sys/devices/system/node/node*/cpulist',
  '/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages',
  '/sys/devices/system/node/node*/hugepages/hugepages-*/free_hugepages',
  '/sys/kernel/mm/hugepages/hugepages-*/nr_hugepages',
  '/sys/kernel/mm/hugepages/hugepages-*/free_hugepages',
  '/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor',
  '/sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*/name',
  '/sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*/disable',
  '/sys/kernel/debug/sched/fair_server/cpu*/runtime',
  '/sys/class/net/*/device/numa_node',
  '/sys/class/net/*/device/sriov_numvfs',
  '/sys/class/net/*/device/sriov_totalvfs',
];

/** Globs whose matches are symbolic links, read with readlink. */
export const SNAPSHOT_LINK_GLOBS: readonly string[] = ['/sys/class/net/*/device', '/sys/class/net/*/device/driver'];

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const BOUNDARY = /^[A-Za-z0-9-]{8,80}$/;

// Shell helpers. h prints a header; f, l and c print one item each with its exit
// status; g expands a glob and reports the pattern itself when nothing matched.
const PRELUDE = String.raw`export LC_ALL=C
h() { printf '==> %s %s %s <==\n' "$B" "$1" "$2"; }
f() { if [ -e "$1" ]; then h file "$1"; cat -- "$1" 2>&1; s=$?; printf '\n'; h end "$s"; else h missing "$1"; fi; }
l() { if [ -L "$1" ]; then h link "$1"; readlink -- "$1" 2>&1; s=$?; printf '\n'; h end "$s"; else h missing "$1"; fi; }
c() { n=$1; shift; h cmd "$n"; "$@" 2>&1; s=$?; printf '\n'; h end "$s"; }
g() { m=0; for p in $1; do if [ -e "$p" ] || [ -L "$p" ]; then m=1; "$2" "$p"; fi; done; [ "$m" = 1 ] || h missing "$1"; }
has() { command -v "$1" >/dev/null 2>&1; }
procs() { for d in /proc/[0-9]*; do n=$(cat "$d/comm" 2>/dev/null) && printf '%s\t%s\n' "$d" "$n"; done; }
`;

// QEMU processes: their command line and every thread's name and affinity. A guest the
// harness launched renames its process kfn-vm-<guest> (-name process=), as every kfn-* program.
// OVS's ovs-vswitchd: its name and its threads' (the PMD threads are pmd-c<core>/id:<n>).
const QEMU = String.raw`for d in /proc/[0-9]*; do
  case $(cat "$d/comm" 2>/dev/null) in
    qemu*|kfn-vm-*) f "$d/cmdline"; g "$d/task/*/comm" f; g "$d/task/*/status" f ;;
    ovs-vswitchd*) f "$d/comm"; g "$d/task/*/comm" f; g "$d/task/*/status" f ;;
  esac
done
`;

const LIBVIRT = String.raw`if has virsh; then
  c virsh-list virsh list --name
  virsh list --name 2>/dev/null | while IFS= read -r dom; do
    [ -n "$dom" ] && c "virsh-dumpxml.$dom" virsh dumpxml --domain "$dom"
  done
fi
`;

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function validateInputs(options: SnapshotScriptOptions): void {
  const issues = [
    ...(options.pciAddresses ?? [])
      .filter((a) => !PCI_ADDRESS.test(a))
      .map((a) => ({ path: 'ports[].pci', message: `expected a PCI address like 0000:18:00.0, got ${JSON.stringify(a)}` })),
    ...(options.interfaces ?? [])
      .filter((i) => !INTERFACE_NAME.test(i))
      .map((i) => ({ path: 'ports[].interface', message: `expected an interface name of 1-15 safe characters, got ${JSON.stringify(i)}` })),
  ];
  if (issues.length > 0) throw new ConfigError('(node snapshot inputs)', issues);
}

// The audit needs the whole picture of a node from one read-only command; ports come from pod.yaml.
export function buildSnapshotScript(options: SnapshotScriptOptions = {}): SnapshotScript {
  const boundary = options.boundary ?? `KFNSNAP-${randomBytes(12).toString('hex')}`;
  if (!BOUNDARY.test(boundary)) throw new TypeError(`snapshot boundary must be 8-80 letters, digits or dashes, got ${JSON.stringify(boundary)}`);
  validateInputs(options);
  const lines: string[] = [`B=${boundary}`, PRELUDE, `h begin v1`];
  for (const file of SNAPSHOT_FILES) lines.push(`f ${quote(file)}`);
  for (const pattern of SNAPSHOT_FILE_GLOBS) lines.push(`g ${quote(pattern)} f`);
  for (const pattern of SNAPSHOT_LINK_GLOBS) lines.push(`g ${quote(pattern)} l`);
  for (const pci of options.pciAddresses ?? []) {
    const dir = `/sys/bus/pci/devices/${pci}`;
    lines.push(`l ${quote(`${dir}/driver`)}`);
    for (const name of ['numa_node', 'sriov_numvfs', 'sriov_totalvfs']) lines.push(`f ${quote(`${dir}/${name}`)}`);
  }
  lines.push('c uname-r uname -r', 'c uname-v uname -v', 'c uname-m uname -m', 'c processes procs');
  lines.push('c ps-threads ps -eLo pid,tid,psr,comm');
  lines.push('if has systemctl; then c irqbalance-systemctl systemctl is-active irqbalance; fi');
  for (const iface of options.interfaces ?? []) lines.push(`if has ethtool; then c ${quote(`ethtool-i.${iface}`)} ethtool -i ${quote(iface)}; fi`);
  lines.push(QEMU, LIBVIRT, 'h done v1', '');
  return { script: lines.join('\n'), boundary };
}
