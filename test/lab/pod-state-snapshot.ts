// The machine-wide state a forwarding case may change, read before a CLI run and again after
// it, so a test can prove that teardown put everything back: hugepages per size, hugetlbfs
// mounts and their files, /dev/hugepages, the system OVS (when one runs), the links of this
// checkout's lab namespaces, DPDK runtime folders, and the OVS/DPDK/generator processes of
// this checkout (in its lab namespaces, or naming its folder): other checkouts on the same
// machine may run their own at the same time, and are not this test's business.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseOvsdbMap } from '../../lib/tools/ovs/value.ts';

export interface LinkEntry {
  ifname: string;
  up: boolean;
  promisc: boolean;
  allmulti: boolean;
  mtu: number;
}

export interface ProcessEntry {
  pid: number;
  args: string;
  /** Network namespace inode, e.g. `net:[4026532301]`. */
  netns: string;
}

export interface PodStateSnapshot {
  /** `hugepages-2048kB` → counts. */
  hugepages: Record<string, { nr: number; free: number }>;
  hugetlbfsMounts: string[];
  /** Files inside every hugetlbfs mount: a leaked file holds hugepages forever. */
  hugetlbfsFiles: string[];
  /** Whether /dev/hugepages exists: a mount point a case created must be removed again. */
  devHugepages: boolean;
  /** null when no system OVS answers on its default socket. */
  systemOvs: { bridges: string[]; otherConfig: Record<string, string> } | null;
  /** Lab namespace → its links; only this checkout's lab namespaces. */
  labLinks: Record<string, LinkEntry[]>;
  dpdkRuntimeDirs: string[];
  processes: ProcessEntry[];
}

/** Programs a forwarding case starts, the launched guest's QEMU included; any of them left running after a run is a leak. */
const PROGRAMS = /^(ovsdb-server|ovs-vswitchd.*|dpdk-testpmd|testpmd|kfn-softgen|trafgen|_t-rex-64|kfn-vm-.*|qemu-system-.*)$/;
/** A forwarder, which must not run on this machine while the VNF is meant to be inside the VM. */
const FORWARDERS = /^(dpdk-testpmd|testpmd)$/;

// Reads everything at once; `labPrefix` is deriveLabNames(root).prefix of this checkout, `root` its folder.
export async function takePodStateSnapshot(labPrefix: string, root: string): Promise<PodStateSnapshot> {
  const namespaces = await listLabNamespaces(labPrefix);
  const labNetns = new Set(namespaces.flatMap((ns) => (existsSync(`/run/netns/${ns}`) ? [`net:[${statSync(`/run/netns/${ns}`).ino}]`] : [])));
  return {
    hugepages: readHugepages(),
    hugetlbfsMounts: readHugetlbfsMounts(),
    hugetlbfsFiles: readHugetlbfsMounts().flatMap((m) => listFiles(m)),
    devHugepages: existsSync('/dev/hugepages'),
    systemOvs: await readSystemOvs(),
    labLinks: await readLabLinks(namespaces),
    dpdkRuntimeDirs: existsSync('/var/run/dpdk') ? readdirSync('/var/run/dpdk').sort() : [],
    processes: readProcesses().filter((p) => labNetns.has(p.netns) || p.args.includes(root)),
  };
}

// One line per difference; empty when the state after equals the state before. Lab links are
// compared only for namespaces present both times (a lab built by the run is gone after it);
// DPDK runtime folders only when they name one of `runIds` (every case's folder does), when given.
export function comparePodStateSnapshots(before: PodStateSnapshot, after: PodStateSnapshot, options: { runIds?: string[] } = {}): string[] {
  const out: string[] = [];
  for (const size of new Set([...Object.keys(before.hugepages), ...Object.keys(after.hugepages)])) {
    const b = before.hugepages[size];
    const a = after.hugepages[size];
    if (b?.nr !== a?.nr) out.push(`${size}: nr_hugepages ${b?.nr} -> ${a?.nr}`);
    else if (b?.free !== a?.free) out.push(`${size}: free_hugepages ${b?.free} -> ${a?.free} (a process or file still holds hugepages)`);
  }
  diffList(out, 'hugetlbfs mount', before.hugetlbfsMounts, after.hugetlbfsMounts);
  diffList(out, 'hugetlbfs file', before.hugetlbfsFiles, after.hugetlbfsFiles);
  if (before.devHugepages !== after.devHugepages) out.push(`/dev/hugepages: ${before.devHugepages ? 'present' : 'absent'} -> ${after.devHugepages ? 'present' : 'absent'}`);
  const ours = (dir: string) => options.runIds === undefined || options.runIds.some((id) => dir.includes(id));
  diffList(out, 'DPDK runtime dir /var/run/dpdk/', before.dpdkRuntimeDirs.filter(ours), after.dpdkRuntimeDirs.filter(ours));
  if ((before.systemOvs === null) !== (after.systemOvs === null)) out.push(`system OVS: ${before.systemOvs ? 'running' : 'absent'} -> ${after.systemOvs ? 'running' : 'absent'}`);
  if (before.systemOvs && after.systemOvs) {
    diffList(out, 'system OVS bridge', before.systemOvs.bridges, after.systemOvs.bridges);
    const keys = new Set([...Object.keys(before.systemOvs.otherConfig), ...Object.keys(after.systemOvs.otherConfig)]);
    for (const k of keys) {
      const b = before.systemOvs.otherConfig[k];
      const a = after.systemOvs.otherConfig[k];
      if (b !== a) out.push(`system OVS other_config:${k} ${JSON.stringify(b)} -> ${JSON.stringify(a)}`);
    }
  }
  for (const ns of Object.keys(before.labLinks)) {
    const b = before.labLinks[ns];
    const a = after.labLinks[ns];
    if (!b || !a) continue;
    for (const link of b) {
      const now = a.find((l) => l.ifname === link.ifname);
      if (!now) out.push(`${ns}: link ${link.ifname} gone`);
      else for (const key of ['up', 'promisc', 'allmulti', 'mtu'] as const) if (now[key] !== link[key]) out.push(`${ns}: ${link.ifname} ${key} ${link[key]} -> ${now[key]}`);
    }
    diffList(out, `${ns}: link`, b.map((l) => l.ifname), a.map((l) => l.ifname));
  }
  const known = new Set(before.processes.map((p) => p.pid));
  for (const p of after.processes) if (!known.has(p.pid)) out.push(`process left running: ${p.pid} ${p.args}`);
  return out;
}

/** Processes of a program a case starts, whose arguments name this run (run dir or file prefix). */
export function findRunProcesses(runId: string): ProcessEntry[] {
  return readProcesses().filter((p) => p.args.includes(runId));
}

/** Forwarders running in this checkout's lab namespaces now: with the VNF in the VM there must be none. */
export async function findNamespaceForwarders(labPrefix: string): Promise<ProcessEntry[]> {
  const namespaces = await listLabNamespaces(labPrefix);
  const labNetns = new Set(namespaces.flatMap((ns) => (existsSync(`/run/netns/${ns}`) ? [`net:[${statSync(`/run/netns/${ns}`).ino}]`] : [])));
  return readProcesses(FORWARDERS).filter((p) => labNetns.has(p.netns));
}

/** What a run may leave in /tmp on its nodes (they share this machine's file system on the lab). */
export function findRunFolders(runId: string): string[] {
  return [`/tmp/kfn-${runId}`].filter((f) => existsSync(f));
}

function diffList(out: string[], what: string, before: readonly string[], after: readonly string[]): void {
  for (const x of after) if (!before.includes(x)) out.push(`${what} added: ${x}`);
  for (const x of before) if (!after.includes(x)) out.push(`${what} removed: ${x}`);
}

function readHugepages(): Record<string, { nr: number; free: number }> {
  const root = '/sys/kernel/mm/hugepages';
  const out: Record<string, { nr: number; free: number }> = {};
  for (const size of readdirSync(root).sort()) {
    const read = (f: string) => Number(readFileSync(join(root, size, f), 'utf8').trim());
    out[size] = { nr: read('nr_hugepages'), free: read('free_hugepages') };
  }
  return out;
}

function readHugetlbfsMounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[2] === 'hugetlbfs')
    .map((l) => l.split(' ')[1] as string)
    .sort();
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true })
      .map((f) => join(dir, String(f)))
      .filter((f) => statSync(f).isFile())
      .sort();
  } catch {
    return [];
  }
}

async function readSystemOvs(): Promise<PodStateSnapshot['systemOvs']> {
  const list = await execa('ovs-vsctl', ['--timeout=5', 'list-br'], { reject: false });
  if (list.exitCode !== 0) return null;
  const other = await execa('ovs-vsctl', ['--timeout=5', 'get', 'Open_vSwitch', '.', 'other_config'], { reject: false });
  return {
    bridges: String(list.stdout).split('\n').filter((b) => b !== '').sort(),
    otherConfig: other.exitCode === 0 ? parseOvsdbMap(String(other.stdout)) : {},
  };
}

async function listLabNamespaces(labPrefix: string): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] as string).filter((ns) => ns.startsWith(`${labPrefix}-`));
}

async function readLabLinks(namespaces: readonly string[]): Promise<Record<string, LinkEntry[]>> {
  const out: Record<string, LinkEntry[]> = {};
  for (const ns of [...namespaces].sort()) {
    const r = await execa('ip', ['-n', ns, '-j', 'link', 'show'], { reject: false });
    if (r.exitCode !== 0) continue;
    const links = JSON.parse(String(r.stdout)) as Array<{ ifname: string; flags: string[]; mtu: number }>;
    out[ns] = links
      .map((l) => ({ ifname: l.ifname, up: l.flags.includes('UP'), promisc: l.flags.includes('PROMISC'), allmulti: l.flags.includes('ALLMULTI'), mtu: l.mtu }))
      .sort((a, b) => a.ifname.localeCompare(b.ifname));
  }
  return out;
}

function readProcesses(programs: RegExp = PROGRAMS): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (!programs.test(comm)) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').join(' ');
      // Zombies have no cmdline and hold nothing; they are reaped by their parent.
      if (args === '') continue;
      out.push({ pid: Number(entry), args, netns: readlinkSync(`/proc/${entry}/ns/net`) });
    } catch {
      // The process ended while it was being read.
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}
