// Hostile input (issue 17): every string of pod.yaml, the catalogue and the threshold profile that
// reaches a remote command is quoted or refused (the profile's strings reach none: that is checked too). Each field gets shell syntax (`;`, `$( )`,
// backticks, a newline, a single and a double quote) whose success would create a canary file.
// A field refused at load must name itself; the accepted ones go through a dry run of every case,
// and every command the dry run prints with a canary in it is run for real, sandboxed
// (test/support/sandbox.ts): the canary must never appear. The builders a dry run stops short of
// (restores, bindings, VFs, the undo log) get the same values at the end of this file.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { dump, load } from 'js-yaml';
import { DEFAULT_CATALOGUE, loadCatalogue } from '../../../lib/config/catalogue.ts';
import { loadPod } from '../../../lib/config/pod.ts';
import { DEFAULT_PROFILES_DIR, loadThresholds } from '../../../lib/config/thresholds.ts';
import { createSessionSource } from '../../../lib/cli/session-source.ts';
import { createNodeSessions } from '../../../lib/harness/node-sessions.ts';
import { createProgress } from '../../../lib/harness/progress.ts';
import { executeRun } from '../../../lib/harness/run.ts';
import { ReporterMultiplexer } from '../../../lib/report/reporter.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { quoteArg } from '../../../lib/remote/quote.ts';
import { buildSetNumVfsScript, buildVirshDevice } from '../../../lib/tools/sriov/command.ts';
import { buildBindScript, buildPciRestoreScript, planHugepages, type PciBinding } from '../../../lib/topology/hugepages.ts';
import { buildLinkRestoreScript } from '../../../lib/topology/undo.ts';
import { buildEntryContent, buildJournalPaths, buildOpenJournalScript, buildRecordEntryScript, buildRecoverScript } from '../../../lib/undo/scripts.ts';
import { canSandbox, runSandboxed } from '../../support/sandbox.ts';
import { startPodGuests } from '../../../lib/guest/guests.ts';

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Shell syntax that, unquoted, creates the file `canary` in the working directory. */
const PAYLOADS: Array<[name: string, make: (canary: string) => string]> = [
  ['semicolon', (c) => `x;>${c}`],
  ['command substitution', (c) => `$(>${c})`],
  ['backticks', (c) => `\`>${c}\``],
  ['newline', (c) => `x\n>${c}`],
  ['single quote', (c) => `x';>${c};'`],
  ['double quote', (c) => `x";>${c};"`],
];

interface Field {
  id: string;
  /** Where it is, as a reader would name it. */
  path: string;
  /** The last key, which a refusal message names. */
  key: string;
  /** `path`: an absolute path is expected, the payload follows one. */
  kind: 'text' | 'path';
  apply(pod: Yaml, catalogue: Yaml, value: string, profile: Yaml): void;
  /** Refused when pod.yaml is loaded (exit 2), or by its case with this message: never used. */
  refused?: 'load' | RegExp;
  /** false: accepted, but no command of a dry run carries it (a label, the SSH login, a value a dry run stops short of). */
  inDryRun?: false;
}

const node = (pod: Yaml, name: string) => (pod.nodes as Yaml[]).find((n) => n.name === name) as Yaml;
const args = (catalogue: Yaml, caseName: string) => (catalogue.tiers as Yaml[]).flatMap((t) => t.testcases as Yaml[]).find((c) => c.case_name === caseName)!.run.args as Yaml;

const FIELDS: Field[] = [
  { id: 'a', path: 'nodes.host.ports[0].interface', key: 'interface', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'host').ports[0].interface = v) },
  { id: 'b', path: 'nodes.guest.ports[2].interface', key: 'interface', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'guest').ports[2].interface = v) },
  { id: 'c', path: 'nodes.host.name', key: 'name', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'host').name = v) },
  { id: 'd', path: 'pod_name', key: 'pod_name', kind: 'text', refused: 'load', apply: (p, _c, v) => void (p.pod_name = v) },
  { id: 'e', path: 'nodes.host.rt_cpus', key: 'rt_cpus', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'host').rt_cpus = `1${v}`) },
  { id: 'f', path: 'nodes.host.ports[0].mac', key: 'mac', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'host').ports[0].mac = v) },
  { id: 'g', path: 'nodes.host.ports[0].pci', key: 'pci', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'host').ports[0].pci = v) },
  { id: 'h', path: 'nodes.tgen.ports[0].peer', key: 'peer', kind: 'text', refused: 'load', apply: (p, _c, v) => void (node(p, 'tgen').ports[0].peer = v) },
  { id: 'i', path: 'nodes.host.tools.cyclictest', key: 'cyclictest', kind: 'path', apply: (p, _c, v) => void (node(p, 'host').tools.cyclictest = v) },
  { id: 'j', path: 'nodes.host.tools.stress-ng', key: 'stress-ng', kind: 'path', apply: (p, _c, v) => void (node(p, 'host').tools['stress-ng'] = v) },
  { id: 'k', path: 'nodes.host.tools.dpdk-testpmd', key: 'dpdk-testpmd', kind: 'path', apply: (p, _c, v) => void (node(p, 'host').tools['dpdk-testpmd'] = v) },
  { id: 'l', path: 'nodes.guest.tools.dpdk-testpmd', key: 'dpdk-testpmd', kind: 'path', apply: (p, _c, v) => void (node(p, 'guest').tools['dpdk-testpmd'] = v) },
  { id: 'm', path: 'nodes.host.tools.ovs-vsctl', key: 'ovs-vsctl', kind: 'path', apply: (p, _c, v) => void (node(p, 'host').tools['ovs-vsctl'] = v) },
  { id: 'n', path: 'nodes.guest.extra.agent_cache_dir', key: 'agent_cache_dir', kind: 'path', apply: (p, _c, v) => void (node(p, 'guest').extra.agent_cache_dir = v) },
  { id: 'o', path: 'nodes.guest.extra.port_addresses.gi', key: 'port_addresses', kind: 'text', refused: /has no address in extra\.port_addresses/, apply: (p, _c, v) => void (node(p, 'guest').extra.port_addresses.gi = v) },
  { id: 'p', path: 'nodes.guest.user', key: 'user', kind: 'text', inDryRun: false, apply: (p, _c, v) => void (node(p, 'guest').user = v) },
  { id: 'q', path: 'ovs_dpdk_forwarding args ovs_options.vswitchd', key: 'vswitchd', kind: 'path', apply: (_p, c, v) => void ((args(c, 'ovs_dpdk_forwarding').ovs_options ??= {}).vswitchd = v) },
  { id: 'r', path: 'ovs_dpdk_forwarding args ovs_options.driver', key: 'driver', kind: 'text', refused: /ovs_options\.driver: expected a kernel driver name/, apply: (_p, c, v) => void ((args(c, 'ovs_dpdk_forwarding').ovs_options ??= {}).driver = v) },
  { id: 's', path: 'baremetal_forwarding args testpmd.driver', key: 'driver', kind: 'text', refused: /testpmd\.driver: expected a kernel driver name/, apply: (_p, c, v) => void ((args(c, 'baremetal_forwarding').testpmd ??= {}).driver = v) },
  { id: 't', path: 'ovs_dpdk_forwarding args vnf.hugepages.mount', key: 'mount', kind: 'path', refused: /hugetlbfs mount point: expected an absolute path of letters/, apply: (_p, c, v) => void ((args(c, 'ovs_dpdk_forwarding').vnf ??= {}).hugepages = { mount: v }) },
  { id: 'u', path: 'device_interrupt args device', key: 'device', kind: 'text', inDryRun: false, apply: (_p, c, v) => void (args(c, 'device_interrupt').device = v) },
  { id: 'v', path: 'sriov_forwarding args sriov.domain', key: 'domain', kind: 'text', inDryRun: false, apply: (_p, c, v) => void (args(c, 'sriov_forwarding').sriov = { vfs: 'create', domain: v, ports: [{ pf: 'h0', vf: 0 }, { pf: 'h1', vf: 1 }] }) },
  { id: 'w', path: 'ovs_dpdk_forwarding args vnf.vhost_sockets[0]', key: 'vhost_sockets', kind: 'path', apply: (_p, c, v) => void (args(c, 'ovs_dpdk_forwarding').vnf.vhost_sockets[0] = v) },
  { id: 'y', path: 'threshold profile description', key: 'description', kind: 'text', inDryRun: false, apply: (_p, _c, v, t) => void (t.description = v) },
  { id: 'z', path: 'threshold profile timer limit description', key: 'description', kind: 'text', inDryRun: false, apply: (_p, _c, v, t) => void (t.cases.timer[0].description = v) },
  { id: 'x', path: 'timer args load_node', key: 'load_node', kind: 'text', refused: /load_node: no node or role/, apply: (_p, c, v) => void (args(c, 'timer').load_node = v) },
];

/** A real (not lab) pod with every node and port the cases need; PCI ports so the binding paths run. */
function basePod(): Yaml {
  const port = (name: string, iface: string, mac: string, peer?: string, pci?: string) => ({ name, interface: iface, mac, ...(peer ? { peer } : {}), ...(pci ? { pci } : {}) });
  const n = (name: string, role: string, ip: string, ports: Yaml[], extra: Yaml = {}) => ({ name, role, ip, user: 'root', key_filename: '/nonexistent/id', rt_cpus: '1', housekeeping_cpus: '0', ports, tools: {}, extra });
  return {
    pod_name: 'hostile-pod',
    nodes: [
      n('host', 'host', '192.0.2.2', [port('h0', 'h0', '02:00:00:00:01:02', 'tgen:t0', '0000:3b:00.0'), port('h1', 'h1', '02:00:00:00:02:02', 'tgen:t1', '0000:3b:00.1')]),
      n('guest', 'guest', '192.0.2.3', [port('g0', 'g0', '02:00:00:00:03:02', 'tgen:t2'), port('g1', 'g1', '02:00:00:00:04:02', 'tgen:t3'), port('gi', 'gi', '02:00:00:00:05:02', 'tgen:ti')], { port_addresses: { gi: '198.19.0.2/30' } }),
      n('tgen', 'tgen', '192.0.2.4', [port('t0', 't0', '02:00:00:00:01:01', 'host:h0'), port('t1', 't1', '02:00:00:00:02:01', 'host:h1'), port('t2', 't2', '02:00:00:00:03:01', 'guest:g0'), port('t3', 't3', '02:00:00:00:04:01', 'guest:g1'), port('ti', 'ti', '02:00:00:00:05:01', 'guest:gi')]),
    ],
  };
}

const canaryOf = (field: Field, payload: number) => `kfnc-${field.id}${payload}`;
const valueOf = (field: Field, payload: number) => {
  const v = PAYLOADS[payload]![1](canaryOf(field, payload));
  return field.kind === 'path' ? `/opt/kfn${v}` : v;
};

// Sessions of a dry run over the pod, and every command they print (scripts whole).
function dryRunSessions(loaded: ReturnType<typeof loadPod>): { commands: string[]; sessions: ReturnType<typeof createNodeSessions> } {
  const commands: string[] = [];
  const print = (line: string) => {
    const m = /^\[[^\]]+\] \(dry-run\) [^$]*\$ ([\s\S]*)$/.exec(line);
    if (m?.[1] !== undefined) commands.push(m[1]);
  };
  const source = createSessionSource({ pod: loaded, dryRun: true, runId: '20261207-000000-beef', log: () => {}, hostKeyPolicy: 'strict', print });
  return { commands, sessions: createNodeSessions(loaded, source, () => {}) };
}

// Runs every case as --dry-run does, and returns each command printed (scripts whole).
async function dryRunCommands(dir: string, pod: Yaml, catalogue: Yaml, profile: Yaml): Promise<{ commands: string[]; run: RunResult }> {
  const podFile = join(dir, 'pod.yaml');
  const catalogueFile = join(dir, 'testcases.yaml');
  const profileFile = join(dir, 'profile.yaml');
  writeFileSync(podFile, dump(pod));
  writeFileSync(catalogueFile, dump(catalogue));
  writeFileSync(profileFile, dump(profile));
  const loaded = loadPod(podFile);
  const { commands, sessions } = dryRunSessions(loaded);
  const run = await executeRun({
    catalogue: loadCatalogue(catalogueFile),
    selection: 'all',
    environment: { installerType: '', deployScenario: 'os-nosdn-nofeature-noha', nodeName: '', buildTag: '', ciLoop: 'daily' },
    reporters: new ReporterMultiplexer([], () => {}),
    env: {},
    nodes: sessions.systemInfo,
    tools: sessions.tools,
    notes: [],
    scope: {
      runId: '20261207-000000-beef',
      runDir: join(dir, 'run'),
      pod: loaded,
      thresholds: loadThresholds(profileFile, { podName: loaded.name }),
      durationOverrideS: 1,
      dryRun: true,
      signal: new AbortController().signal,
      progress: createProgress({ quiet: true }),
      session: (n) => sessions.session(n),
      log: () => {},
      recordSystemInfo: sessions.recordSystemInfo,
      recordToolVersion: sessions.recordToolVersion,
      hookTimeoutMs: 30_000,
    },
  });
  await sessions.cleanupAll();
  return { commands, run };
}

// What the node would run: the command itself, without the dry run's wording around it.
function asShell(printed: string): string | undefined {
  if (/^(upload |cat |\(stop |\(cleanup\) )/.test(printed)) return undefined;
  // Without sudo: nobody cannot sudo, and what sudo would run is what must stay inert.
  return printed.replace(/^\(detached [^)]+\) /, '').replace(/^sudo -n /, '');
}

describe('hostile input: quoted or refused, never run (issue 17)', function () {
  this.timeout(600_000);
  const work = mkdtempSync(join(tmpdir(), 'kfn-hostile-'));
  // Traversable, so that the sandbox's user (nobody) reaches the folders made in it.
  chmodSync(work, 0o711);
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const field of FIELDS.filter((f) => f.refused === 'load')) {
    it(`${field.path}: refused at load, naming the field, whatever the shell syntax`, () => {
      PAYLOADS.forEach(([name], i) => {
        const pod = basePod();
        field.apply(pod, {}, valueOf(field, i), {});
        const file = join(work, `refused-${field.id}${i}.yaml`);
        writeFileSync(file, dump(pod));
        expect(() => loadPod(file), `${name}`).to.throw(new RegExp(`${field.key.replace('_', '_')}[\\s\\S]*expected|expected[\\s\\S]*${field.key}`));
      });
    });
  }

  PAYLOADS.forEach(([name], i) => {
    it(`${name}: no accepted field of pod.yaml or the catalogue gets its shell syntax run by any command of any case`, async function () {
      if (!canSandbox()) this.skip();
      const dir = mkdtempSync(join(work, `${i}-`));
      chmodSync(dir, 0o1777);
      // One run with every field a case accepts, then one per field a case refuses (the first
      // refusal stops a case, so each needs its own run to show that it is refused, and how).
      const passes: Field[][] = [FIELDS.filter((f) => f.refused === undefined), ...FIELDS.filter((f) => f.refused instanceof RegExp).map((f) => [f])];
      const carried = new Set<string>();
      for (const [pass, used] of passes.entries()) {
        const pod = basePod();
        const catalogue = load(readFileSync(DEFAULT_CATALOGUE, 'utf8')) as Yaml;
        const profile = load(readFileSync(join(DEFAULT_PROFILES_DIR, 'opnfv-tc028.yaml'), 'utf8')) as Yaml;
        // A load makes the timer case start stress-ng, whose path is one of the fields; the VNF of a
        // real pod's PVP runs on the guest's virtio devices behind QEMU's vhost-user sockets.
        args(catalogue, 'timer').load = 'cpu';
        args(catalogue, 'ovs_dpdk_forwarding').vnf = { pci: ['0000:00:05.0', '0000:00:06.0'], vhost_sockets: ['/run/vhost/vhu0.sock', '/run/vhost/vhu1.sock'] };
        for (const f of used) f.apply(pod, catalogue, valueOf(f, i), profile);
        const { commands, run } = await dryRunCommands(dir, pod, catalogue, profile);
        const reasons = run.cases.flatMap((c) => c.testcases.map((t) => `${c.caseName}: ${t.message ?? ''}`));
        const refusal = used[0]?.refused;
        if (refusal instanceof RegExp) expect(reasons.join('\n'), used[0]?.path).to.match(refusal);
        else expect(reasons.filter((r) => /kfnc-/.test(r)), 'a case refused a value it should accept').to.deep.equal([]);
        const shell = commands.filter((c) => /kfnc-/.test(c)).map(asShell).filter((c): c is string => c !== undefined);
        for (const c of shell) for (const m of c.matchAll(/kfnc-([a-z])/g)) carried.add(m[1]!);
          for (const command of shell) await runSandboxed(command, dir);
      }
      // Every accepted field reached at least one command: the matrix tests what it says.
      expect([...carried].sort().join(''), 'fields carried into commands').to.equal(FIELDS.filter((f) => f.refused === undefined && f.inDryRun !== false).map((f) => f.id).join(''));
      const canaries = readdirSync(dir).filter((f) => f.startsWith('kfnc-'));
      expect(canaries, `injected through ${canaries.map((c) => FIELDS.find((f) => f.id === c[5])?.path).join(', ')}`).to.deep.equal([]);
    });
  });
});

describe('hostile input: the builders a dry run stops short of (issue 17)', function () {
  this.timeout(120_000);
  const work = mkdtempSync(join(tmpdir(), 'kfn-hostile-builders-'));
  // Traversable, so that the sandbox's user (nobody) reaches the folders made in it.
  chmodSync(work, 0o711);
  after(() => rmSync(work, { recursive: true, force: true }));
  const pci: PciBinding = { address: '0000:3b:00.0', driver: 'ixgbe', driverOverride: null, iface: 'h0' };
  const hugepages = { pools: [{ sizeKb: 2048, total: 0, free: 0, perNode: {} }], mounts: [], defaultSizeKb: 2048, folders: {} };

  PAYLOADS.forEach(([name, make]) => {
    it(`${name}: refused by the builder, or inert when its script runs`, async function () {
      if (!canSandbox()) this.skip();
      const dir = mkdtempSync(join(work, 'b-'));
      chmodSync(dir, 0o1777);
      const v = (id: string) => make(`kfnc-${id}`);
      const refused: Array<[string, () => unknown]> = [
        ['bind driver', () => buildBindScript([pci.address], v('1'))],
        ['restore driver', () => buildPciRestoreScript([{ ...pci, driver: v('2') }])],
        ['restore driver_override', () => buildPciRestoreScript([{ ...pci, driverOverride: v('3') }])],
        ['unload driver', () => buildPciRestoreScript([pci], { unloadDriver: v('4') })],
        ['hugetlbfs mount point', () => planHugepages({ ...hugepages, folders: { [`/mnt/${v('5')}`]: false } }, { sizeKb: 2048, pages: 8, mountPoint: `/mnt/${v('5')}` })],
        ['libvirt domain', () => buildVirshDevice('attach-device', v('6'), '/tmp/kfn-x/vf.xml')],
        ['SR-IOV PF', () => buildSetNumVfsScript(v('7'), 2)],
        ['undo log node name', () => buildJournalPaths(join(dir, 'undo'), 'run1', v('8'))],
      ];
      for (const [what, build] of refused) expect(build, what).to.throw();
      // Quoted, then run: an interface name from a node's own listing, and the undo log's labels.
      await runSandboxed(buildLinkRestoreScript([{ ifname: v('9'), up: true, promisc: false, allmulti: false, mtu: 1500 }]), dir);
      const log = buildJournalPaths(join(dir, 'undo'), 'run1', 'host');
      // One sandbox for the three: the log is replayed only in the namespace that wrote it.
      const label = `restore ${v('a')}`;
      const record = `printf '%s' ${quoteArg(buildEntryContent(label, 'true'))} | { ${buildRecordEntryScript(log, 1)}; }`;
      const out = await runSandboxed([buildOpenJournalScript(log, '/tmp/kfn-run1'), record, buildRecoverScript({ root: join(dir, 'undo'), ownRunId: 'run2', which: 'others', graceMs: 100 })].map((script) => `(\n${script}\n)`).join('\n'), dir);
      expect(out, 'the undo log was replayed, its label printed as it is').to.include(`KFN-UNDO undone 000001 ${label.replace(/\n/g, ' ')}`);
      expect(readdirSync(dir).filter((f) => f.startsWith('kfnc-'))).to.deep.equal([]);
    });
  });
});

// The launched guest's fields (issue 13 adds them, issue 17 asks for them): each reaches the
// host through the launcher's commands, which a dry run of startPodGuests prints; they are run
// sandboxed as above. Interface names (tap, bridge, macvtap, a VF's PF) are refused at load instead.
describe('hostile input: a launched guest\'s fields (issues 13, 17)', function () {
  this.timeout(120_000);
  const work = mkdtempSync(join(tmpdir(), 'kfn-hostile-launch-'));
  chmodSync(work, 0o711);
  after(() => rmSync(work, { recursive: true, force: true }));
  const launchFields: Array<{ id: string; key: string; apply: (launch: Yaml, v: string) => void; refused?: true }> = [
    { id: 'A', key: 'qemu', apply: (l, v) => void (l.qemu = `/opt/kfn${v}`) },
    { id: 'B', key: 'kernel', apply: (l, v) => void (l.kernel = `/opt/kfn${v}`) },
    { id: 'C', key: 'initrd', apply: (l, v) => void (l.initrd = `/opt/kfn${v}`) },
    { id: 'D', key: 'image', apply: (l, v) => void (l.image = `/opt/kfn${v}`) },
    { id: 'E', key: 'kernel_args', apply: (l, v) => void (l.kernel_args = `quiet ${v}`) },
    { id: 'F', key: 'root_device', apply: (l, v) => void (l.root_device = `/dev/vda${v}`) },
    { id: 'G', key: 'mount', refused: true, apply: (l, v) => void (l.hugepages = { size_kb: 2048, mount: `/mnt/kfn${v}` }) },
    { id: 'H', key: 'tap', refused: true, apply: (l, v) => void (l.nics[0].tap = v) },
    { id: 'I', key: 'bridge', refused: true, apply: (l, v) => void (l.nics[0].bridge = v) },
    { id: 'J', key: 'macvtap', refused: true, apply: (l, v) => void l.nics.push({ port: 'g0', macvtap: v }) },
    { id: 'K', key: 'pf', refused: true, apply: (l, v) => void l.nics.push({ port: 'g0', vf: { pf: v, vf: 0 } }) },
  ];
  const launchPod = (apply: (launch: Yaml) => void): Yaml => {
    const pod = basePod();
    const guest = node(pod, 'guest');
    delete guest.ip;
    guest.host_node = 'host';
    guest.launch = { kernel: '/k', initrd: '/i', image: '/img', vcpus: 2, memory_mb: 1024, rt_vcpus: '1', vcpu_pins: '1', emulator_cpus: '0', nics: [{ port: 'gi', tap: 'vmtap-gi', bridge: 'vmbr-gi' }] };
    apply(guest.launch as Yaml);
    return pod;
  };

  PAYLOADS.forEach(([name, make]) => {
    it(`${name}: refused at load, or inert in every command the launcher sends`, async function () {
      if (!canSandbox()) this.skip();
      const dir = mkdtempSync(join(work, 'l-'));
      chmodSync(dir, 0o1777);
      const v = (id: string) => make(`kfnc-${id}`);
      for (const f of launchFields.filter((x) => x.refused)) {
        const file = join(dir, `refused-${f.id}.yaml`);
        writeFileSync(file, dump(launchPod((l) => f.apply(l, v(f.id)))));
        expect(() => loadPod(file), f.key).to.throw(new RegExp(f.key));
      }
      const file = join(dir, 'pod.yaml');
      writeFileSync(file, dump(launchPod((l) => launchFields.filter((x) => !x.refused).forEach((f) => f.apply(l, v(f.id))))));
      // No path or command line of the launch may span lines: a newline is refused at load, in each field.
      if (v('x').includes('\n')) {
        expect(() => loadPod(file)).to.throw(/launch\.qemu[\s\S]*launch\.kernel[\s\S]*launch\.initrd[\s\S]*launch\.image[\s\S]*launch\.kernel_args[\s\S]*launch\.root_device/);
        return;
      }
      const loaded = loadPod(file);
      const { commands, sessions } = dryRunSessions(loaded);
      const notes: string[] = [];
      const guests = await startPodGuests({ pod: loaded, sessions, dryRun: true, log: () => {}, note: (l) => notes.push(l) });
      expect(Object.keys(guests.launched), notes.join('\n')).to.deep.equal(['guest']);
      await guests.stop();
      const shell = commands.filter((c) => /kfnc-/.test(c)).map(asShell).filter((c): c is string => c !== undefined);
      const carried = new Set(shell.flatMap((c) => [...c.matchAll(/kfnc-([A-Z])/g)].map((m) => m[1]!)));
      expect([...carried].sort().join(''), 'launch fields carried into commands').to.equal('ABCDEF');
      for (const command of shell) await runSandboxed(command, dir);
      expect(readdirSync(dir).filter((f) => f.startsWith('kfnc-'))).to.deep.equal([]);
    });
  });
});
