// Command lines for dpdk-testpmd as the forwarder under test: io or macswap between two ports,
// af_packet vdevs over kernel interfaces (the lab's veths), PCI devices bound to vfio-pci
// (a real pod), or virtio_user vdevs serving vhost-user sockets (the lab's PVP VNF, lab.md
// "OVS-DPDK with a DPDK VNF on vhost-user"). Pure: no I/O. testpmd is started detached, so it needs --stats-period (without
// it, or -i, it prints "Press enter to exit" and quits at once when stdin is not a terminal) and
// is stopped with SIGINT, which makes it print the forward statistics lib/tools/testpmd/parse.ts reads.
import { ConfigError, type ConfigIssue } from '../../errors.ts';
import { buildShellCommand, quoteArg } from '../../remote/quote.ts';

export const TESTPMD_TOOL = 'dpdk-testpmd';

/** How ensureTool finds it: Debian ships testpmd in dpdk-dev, Fedora/RHEL in dpdk. */
export const TESTPMD_TOOL_SPEC = { binary: TESTPMD_TOOL, packages: { apt: 'dpdk-dev', dnf: 'dpdk', yum: 'dpdk' } } as const;

export type ForwardMode = 'io' | 'macswap';

/**
 * A port testpmd forwards on: a kernel interface through af_packet, a PCI device, or a
 * virtio_user device that creates and serves a vhost-user socket (server=1), the one OVS's
 * dpdkvhostuserclient port connects to.
 */
export type TestpmdPort = { kind: 'af_packet'; iface: string } | { kind: 'pci'; address: string } | { kind: 'virtio_user'; socket: string };

/** Memory: no hugepages (lab, af_packet), or hugepages the topology reserved beforehand. */
export type TestpmdMemory = { kind: 'no-huge'; megabytes: number } | { kind: 'hugepages'; socketMemMb: number[] };

export interface TestpmdOptions {
  binary?: string;
  forwardMode: ForwardMode;
  /** Two ports: testpmd pairs port 0 with port 1 and forwards both ways. */
  ports: TestpmdPort[];
  /** The main lcore only prints statistics: a housekeeping CPU. */
  mainLcore: number;
  /** Forwarding lcores, busy-polling: isolated CPUs. */
  forwardingLcores: number[];
  /** --file-prefix; unique per run (`kfn-<run id>`) so two runs or a leftover never share a runtime dir. */
  filePrefix: string;
  memory: TestpmdMemory;
  /** Seconds between periodic port statistics; also what keeps a detached testpmd running. */
  statsPeriodS: number;
  /** Size of the mbuf pool; the default pool does not fit in a --no-huge -m 1024 memory. */
  totalNumMbufs?: number;
  /** Descriptors per queue; testpmd's defaults when absent. */
  rxDescriptors?: number;
  txDescriptors?: number;
  burst?: number;
}

export interface TestpmdCommand {
  argv: string[];
  command: string;
  /** DPDK's runtime folder for this prefix (root's): created by testpmd, left behind on exit. */
  runtimeDir: string;
}

const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;
const PCI = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const VHOST_SOCKET = /^\/[^\s,]{0,106}$/;

function portIdentity(p: TestpmdPort): string {
  if (p.kind === 'pci') return p.address.toLowerCase();
  return p.kind === 'af_packet' ? p.iface : p.socket;
}

// Builds the argv of one forwarding testpmd, checking every value before a node is touched.
export function buildTestpmdCommand(o: TestpmdOptions): TestpmdCommand {
  const issues: ConfigIssue[] = [];
  if (o.forwardMode !== 'io' && o.forwardMode !== 'macswap') issues.push({ path: 'forwardMode', message: `expected io or macswap, found ${JSON.stringify(o.forwardMode)}` });
  if (o.ports.length !== 2) issues.push({ path: 'ports', message: `expected exactly two ports (testpmd pairs port 0 with port 1), found ${o.ports.length}` });
  const kinds = new Set(o.ports.map((p) => p.kind));
  if (kinds.size > 1) issues.push({ path: 'ports', message: `expected ports of one kind (af_packet interfaces, PCI devices or virtio_user sockets), found ${[...kinds].join(' and ')}` });
  o.ports.forEach((p, i) => {
    if (p.kind === 'af_packet' && !IFNAME.test(p.iface)) issues.push({ path: `ports[${i}].iface`, message: `expected an interface name of 1..15 characters, found ${JSON.stringify(p.iface)}` });
    if (p.kind === 'pci' && !PCI.test(p.address)) issues.push({ path: `ports[${i}].address`, message: `expected a PCI address like 0000:18:00.0, found ${JSON.stringify(p.address)}` });
    // The path is a field of the --vdev argument, and a unix socket path holds at most 107 bytes.
    if (p.kind === 'virtio_user' && !VHOST_SOCKET.test(p.socket)) issues.push({ path: `ports[${i}].socket`, message: `expected an absolute socket path without spaces or commas, at most 107 bytes, found ${JSON.stringify(p.socket)}` });
  });
  const ids = o.ports.map(portIdentity);
  if (new Set(ids).size !== ids.length) issues.push({ path: 'ports', message: `expected two different ports, found ${ids.join(' twice, ')}` });
  checkInt(issues, 'mainLcore', o.mainLcore, 0, 1023);
  if (o.forwardingLcores.length === 0) issues.push({ path: 'forwardingLcores', message: 'expected at least one forwarding lcore (testpmd needs a main and a forwarding lcore)' });
  o.forwardingLcores.forEach((c, i) => checkInt(issues, `forwardingLcores[${i}]`, c, 0, 1023));
  if (o.forwardingLcores.includes(o.mainLcore)) issues.push({ path: 'forwardingLcores', message: `expected CPUs other than the main lcore ${o.mainLcore}, found it among them` });
  if (!PREFIX.test(o.filePrefix)) issues.push({ path: 'filePrefix', message: `expected letters, digits, _ and - (a folder name), found ${JSON.stringify(o.filePrefix)}` });
  checkInt(issues, 'statsPeriodS', o.statsPeriodS, 1, 3600);
  if (o.memory.kind === 'no-huge') checkInt(issues, 'memory.megabytes', o.memory.megabytes, 64, 65_536);
  else {
    if (o.memory.socketMemMb.length === 0) issues.push({ path: 'memory.socketMemMb', message: 'expected megabytes for at least one NUMA socket' });
    o.memory.socketMemMb.forEach((mb, i) => checkInt(issues, `memory.socketMemMb[${i}]`, mb, 0, 1_048_576));
  }
  if (o.memory.kind === 'no-huge' && kinds.has('pci')) issues.push({ path: 'memory', message: 'PCI devices need hugepages (DMA); --no-huge is for af_packet ports only' });
  if (o.memory.kind === 'no-huge' && kinds.has('virtio_user')) issues.push({ path: 'memory', message: 'virtio_user ports need hugepages: vhost-user shares the VNF\'s memory with the vswitch by file descriptor' });
  for (const [path, v, min, max] of [["totalNumMbufs", o.totalNumMbufs, 1025, 16_777_216], ['rxDescriptors', o.rxDescriptors, 32, 65_536], ['txDescriptors', o.txDescriptors, 32, 65_536], ['burst', o.burst, 1, 512]] as const) {
    if (v !== undefined) checkInt(issues, path, v, min, max);
  }
  if (issues.length > 0) throw new ConfigError('testpmd command', issues);

  const lcores = [o.mainLcore, ...o.forwardingLcores];
  // -v prints "EAL: RTE Version: 'DPDK x.y.z'" on stderr: the version for results.json.
  const argv = [o.binary ?? TESTPMD_TOOL, '-v', '-l', lcores.join(','), '--main-lcore', String(o.mainLcore), `--file-prefix=${o.filePrefix}`, '--no-telemetry'];
  if (o.memory.kind === 'no-huge') {
    // --in-memory is refused with --no-huge (legacy memory); --no-shconf keeps shared files out.
    argv.push('--no-huge', '-m', String(o.memory.megabytes), '--no-shconf');
  } else {
    argv.push('--in-memory', `--socket-mem=${o.memory.socketMemMb.join(',')}`);
    // One file per hugepage size keeps the memory within the few regions a vhost-user message can describe.
    if (kinds.has('virtio_user')) argv.push('--single-file-segments');
  }
  if (!kinds.has('pci')) argv.push('--no-pci');
  o.ports.forEach((p, i) => {
    if (p.kind === 'af_packet') argv.push(`--vdev=net_af_packet${i},iface=${p.iface}`);
    else if (p.kind === 'virtio_user') argv.push(`--vdev=virtio_user${i},path=${p.socket},server=1,queues=1`);
    else argv.push('-a', p.address);
  });
  argv.push('--', `--forward-mode=${o.forwardMode}`, '--auto-start', `--stats-period=${o.statsPeriodS}`, `--nb-cores=${o.forwardingLcores.length}`);
  if (o.totalNumMbufs !== undefined) argv.push(`--total-num-mbufs=${o.totalNumMbufs}`);
  if (o.rxDescriptors !== undefined) argv.push(`--rxd=${o.rxDescriptors}`);
  if (o.txDescriptors !== undefined) argv.push(`--txd=${o.txDescriptors}`);
  if (o.burst !== undefined) argv.push(`--burst=${o.burst}`);
  return { argv, command: buildShellCommand(argv), runtimeDir: `/var/run/dpdk/${o.filePrefix}` };
}

// A --file-prefix from the run id: unique per run, short, and safe as a folder name.
export function buildFilePrefix(runId: string, role = 'fwd'): string {
  const safe = runId.replace(/[^A-Za-z0-9_-]/g, '-').slice(-40);
  return `kfn-${role}-${safe}`;
}

// Waits (on the node) until testpmd forwards, or exits 3 when it died first; prints its output.
export function buildTestpmdReadyScript(paths: { stdoutPath: string; stderrPath: string; exitCodePath: string }, timeoutS = 30): string {
  const q = quoteArg;
  return [
    `i=0; while [ $i -lt ${timeoutS * 10} ]; do`,
    // Printed once the ports are started and the forwarding lcores launched (--auto-start).
    `  grep -q 'packet forwarding - ports=' ${q(paths.stdoutPath)} 2>/dev/null && { echo kfn-testpmd-ready; exit 0; }`,
    `  [ -e ${q(paths.exitCodePath)} ] && { echo kfn-testpmd-exited; tail -n 20 ${q(paths.stderrPath)} 2>/dev/null; exit 3; }`,
    '  sleep 0.1; i=$((i+1))',
    `done; echo kfn-testpmd-timeout; tail -n 20 ${q(paths.stderrPath)} 2>/dev/null; exit 2`,
  ].join('\n');
}

function checkInt(issues: ConfigIssue[], path: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) issues.push({ path, message: `expected an integer in [${min}, ${max}], found ${value}` });
}
