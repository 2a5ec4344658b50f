// The guests a host runs, seen two ways: libvirt's live domain XML (what was asked for)
// and each QEMU process's command line and thread affinities (what is in effect).
// Both are reduced to the same facts so that one set of checks judges either.
import type { NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { parseKernelCpuList } from './kernel-cpu-list.ts';
import { comparePaths } from './read.ts';

/** CPUs a thread may run on: a list, not pinned at all, or not readable. */
export type Placement = number[] | 'unpinned' | 'unreadable';

export interface GuestView {
  /** e.g. `libvirt domain rt-guest` or `QEMU pid 4242`. */
  label: string;
  source: 'libvirt' | 'qemu';
  /** Set when the source could not be read; every check is then unknown for this view. */
  invalid?: string;
  kvm: boolean | undefined;
  vcpuCount: number | undefined;
  vcpus: Array<{ index: number; cpus: Placement }>;
  /** Emulator pin (libvirt) or every non-vCPU QEMU thread (process). */
  others: Array<{ name: string; cpus: Placement }>;
  memLocked: boolean;
  hugepages: boolean | undefined;
  /** RAM shared with other processes (share=on, libvirt <access mode='shared'/>), as a vhost-user backend needs it. */
  shared?: boolean;
  prealloc: boolean;
  /** Short evidence for messages, e.g. `-object memory-backend-file,mem-path=/dev/hugepages`. */
  memoryEvidence: string;
  /** Where hugetlbfs is on the host (from /proc/mounts), for fixes; undefined when unreadable. */
  hugetlbfsPaths?: string[];
  passthrough: boolean;
  invtsc: boolean;
  cpuEvidence: string;
}

function blankView(label: string, source: GuestView['source']): GuestView {
  return { label, source, kvm: undefined, vcpuCount: undefined, vcpus: [], others: [], memLocked: false, hugepages: undefined, prealloc: false, memoryEvidence: '', passthrough: false, invtsc: false, cpuEvidence: '' };
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) out[m[1] as string] = m[2] ?? m[3] ?? '';
  return out;
}

function cpus(text: string | undefined): Placement {
  if (text === undefined) return 'unpinned';
  const parsed = parseKernelCpuList(text);
  return parsed.ok ? parsed.cpus : 'unreadable';
}

// Live domain XML from `virsh dumpxml`; a regex reader suffices for the few elements needed.
export function parseDomainXml(label: string, xml: string): GuestView {
  const view = blankView(label, 'libvirt');
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const domain = /<domain\b([^>]*)>/.exec(text);
  if (!domain || !text.includes('</domain>')) return { ...view, invalid: 'virsh dumpxml output is not a complete <domain> document' };
  view.kvm = attributes(domain[1] as string).type === 'kvm';
  const vcpu = /<vcpu\b[^>]*>\s*(\d+)\s*<\/vcpu>/.exec(text);
  view.vcpuCount = vcpu ? Number(vcpu[1]) : undefined;
  const pins = new Map<number, string>();
  for (const m of text.matchAll(/<vcpupin\b([^>]*)\/?>/g)) {
    const a = attributes(m[1] as string);
    if (a.vcpu !== undefined && /^\d+$/.test(a.vcpu)) pins.set(Number(a.vcpu), a.cpuset ?? '');
  }
  for (let i = 0; i < (view.vcpuCount ?? 0); i++) view.vcpus.push({ index: i, cpus: cpus(pins.get(i)) });
  const emulator = /<emulatorpin\b([^>]*)\/?>/.exec(text);
  view.others.push({ name: 'emulator threads', cpus: cpus(emulator ? attributes(emulator[1] as string).cpuset : undefined) });
  for (const m of text.matchAll(/<iothreadpin\b([^>]*)\/?>/g)) {
    const a = attributes(m[1] as string);
    view.others.push({ name: `iothread ${a.iothread ?? '?'}`, cpus: cpus(a.cpuset) });
  }
  const backing = /<memoryBacking>([\s\S]*?)<\/memoryBacking>/.exec(text)?.[1] ?? '';
  view.memLocked = /<locked\s*\/?>/.test(backing);
  view.shared = /<access\b[^>]*mode\s*=\s*['"]shared['"]/.test(backing);
  view.hugepages = /<hugepages\b/.test(backing);
  // libvirt backs hugepage memory with prealloc=yes; <allocation mode='immediate'/> asks for it otherwise.
  view.prealloc = view.hugepages || /<allocation\b[^>]*mode\s*=\s*['"]immediate['"]/.test(backing);
  view.memoryEvidence = backing.trim() === '' ? 'no <memoryBacking>' : `<memoryBacking>${backing.replace(/>\s+</g, '><').replace(/\s+/g, ' ').trim()}</memoryBacking>`;
  const cpu = /<cpu\b([^>]*?)(\/>|>([\s\S]*?)<\/cpu>)/.exec(text);
  const cpuAttrs = cpu ? attributes(cpu[1] as string) : {};
  view.passthrough = cpuAttrs.mode === 'host-passthrough';
  view.invtsc = [...(cpu?.[3] ?? '').matchAll(/<feature\b([^>]*)\/?>/g)].some((m) => {
    const a = attributes(m[1] as string);
    return a.name === 'invtsc' && (a.policy === 'require' || a.policy === 'force');
  });
  view.cpuEvidence = `<domain type='${attributes(domain[1] as string).type ?? '?'}'>, <cpu mode='${cpuAttrs.mode ?? '(none)'}'>${view.invtsc ? ' with invtsc' : ' without invtsc'}`;
  return view;
}

/** QEMU option values: `a,b=c` or the JSON form libvirt uses for -object and -device. */
export function parseQemuOptionValue(value: string): { positional: string | undefined; props: Record<string, string> } {
  if (value.startsWith('{')) {
    try {
      const json = JSON.parse(value) as Record<string, unknown>;
      const props: Record<string, string> = {};
      for (const [k, v] of Object.entries(json)) props[k] = typeof v === 'string' ? v : v === true ? 'on' : v === false ? 'off' : JSON.stringify(v);
      return { positional: props['qom-type'] ?? props.driver, props };
    } catch {
      return { positional: undefined, props: {} };
    }
  }
  // `,,` is QEMU's escaped comma inside a value.
  const parts = value.replaceAll(',,', '\u0001').split(',').map((p) => p.replaceAll('\u0001', ','));
  const props: Record<string, string> = {};
  let positional: string | undefined;
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0 && i === 0) positional = part;
    else if (eq < 0) props[part.replace(/^[+-]/, '')] = part.startsWith('-') ? 'off' : 'on';
    else props[part.slice(0, eq)] = part.slice(eq + 1);
  });
  return { positional, props };
}

const FLAG_OPTIONS = new Set(['enable-kvm', 'mem-prealloc', 'nographic', 'nodefaults', 'no-user-config', 'no-shutdown', 'no-reboot', 'S', 'daemonize', 'no-hpet', 'snapshot']);
const ON = new Set(['on', 'yes', 'true']);

function parseOptions(args: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-')) continue;
    const name = arg.replace(/^--?/, '');
    if (FLAG_OPTIONS.has(name) || i + 1 >= args.length) out.push([name, '']);
    else out.push([name, args[++i] as string]);
  }
  return out;
}

function hugetlbfsMounts(snapshot: NodeSnapshot): string[] | undefined {
  const mounts = snapshot.files.get('/proc/mounts');
  if (mounts === undefined) return undefined;
  return mounts.split('\n').map((l) => l.split(' ')).filter((w) => w[2] === 'hugetlbfs').map((w) => w[1] as string);
}

function onHugetlbfs(path: string, mounts: string[] | undefined): boolean | undefined {
  if (mounts === undefined) return undefined;
  return mounts.some((m) => path === m || path.startsWith(`${m.replace(/\/$/, '')}/`));
}

// The memory facts of a QEMU command line; RAM must come from hugetlb backends actually used as RAM.
function readQemuMemory(view: GuestView, options: Array<[string, string]>, mounts: string[] | undefined): void {
  const get = (name: string) => options.filter(([n]) => n === name).map(([, v]) => parseQemuOptionValue(v));
  view.memLocked = get('overcommit').some((o) => ON.has(o.props['mem-lock'] ?? '')) || get('realtime').some((o) => ON.has(o.props.mlock ?? ''));
  const backends = new Map(get('object').filter((o) => o.positional?.startsWith('memory-backend-')).map((o) => [o.props.id ?? '', o]));
  const used = [...get('machine'), ...get('M')].map((o) => o.props['memory-backend']).concat(get('numa').map((o) => o.props.memdev));
  const usedBackends = used.filter((id): id is string => id !== undefined).map((id) => backends.get(id));
  const memPath = options.find(([n]) => n === 'mem-path')?.[1];
  const evidence: string[] = [];
  if (memPath !== undefined) {
    view.hugepages = onHugetlbfs(memPath, mounts);
    view.prealloc = options.some(([n]) => n === 'mem-prealloc');
    evidence.push(`-mem-path ${memPath}${view.hugepages === false ? ' (not on hugetlbfs)' : ''}${view.prealloc ? ' -mem-prealloc' : ''}`);
  } else if (usedBackends.length > 0) {
    const huge = usedBackends.map((b) => {
      if (!b) return false;
      if (b.positional === 'memory-backend-memfd') return ON.has(b.props.hugetlb ?? '');
      return b.positional === 'memory-backend-file' ? onHugetlbfs(b.props['mem-path'] ?? '', mounts) : false;
    });
    view.hugepages = huge.includes(false) ? false : huge.includes(undefined) ? undefined : true;
    view.prealloc = options.some(([n]) => n === 'mem-prealloc') || usedBackends.every((b) => ON.has(b?.props.prealloc ?? ''));
    view.shared = usedBackends.every((b) => ON.has(b?.props.share ?? ''));
    usedBackends.forEach((b, i) => {
      const where = huge[i] === false && b?.positional === 'memory-backend-file' ? ' (not on hugetlbfs)' : '';
      evidence.push(`${b?.positional ?? 'missing backend'} ${b?.props['mem-path'] ?? ''}${where} prealloc=${b?.props.prealloc ?? 'off'} share=${b?.props.share ?? 'off'}`.replace(/\s+/g, ' '));
    });
  } else {
    view.hugepages = false;
    view.shared = false;
    evidence.push('anonymous RAM (no -mem-path and no memory backend in use)');
  }
  if (mounts === undefined) evidence.push('/proc/mounts not readable');
  else view.hugetlbfsPaths = mounts;
  view.memoryEvidence = evidence.join('; ');
}

function readThreads(snapshot: NodeSnapshot, pid: string, view: GuestView): void {
  const comms = [...snapshot.files.keys()].filter((p) => p.startsWith(`/proc/${pid}/task/`) && p.endsWith('/comm')).sort(comparePaths);
  for (const commPath of comms) {
    const name = (snapshot.files.get(commPath) as string).trim();
    const status = snapshot.files.get(commPath.replace(/\/comm$/, '/status'));
    const allowed = status === undefined ? undefined : /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(status)?.[1];
    const placement: Placement = allowed === undefined ? 'unreadable' : cpus(allowed);
    const vcpu = /^CPU (\d+)\/(\w+)$/.exec(name);
    if (vcpu) {
      view.vcpus.push({ index: Number(vcpu[1]), cpus: placement });
      if (view.kvm === undefined || vcpu[2] !== 'KVM') view.kvm = vcpu[2] === 'KVM';
    } else {
      view.others.push({ name: `thread ${commPath.split('/')[4]} (${name})`, cpus: placement });
    }
  }
}

function parseQemuProcess(snapshot: NodeSnapshot, pid: string, cmdline: string): GuestView {
  const view = blankView(`QEMU pid ${pid}`, 'qemu');
  const args = cmdline.split(cmdline.includes('\0') ? '\0' : '\n').filter((a) => a !== '');
  if (args.length === 0 || !/qemu/.test(args[0] as string)) return { ...view, invalid: `/proc/${pid}/cmdline does not start with a QEMU binary: ${JSON.stringify((args[0] ?? '').slice(0, 60))}` };
  const options = parseOptions(args);
  const name = options.find(([n]) => n === 'name')?.[1];
  if (name) view.label += ` (${parseQemuOptionValue(name).props.guest ?? parseQemuOptionValue(name).positional ?? name})`;
  readQemuMemory(view, options, hugetlbfsMounts(snapshot));
  const cpu = options.filter(([n]) => n === 'cpu').map(([, v]) => parseQemuOptionValue(v)).pop();
  view.passthrough = cpu?.positional === 'host';
  view.invtsc = cpu !== undefined && ON.has(cpu.props.invtsc ?? '');
  const smp = options.find(([n]) => n === 'smp')?.[1];
  const smpValue = smp === undefined ? undefined : parseQemuOptionValue(smp);
  const count = smpValue?.props.cpus ?? smpValue?.positional;
  view.vcpuCount = count !== undefined && /^\d+$/.test(count) ? Number(count) : smp === undefined ? 1 : undefined;
  readThreads(snapshot, pid, view);
  const accel = options.some(([n, v]) => n === 'enable-kvm' || (n === 'accel' && v.split(',')[0] === 'kvm') || ((n === 'machine' || n === 'M') && /(^|,)accel=kvm/.test(v)));
  if (view.kvm === undefined) view.kvm = accel;
  view.cpuEvidence = `-cpu ${options.filter(([n]) => n === 'cpu').pop()?.[1] ?? '(default)'}; ${view.kvm ? 'KVM' : 'not KVM (TCG)'}`;
  return view;
}

// Every guest on the host, from both sources; an empty list means no guest was found.
export function readGuestViews(snapshot: NodeSnapshot): GuestView[] {
  const views: GuestView[] = [];
  for (const [name, output] of snapshot.commands) {
    if (!name.startsWith('virsh-dumpxml.')) continue;
    const label = `libvirt domain ${name.slice('virsh-dumpxml.'.length)}`;
    if (output.exitCode !== 0) views.push({ ...blankView(label, 'libvirt'), invalid: `virsh dumpxml failed (exit ${output.exitCode}): ${output.stdout.trim().slice(0, 120)}` });
    else views.push(parseDomainXml(label, output.stdout));
  }
  const pids = [...snapshot.files.keys(), ...snapshot.errors.keys()].map((p) => /^\/proc\/(\d+)\/cmdline$/.exec(p)?.[1]).filter((p): p is string => p !== undefined);
  for (const pid of [...new Set(pids)].sort((a, b) => Number(a) - Number(b))) {
    const cmdline = snapshot.files.get(`/proc/${pid}/cmdline`);
    // An exiting (zombie) QEMU has an empty command line and runs no guest.
    if (cmdline === '') continue;
    if (cmdline === undefined) views.push({ ...blankView(`QEMU pid ${pid}`, 'qemu'), invalid: `/proc/${pid}/cmdline could not be read: ${snapshot.errors.get(`/proc/${pid}/cmdline`)}` });
    else views.push(parseQemuProcess(snapshot, pid, cmdline));
  }
  return views;
}

/** An OVS PMD thread and the CPUs it may run on. */
export interface PmdThread {
  name: string;
  cpus: Placement;
}

// OVS's PMD threads (pmd-c<core>/id:<n>) of every ovs-vswitchd process the snapshot read.
export function readPmdThreads(snapshot: NodeSnapshot): PmdThread[] {
  const out: PmdThread[] = [];
  for (const [path, comm] of snapshot.files) {
    const m = /^\/proc\/(\d+)\/comm$/.exec(path);
    if (!m || !comm.trim().startsWith('ovs-vswitchd')) continue;
    const tasks = [...snapshot.files.keys()].filter((p) => p.startsWith(`/proc/${m[1]}/task/`) && p.endsWith('/comm')).sort(comparePaths);
    for (const t of tasks) {
      const name = (snapshot.files.get(t) as string).trim();
      if (!/^pmd-c\d+/.test(name)) continue;
      const status = snapshot.files.get(t.replace(/\/comm$/, '/status'));
      const allowed = status === undefined ? undefined : /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(status)?.[1];
      out.push({ name, cpus: allowed === undefined ? 'unreadable' : cpus(allowed) });
    }
  }
  return out;
}
