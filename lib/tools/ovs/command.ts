// Command lines for ovsdb-tool, ovsdb-server, ovs-vswitchd, ovs-vsctl, ovs-ofctl and
// ovs-appctl, for an OVS the pod already runs or a private one the harness starts in its
// own rundir. Pure: argv only. Every vsctl call carries --timeout so a dead ovsdb-server
// fails a step instead of hanging the run.
import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.ts';

/** How to reach one OVS: its database socket, vswitchd's control socket and its rundir. */
export interface OvsInstance {
  /** `unix:<path>` of ovsdb-server; absent for the system OVS (ovs-vsctl's default). */
  db?: string;
  /** `ovs-appctl -t` target of ovs-vswitchd: a socket path, or `ovs-vswitchd` for the system one. */
  vswitchdTarget: string;
  /** Private instances keep `<bridge>.mgmt` here; the system OVS's ovs-ofctl finds its own. */
  rundir?: string;
}

/** Where a private instance keeps its files; all under one folder the harness removes. */
export interface PrivateOvsLayout {
  rundir: string;
  dbFile: string;
  dbSocket: string;
  ovsdbPidfile: string;
  ovsdbLog: string;
  ovsdbControl: string;
  vswitchdPidfile: string;
  vswitchdLog: string;
  vswitchdControl: string;
}

export const DEFAULT_OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
export const DEFAULT_VSWITCHD_DPDK = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk';
const VSCTL_TIMEOUT_S = 30;

// All paths of a private instance from its rundir, so setup and teardown agree on them.
export function buildPrivateOvsLayout(rundir: string): PrivateOvsLayout {
  if (!rundir.startsWith('/') || /\s/.test(rundir)) throw new ConfigError('ovs', [{ path: 'rundir', message: `expected an absolute path without spaces, found ${JSON.stringify(rundir)}` }]);
  // A unix socket path is limited to 107 bytes; the longest one here is the vhost socket.
  if (rundir.length > 80) throw new ConfigError('ovs', [{ path: 'rundir', message: `expected at most 80 characters so that socket paths fit sun_path, found ${rundir.length}` }]);
  return {
    rundir,
    dbFile: `${rundir}/conf.db`,
    dbSocket: `${rundir}/db.sock`,
    ovsdbPidfile: `${rundir}/ovsdb-server.pid`,
    ovsdbLog: `${rundir}/ovsdb-server.log`,
    ovsdbControl: `${rundir}/ovsdb-server.ctl`,
    vswitchdPidfile: `${rundir}/ovs-vswitchd.pid`,
    vswitchdLog: `${rundir}/ovs-vswitchd.log`,
    vswitchdControl: `${rundir}/ovs-vswitchd.ctl`,
  };
}

// The instance a private layout serves, for the vsctl/ofctl/appctl builders below.
export function privateInstance(layout: PrivateOvsLayout): OvsInstance {
  return { db: `unix:${layout.dbSocket}`, vswitchdTarget: layout.vswitchdControl, rundir: layout.rundir };
}

/** The pod's own OVS, reached through the tools' defaults. */
export const SYSTEM_OVS: OvsInstance = Object.freeze({ vswitchdTarget: 'ovs-vswitchd' });

// A fresh database for a private instance.
export function buildOvsdbCreate(layout: PrivateOvsLayout, schema = DEFAULT_OVS_SCHEMA): string[] {
  return ['ovsdb-tool', 'create', layout.dbFile, schema];
}

// ovsdb-server detached, with every file it writes inside the private rundir.
export function buildOvsdbServerStart(layout: PrivateOvsLayout): string[] {
  return [
    'ovsdb-server',
    layout.dbFile,
    `--remote=punix:${layout.dbSocket}`,
    `--pidfile=${layout.ovsdbPidfile}`,
    `--log-file=${layout.ovsdbLog}`,
    `--unixctl=${layout.ovsdbControl}`,
    '--detach',
  ];
}

// ovs-vswitchd detached; OVS_RUNDIR keeps its bridge .mgmt sockets and vhost sockets private.
export function buildVswitchdStart(layout: PrivateOvsLayout, binary = DEFAULT_VSWITCHD_DPDK): string[] {
  return [
    'env',
    `OVS_RUNDIR=${layout.rundir}`,
    binary,
    `unix:${layout.dbSocket}`,
    `--pidfile=${layout.vswitchdPidfile}`,
    `--log-file=${layout.vswitchdLog}`,
    `--unixctl=${layout.vswitchdControl}`,
    '--detach',
  ];
}

// ovs-vsctl against the instance; --no-wait for changes made before vswitchd runs.
export function buildVsctl(instance: OvsInstance, args: readonly string[], options: { noWait?: boolean } = {}): string[] {
  return ['ovs-vsctl', ...(instance.db ? [`--db=${instance.db}`] : []), `--timeout=${VSCTL_TIMEOUT_S}`, ...(options.noWait ? ['--no-wait'] : []), ...args];
}

// ovs-appctl to ovs-vswitchd (or any daemon's control socket given as target).
export function buildAppctl(instance: OvsInstance, args: readonly string[], target = instance.vswitchdTarget): string[] {
  return ['ovs-appctl', `--timeout=${VSCTL_TIMEOUT_S}`, '-t', target, ...args];
}

// ovs-ofctl needs the bridge's management socket; a private instance keeps it in its rundir.
export function buildOfctl(instance: OvsInstance, command: string, bridge: string, args: readonly string[] = []): string[] {
  const target = instance.rundir ? `unix:${instance.rundir}/${bridge}.mgmt` : bridge;
  return ['ovs-ofctl', `--timeout=${VSCTL_TIMEOUT_S}`, command, target, ...args];
}

/** Names of everything the harness creates in an OVS, unique per run. */
export interface OvsRunNames {
  tag: string;
  bridge: string;
  physical: [string, string];
  vhost: [string, string];
}

// Per-run names that fit IFNAMSIZ and cannot collide with an operator's bridges or ports.
export function deriveOvsNames(runId: string): OvsRunNames {
  const tag = createHash('sha1').update(runId).digest('hex').slice(0, 8);
  return { tag, bridge: `kfn-br-${tag}`, physical: [`kfn${tag}p0`, `kfn${tag}p1`], vhost: [`kfn${tag}v0`, `kfn${tag}v1`] };
}

// A netdev bridge in secure fail mode: OVS adds no NORMAL flow, so only our flows forward.
export function buildAddBridge(instance: OvsInstance, a: { bridge: string; runId: string }): string[] {
  return buildVsctl(instance, [
    'add-br',
    a.bridge,
    '--',
    'set',
    'Bridge',
    a.bridge,
    'datapath_type=netdev',
    'fail_mode=secure',
    'other_config:disable-in-band=true',
    `external_ids:kfn-run=${quoteValue(a.runId)}`,
  ]);
}

// --if-exists: the undo must succeed when add-br never ran or failed.
export function buildDeleteBridge(instance: OvsInstance, bridge: string): string[] {
  return buildVsctl(instance, ['--if-exists', 'del-br', bridge]);
}

export type OvsPortSpec =
  | { kind: 'dpdk'; name: string; ofport: number; devargs: string }
  | { kind: 'vhostuserclient'; name: string; ofport: number; socketPath: string };

// One port with a fixed OpenFlow number, so the flows can be written before OVS answers.
export function buildAddPort(instance: OvsInstance, bridge: string, port: OvsPortSpec): string[] {
  const options =
    port.kind === 'dpdk'
      ? ['type=dpdk', `options:dpdk-devargs=${quoteValue(port.devargs)}`]
      : ['type=dpdkvhostuserclient', `options:vhost-server-path=${quoteValue(port.socketPath)}`];
  return buildVsctl(instance, ['add-port', bridge, port.name, '--', 'set', 'Interface', port.name, ...options, `ofport_request=${port.ofport}`]);
}

// Setting map keys one by one leaves the keys the operator set untouched.
export function buildSetOtherConfig(instance: OvsInstance, values: Readonly<Record<string, string>>, options: { noWait?: boolean } = {}): string[] {
  const pairs = Object.entries(values).map(([k, v]) => `other_config:${k}=${quoteValue(v)}`);
  if (pairs.length === 0) throw new ConfigError('ovs', [{ path: 'other_config', message: 'expected at least one key to set' }]);
  return buildVsctl(instance, ['set', 'Open_vSwitch', '.', ...pairs], options);
}

// Removes only the named keys, for keys the harness added where none were.
export function buildRemoveOtherConfig(instance: OvsInstance, keys: readonly string[], options: { noWait?: boolean } = {}): string[] {
  return buildVsctl(instance, ['remove', 'Open_vSwitch', '.', 'other_config', ...keys], options);
}

// Read before any change, so the restore puts back what was found.
export function buildGetOtherConfig(instance: OvsInstance): string[] {
  return buildVsctl(instance, ['get', 'Open_vSwitch', '.', 'other_config']);
}

/** What restores other_config keys the harness changed: set what was there, remove what was not. */
export interface OtherConfigRestore {
  set: Record<string, string>;
  remove: string[];
}

// Restores exactly the keys the harness set, to the values found before it set them.
export function planOtherConfigRestore(found: Readonly<Record<string, string>>, changedKeys: readonly string[]): OtherConfigRestore {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const key of changedKeys) {
    const before = found[key];
    if (before === undefined) remove.push(key);
    else set[key] = before;
  }
  return { set, remove };
}

// A CPU list as the hex mask OVS wants for pmd-cpu-mask and dpdk-lcore-mask.
export function buildCpuMask(cpus: readonly number[]): string {
  if (cpus.length === 0) throw new ConfigError('ovs', [{ path: 'cpus', message: 'expected at least one CPU for a mask, found none' }]);
  let mask = 0n;
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu > 4095) throw new ConfigError('ovs', [{ path: 'cpus', message: `expected CPU numbers 0..4095, found ${cpu}` }]);
    mask |= 1n << BigInt(cpu);
  }
  return `0x${mask.toString(16)}`;
}

/** OpenFlow port numbers of the PVP path. */
export interface PvpOfports {
  physical0: number;
  vhost0: number;
  vhost1: number;
  physical1: number;
}

/** Cookie of the harness's flows ("kfn"), so their counters can be told from anyone else's. */
export const KFN_FLOW_COOKIE = '0x6b666e';

// The PVP flows, both ways, plus a drop rule for everything else: no NORMAL, no learning.
export function buildPvpFlows(ports: PvpOfports, cookie = KFN_FLOW_COOKIE): string[] {
  const flow = (from: number, to: number) => `cookie=${cookie},priority=100,in_port=${from},actions=output:${to}`;
  return [
    flow(ports.physical0, ports.vhost0),
    flow(ports.vhost1, ports.physical1),
    flow(ports.physical1, ports.vhost1),
    flow(ports.vhost0, ports.physical0),
    `cookie=${cookie},priority=0,actions=drop`,
  ];
}

/** DPDK settings of a private instance, from the pod's CPU lists. */
export function buildDpdkOtherConfig(a: { lcoreCpus: readonly number[]; pmdCpus: readonly number[]; socketMemMb: number; extra?: string }): Record<string, string> {
  if (!Number.isInteger(a.socketMemMb) || a.socketMemMb < 64) {
    throw new ConfigError('ovs', [{ path: 'socket_mem_mb', message: `expected an integer of at least 64 MB, found ${a.socketMemMb}` }]);
  }
  return {
    'dpdk-init': 'true',
    'dpdk-lcore-mask': buildCpuMask(a.lcoreCpus),
    'pmd-cpu-mask': buildCpuMask(a.pmdCpus),
    'dpdk-socket-mem': String(a.socketMemMb),
    ...(a.extra ? { 'dpdk-extra': a.extra } : {}),
  };
}

// ovs-vsctl reads a bare value up to the end of the argument, but quoting is never wrong.
function quoteValue(value: string): string {
  return /^[A-Za-z0-9_.:/-]+$/.test(value) ? value : JSON.stringify(value);
}

// Stops a private instance on every path: vswitchd first (it holds the DPDK ports and the
// hugepages), then ovsdb-server; a daemon that does not exit on request is killed by pid.
// Removes the rundir and DPDK's runtime folder of this instance only.
export function buildPrivateOvsStopScript(layout: PrivateOvsLayout, dpdkFilePrefix: string | null, options: { waitS?: number } = {}): string {
  const polls = Math.max(1, Math.round((options.waitS ?? 10) * 10));
  // Only a process whose command line names this rundir is ours: a stale pidfile's pid may be reused.
  const stop = (control: string, pidfile: string, name: string) => [
    `if [ -S ${control} ]; then ovs-appctl --timeout=10 -t ${control} exit ${name === 'ovs-vswitchd' ? '--cleanup ' : ''}>/dev/null 2>&1 || true; fi`,
    `if [ -f ${pidfile} ]; then`,
    `  pid=$(cat ${pidfile})`,
    `  i=0; while [ $i -lt ${polls} ] && mine "$pid"; do sleep 0.1; i=$((i+1)); done`,
    '  if mine "$pid"; then kill -TERM "$pid"; i=0; while [ $i -lt 50 ] && mine "$pid"; do sleep 0.1; i=$((i+1)); done; fi',
    '  if mine "$pid"; then kill -KILL "$pid"; sleep 0.5; fi',
    `  if mine "$pid"; then echo "${name} (pid $pid) is still running" >&2; rc=1; fi`,
    'fi',
  ];
  if (dpdkFilePrefix !== null && !/^[A-Za-z0-9_-]+$/.test(dpdkFilePrefix)) throw new ConfigError('ovs', [{ path: 'dpdkFilePrefix', message: `expected letters, digits, _ and -, found ${JSON.stringify(dpdkFilePrefix)}` }]);
  return [
    'rc=0',
    `mine() { kill -0 "$1" 2>/dev/null && grep -qa -- ${layout.rundir}/ "/proc/$1/cmdline"; }`,
    ...stop(layout.vswitchdControl, layout.vswitchdPidfile, 'ovs-vswitchd'),
    ...stop(layout.ovsdbControl, layout.ovsdbPidfile, 'ovsdb-server'),
    `rm -rf ${layout.rundir}${dpdkFilePrefix ? ` /var/run/dpdk/${dpdkFilePrefix}` : ''}`,
    'exit $rc',
  ].join('\n');
}
