// Hugepages and PCI driver bindings, saved before a DPDK forwarder changes them and restored
// exactly as found: the per-NUMA-node page counts (not a default, not just the global total),
// the hugetlbfs mount, each device's driver and driver_override. Pure builders and parsers,
// with one small orchestrator per resource that registers the restore before the change.
import { z } from 'zod';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import { applyWithUndo, runScript } from './undo.ts';

export interface HugepagePool {
  sizeKb: number;
  total: number;
  free: number;
  /** nr_hugepages per NUMA node; empty on kernels without per-node files. */
  perNode: Record<number, number>;
}

export interface HugetlbfsMount {
  target: string;
  options: string;
  /** The page size in kB the mount serves (pagesize=, else the default size). */
  pageSizeKb: number | null;
}

export interface HugepageState {
  pools: HugepagePool[];
  mounts: HugetlbfsMount[];
  /** Hugepagesize from /proc/meminfo, the size a mount without pagesize= serves. */
  defaultSizeKb: number | null;
  /** Folders asked about (the mount point to use) and whether they existed. */
  folders: Record<string, boolean>;
}

export interface HugepageRequest {
  sizeKb: number;
  /** Pages wanted in total; per node when perNode is given. */
  pages: number;
  /** Pages wanted free, on top of those in use (a launched guest's RAM): the total grows by what is missing. */
  freeWanted?: number;
  perNode?: Record<number, number>;
  /** Where to mount hugetlbfs when no mount serves the size. */
  mountPoint: string;
}

// One round trip that prints every pool, every per-node count, the default size, the mounts,
// and whether the folders a mount may need exist already.
export function buildHugepageProbeScript(folders: readonly string[] = []): string {
  return [
    'for d in /sys/kernel/mm/hugepages/hugepages-*kB; do [ -d "$d" ] || continue; s=${d##*hugepages-}; printf "pool %s %s %s\\n" "${s%kB}" "$(cat "$d/nr_hugepages")" "$(cat "$d/free_hugepages")"; done',
    'for d in /sys/devices/system/node/node*/hugepages/hugepages-*kB; do [ -d "$d" ] || continue; n=${d#/sys/devices/system/node/node}; s=${d##*hugepages-}; printf "node %s %s %s\\n" "${n%%/*}" "${s%kB}" "$(cat "$d/nr_hugepages")"; done',
    "awk '/^Hugepagesize:/ {print \"default \" $2}' /proc/meminfo",
    "awk '$3 == \"hugetlbfs\" {print \"mount \" $2 \" \" $4}' /proc/mounts",
    ...folders.map((f) => `if [ -d ${quoteArg(checkFolder(f))} ]; then echo "folder yes ${f}"; else echo "folder no ${f}"; fi`),
  ].join('\n');
}

// Reads the probe's lines; anything else in them is an error, so a restore never works from a guess.
export function parseHugepageState(stdout: string): HugepageState {
  const pools = new Map<number, HugepagePool>();
  const mounts: HugetlbfsMount[] = [];
  const nodes: Array<[number, number, number]> = [];
  let defaultSizeKb: number | null = null;
  const folders: Record<string, boolean> = {};
  for (const [i, raw] of stdout.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^pool (\d+) (\d+) (\d+)$/.exec(line))) pools.set(Number(m[1]), { sizeKb: Number(m[1]), total: Number(m[2]), free: Number(m[3]), perNode: {} });
    else if ((m = /^node (\d+) (\d+) (\d+)$/.exec(line))) nodes.push([Number(m[1]), Number(m[2]), Number(m[3])]);
    else if ((m = /^default (\d+)$/.exec(line))) defaultSizeKb = Number(m[1]);
    else if ((m = /^mount (\S+) (\S+)$/.exec(line))) mounts.push({ target: m[1]!.replace(/\\040/g, ' '), options: m[2]!, pageSizeKb: null });
    else if ((m = /^folder (yes|no) (\/\S*)$/.exec(line))) folders[m[2]!] = m[1] === 'yes';
    else throw new TopologyError(`hugepage probe, line ${i + 1}: expected "pool|node|default|mount ...", found ${JSON.stringify(line)}`);
  }
  for (const [node, sizeKb, nr] of nodes) {
    const pool = pools.get(sizeKb);
    if (!pool) throw new TopologyError(`hugepage probe: node ${node} lists ${sizeKb} kB pages, which /sys/kernel/mm/hugepages does not`);
    pool.perNode[node] = nr;
  }
  for (const mount of mounts) mount.pageSizeKb = pageSizeOf(mount.options) ?? defaultSizeKb;
  return { pools: [...pools.values()].sort((a, b) => a.sizeKb - b.sizeKb), mounts, defaultSizeKb, folders };
}

function checkFolder(path: string): string {
  if (!/^\/[A-Za-z0-9_./-]*$/.test(path) || path.includes('..')) throw new TopologyError(`hugetlbfs mount point: expected an absolute path of letters, digits, _ . / -, found ${JSON.stringify(path)}`);
  return path;
}

function pageSizeOf(options: string): number | null {
  const m = /(?:^|,)pagesize=(\d+)([KMG])(?:,|$)/.exec(options);
  if (!m) return null;
  return Number(m[1]) * { K: 1, M: 1024, G: 1024 * 1024 }[m[2] as 'K' | 'M' | 'G'];
}

export interface HugepagePlan {
  /** Empty when the node already has what is asked: nothing is changed then. */
  applyScript: string;
  restoreScript: string;
  /** The mount DPDK should use (existing or created). */
  mountPoint: string;
  changes: string[];
}

// What to change and how to put it back; the restore writes the counts that were read, node by node.
export function planHugepages(state: HugepageState, request: HugepageRequest): HugepagePlan {
  const pool = state.pools.find((p) => p.sizeKb === request.sizeKb);
  if (!pool) throw new TopologyError(`the node has no ${request.sizeKb} kB hugepages (sizes: ${state.pools.map((p) => p.sizeKb).join(', ') || 'none'} kB)`);
  const dir = `/sys/kernel/mm/hugepages/hugepages-${request.sizeKb}kB`;
  const nodeFile = (n: number) => `/sys/devices/system/node/node${n}/hugepages/hugepages-${request.sizeKb}kB/nr_hugepages`;
  const apply: string[] = [];
  const restore: string[] = [];
  const changes: string[] = [];
  if (request.perNode) {
    for (const [n, want] of Object.entries(request.perNode)) {
      const have = pool.perNode[Number(n)];
      if (have === undefined) throw new TopologyError(`hugepages: NUMA node ${n} has no ${request.sizeKb} kB pool`);
      if (have >= want) continue;
      apply.push(`echo ${want} > ${nodeFile(Number(n))}`, check(nodeFile(Number(n)), want, `node ${n}`));
      changes.push(`node ${n}: ${request.sizeKb} kB pages ${have} -> ${want}`);
    }
  } else {
    const wanted = Math.max(request.pages, request.freeWanted === undefined ? 0 : pool.total + Math.max(0, request.freeWanted - pool.free));
    if (pool.total < wanted) {
      apply.push(`echo ${wanted} > ${dir}/nr_hugepages`, check(`${dir}/nr_hugepages`, wanted, 'total'));
      changes.push(`${request.sizeKb} kB pages ${pool.total} -> ${wanted}`);
    }
  }
  if (changes.length > 0) restore.push(...restoreCounts(pool, dir, nodeFile));
  const existing = state.mounts.find((m) => m.pageSizeKb === request.sizeKb);
  let mountPoint = existing?.target ?? request.mountPoint;
  if (!existing) {
    const mp = quoteArg(checkFolder(request.mountPoint));
    const existed = state.folders[request.mountPoint];
    if (existed === undefined) throw new TopologyError(`hugepages: the probe did not say whether ${request.mountPoint} exists (probe it with buildHugepageProbeScript([mountPoint]))`);
    if (!existed) apply.push(`mkdir ${mp}`);
    apply.push(`mount -t hugetlbfs -o pagesize=${request.sizeKb}K nodev ${mp}`);
    // The folder is removed again only when this step created it.
    restore.unshift(
      `if awk -v t=${mp} '$2 == t && $3 == "hugetlbfs" {f=1} END {exit !f}' /proc/mounts; then umount ${mp} || rc=1; fi`,
      ...(existed ? [] : [`if [ -d ${mp} ]; then rmdir ${mp} || rc=1; fi`]),
    );
    changes.push(`mount hugetlbfs (${request.sizeKb} kB) on ${request.mountPoint}`);
    mountPoint = request.mountPoint;
  }
  return {
    applyScript: apply.length > 0 ? ['set -e', ...apply].join('\n') : '',
    restoreScript: restore.length > 0 ? ['rc=0', ...restore, 'exit $rc'].join('\n') : '',
    mountPoint,
    changes,
  };
}

// Each node is written twice: a node that could not get its pages back while another still held
// more than it should gets them on the second pass.
function restoreCounts(pool: HugepagePool, dir: string, nodeFile: (n: number) => string): string[] {
  const nodes = Object.entries(pool.perNode).map(([n, v]) => [Number(n), v] as const);
  if (nodes.length === 0) return [`echo ${pool.total} > ${dir}/nr_hugepages || rc=1`, `[ "$(cat ${dir}/nr_hugepages)" = ${pool.total} ] || { echo "${dir}/nr_hugepages: expected ${pool.total} after restore, found $(cat ${dir}/nr_hugepages) (pages in use?)" >&2; rc=1; }`];
  const lines = nodes.map(([n, v]) => `echo ${v} > ${nodeFile(n)} || rc=1`);
  const checks = nodes.map(([n, v]) => `[ "$(cat ${nodeFile(n)})" = ${v} ] || { echo "${nodeFile(n)}: expected ${v} after restore, found $(cat ${nodeFile(n)}) (pages in use?)" >&2; rc=1; }`);
  return [...lines, ...lines, ...checks];
}

function check(file: string, want: number, what: string): string {
  return `got=$(cat ${file}); [ "$got" -ge ${want} ] || { echo "hugepages ${what}: asked for ${want}, the kernel gave $got (memory too fragmented?)" >&2; exit 1; }`;
}

// Reads the node, registers the restore, then reserves the pages and the mount.
export async function reserveHugepages(ctx: Pick<CaseContext, 'cleanup' | 'dryRun' | 'recordUndo'>, session: NodeSession, request: HugepageRequest): Promise<HugepagePlan> {
  const before = await runScript(session, buildHugepageProbeScript([request.mountPoint]), 'read hugepages');
  const plan = ctx.dryRun ? planHugepages(dryRunState(request), request) : planHugepages(parseHugepageState(before), request);
  if (plan.applyScript === '') return plan;
  await applyWithUndo(ctx, {
    label: `hugepages on ${session.node.name} (${plan.changes.join('; ')})`,
    session,
    apply: async () => void (await runScript(session, plan.applyScript, 'reserve hugepages')),
    undoScript: plan.restoreScript,
  });
  return plan;
}

function dryRunState(request: HugepageRequest): HugepageState {
  return { pools: [{ sizeKb: request.sizeKb, total: 0, free: 0, perNode: {} }], mounts: [], defaultSizeKb: request.sizeKb, folders: { [request.mountPoint]: false } };
}

/** A PCI device's driver state: what it is bound to and any driver_override. */
export interface PciBinding {
  address: string;
  driver: string | null;
  driverOverride: string | null;
  /** Its kernel interface while bound to a kernel driver. */
  iface: string | null;
}

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
/** A kernel driver name (vfio-pci, igb_uio, ixgbe): it names a folder under /sys/bus/pci/drivers. */
export const DRIVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** run.args fields naming a driver: anything else is refused when the case reads its args. */
export const driverField = z.string().regex(DRIVER_NAME, 'expected a kernel driver name of letters, digits, _ and - (e.g. vfio-pci)');

function checkDriver(driver: string): string {
  if (!DRIVER_NAME.test(driver)) throw new TopologyError(`expected a kernel driver name of letters, digits, _ and -, found ${JSON.stringify(driver)}`);
  return driver;
}

function checkPci(addresses: readonly string[]): void {
  const bad = addresses.filter((a) => !PCI.test(a));
  if (bad.length > 0) throw new TopologyError(`expected PCI addresses like 0000:18:00.0 (lower case), found ${bad.join(', ')}`);
}

// Prints one line per device: address, driver (or -), driver_override, first net interface (or -).
export function buildPciProbeScript(addresses: readonly string[]): string {
  checkPci(addresses);
  return addresses
    .map((a) => {
      const d = `/sys/bus/pci/devices/${a}`;
      return `[ -d ${d} ] || { echo "no PCI device ${a}" >&2; exit 1; }; drv=-; [ -e ${d}/driver ] && drv=$(basename "$(readlink ${d}/driver)"); ov=$(cat ${d}/driver_override 2>/dev/null || echo '(null)'); net=$(ls ${d}/net 2>/dev/null | head -n 1); printf 'pci %s %s %s %s\\n' ${a} "$drv" "$ov" "\${net:--}"`;
    })
    .join('\n');
}

// Reads the probe; every address asked for must be there.
export function parsePciBindings(stdout: string, addresses: readonly string[]): PciBinding[] {
  const found = new Map<string, PciBinding>();
  for (const line of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^pci (\S+) (\S+) (\S+) (\S+)$/.exec(line);
    if (!m) throw new TopologyError(`PCI probe: expected "pci <address> <driver> <override> <iface>", found ${JSON.stringify(line)}`);
    found.set(m[1]!, { address: m[1]!, driver: m[2] === '-' ? null : m[2]!, driverOverride: m[3] === '(null)' ? null : m[3]!, iface: m[4] === '-' ? null : m[4]! });
  }
  return addresses.map((a) => {
    const b = found.get(a);
    if (!b) throw new TopologyError(`PCI probe: no line for ${a}`);
    return b;
  });
}

// Binds each device to `driver` through driver_override (no new_id, which would catch every device of that ID).
export function buildBindScript(addresses: readonly string[], driver: string): string {
  checkPci(addresses);
  checkDriver(driver);
  const lines = [`[ -d /sys/bus/pci/drivers/${driver} ] || modprobe ${quoteArg(driver)}`];
  for (const a of addresses) {
    const d = `/sys/bus/pci/devices/${a}`;
    lines.push(
      `echo ${quoteArg(driver)} > ${d}/driver_override`,
      `if [ -e ${d}/driver ]; then echo ${a} > ${d}/driver/unbind; fi`,
      `echo ${a} > /sys/bus/pci/drivers_probe || true`,
      `[ "$(basename "$(readlink ${d}/driver)")" = ${quoteArg(driver)} ] || { echo "${a}: not bound to ${driver} after drivers_probe" >&2; exit 1; }`,
    );
  }
  return ['set -e', ...lines].join('\n');
}

// Puts each device back on the driver it had, with the driver_override it had (an empty write clears it).
export function buildPciRestoreScript(saved: readonly PciBinding[], options: { unloadDriver?: string } = {}): string {
  checkPci(saved.map((s) => s.address));
  for (const d of [...saved.flatMap((s) => [s.driver, s.driverOverride]), options.unloadDriver]) if (d !== null && d !== undefined) checkDriver(d);
  const lines = ['rc=0'];
  for (const s of saved) {
    const d = `/sys/bus/pci/devices/${s.address}`;
    lines.push(
      `cur=-; [ -e ${d}/driver ] && cur=$(basename "$(readlink ${d}/driver)")`,
      `if [ "$cur" != ${quoteArg(s.driver ?? '-')} ] && [ -e ${d}/driver ]; then echo ${s.address} > ${d}/driver/unbind || rc=1; fi`,
      s.driverOverride === null ? `echo > ${d}/driver_override || rc=1` : `echo ${quoteArg(s.driverOverride)} > ${d}/driver_override || rc=1`,
    );
    if (s.driver !== null) {
      lines.push(
        `if [ ! -e ${d}/driver ]; then echo ${s.address} > /sys/bus/pci/drivers/${s.driver}/bind 2>/dev/null || echo ${s.address} > /sys/bus/pci/drivers_probe || rc=1; fi`,
        `[ "$(basename "$(readlink ${d}/driver 2>/dev/null)")" = ${quoteArg(s.driver)} ] || { echo "${s.address}: expected driver ${s.driver} after restore" >&2; rc=1; }`,
      );
    }
  }
  if (options.unloadDriver) lines.push(`modprobe -r ${quoteArg(options.unloadDriver)} || rc=1`);
  lines.push('exit $rc');
  return lines.join('\n');
}

// Reads the bindings, registers the restore, then binds the devices to `driver` (vfio-pci for DPDK).
export async function bindPciDevices(ctx: Pick<CaseContext, 'cleanup' | 'dryRun' | 'recordUndo'>, session: NodeSession, addresses: readonly string[], driver = 'vfio-pci'): Promise<PciBinding[]> {
  const probe = await runScript(session, `${buildPciProbeScript(addresses)}\n[ -d /sys/bus/pci/drivers/${checkDriver(driver)} ] && echo loaded || echo not-loaded`, 'read PCI bindings');
  if (ctx.dryRun) return [];
  const [bindingLines, loaded] = [probe.replace(/^(loaded|not-loaded)\s*$/m, ''), /^loaded$/m.test(probe)];
  const saved = parsePciBindings(bindingLines, addresses);
  const toBind = saved.filter((s) => s.driver !== driver).map((s) => s.address);
  if (toBind.length === 0) return saved;
  await applyWithUndo(ctx, {
    label: `PCI bindings of ${toBind.join(', ')} on ${session.node.name}`,
    session,
    apply: async () => void (await runScript(session, buildBindScript(toBind, driver), `bind ${toBind.join(', ')} to ${driver}`)),
    undoScript: buildPciRestoreScript(saved.filter((s) => toBind.includes(s.address)), loaded ? {} : { unloadDriver: driver }),
  });
  return saved;
}
