import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import {
  SYSTEM_OVS,
  buildAddBridge,
  buildAddPort,
  buildAppctl,
  buildCpuMask,
  buildDeleteBridge,
  buildDpdkOtherConfig,
  buildOfctl,
  buildOvsdbServerStart,
  buildPrivateOvsLayout,
  buildPrivateOvsStopScript,
  buildPvpFlows,
  buildRemoveOtherConfig,
  buildSetOtherConfig,
  buildVsctl,
  buildVswitchdStart,
  deriveOvsNames,
  planOtherConfigRestore,
  privateInstance,
} from '../../../../lib/tools/ovs/command.ts';
import { parseOvsdbMap } from '../../../../lib/tools/ovs/value.ts';

const layout = buildPrivateOvsLayout('/tmp/kfn-run/ovs');
const own = privateInstance(layout);

describe('tools/ovs command builders', () => {
  it('keeps every file of a private instance in its rundir, as the lab recipe does', () => {
    expect(buildOvsdbServerStart(layout)).to.deep.equal([
      'ovsdb-server',
      '/tmp/kfn-run/ovs/conf.db',
      '--remote=punix:/tmp/kfn-run/ovs/db.sock',
      '--pidfile=/tmp/kfn-run/ovs/ovsdb-server.pid',
      '--log-file=/tmp/kfn-run/ovs/ovsdb-server.log',
      '--unixctl=/tmp/kfn-run/ovs/ovsdb-server.ctl',
      '--detach',
    ]);
    const vswitchd = buildVswitchdStart(layout);
    expect(vswitchd.slice(0, 4)).to.deep.equal(['env', 'OVS_RUNDIR=/tmp/kfn-run/ovs', '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk', 'unix:/tmp/kfn-run/ovs/db.sock']);
    expect(vswitchd).to.include('--unixctl=/tmp/kfn-run/ovs/ovs-vswitchd.ctl');
  });

  it('refuses a rundir that is relative or too long for a socket path', () => {
    expect(() => buildPrivateOvsLayout('ovs')).to.throw(ConfigError, /absolute/);
    expect(() => buildPrivateOvsLayout(`/tmp/${'x'.repeat(90)}`)).to.throw(ConfigError, /sun_path/);
  });

  it('points vsctl, ofctl and appctl at the private instance, and at the defaults for the system one', () => {
    expect(buildVsctl(own, ['list-br'])).to.deep.equal(['ovs-vsctl', '--db=unix:/tmp/kfn-run/ovs/db.sock', '--timeout=30', 'list-br']);
    expect(buildVsctl(SYSTEM_OVS, ['list-br'], { noWait: true })).to.deep.equal(['ovs-vsctl', '--timeout=30', '--no-wait', 'list-br']);
    expect(buildOfctl(own, 'dump-flows', 'kfn-br-1')).to.deep.equal(['ovs-ofctl', '--timeout=30', 'dump-flows', 'unix:/tmp/kfn-run/ovs/kfn-br-1.mgmt']);
    expect(buildOfctl(SYSTEM_OVS, 'dump-flows', 'kfn-br-1')).to.deep.equal(['ovs-ofctl', '--timeout=30', 'dump-flows', 'kfn-br-1']);
    expect(buildAppctl(own, ['dpif-netdev/pmd-stats-show'])).to.deep.equal(['ovs-appctl', '--timeout=30', '-t', '/tmp/kfn-run/ovs/ovs-vswitchd.ctl', 'dpif-netdev/pmd-stats-show']);
    expect(buildAppctl(SYSTEM_OVS, ['version'])).to.deep.equal(['ovs-appctl', '--timeout=30', '-t', 'ovs-vswitchd', 'version']);
  });

  it('names bridge and ports per run, within IFNAMSIZ', () => {
    const a = deriveOvsNames('20261125-152322-ab12');
    const b = deriveOvsNames('20261125-152322-ab13');
    expect(a.bridge).to.match(/^kfn-br-[0-9a-f]{8}$/);
    expect(a.bridge).not.to.equal(b.bridge);
    for (const name of [a.bridge, ...a.physical, ...a.vhost]) expect(name.length).to.be.at.most(15);
    expect(new Set([...a.physical, ...a.vhost]).size).to.equal(4);
  });

  it('creates a netdev bridge in secure fail mode, so no NORMAL flow forwards', () => {
    const argv = buildAddBridge(own, { bridge: 'kfn-br-1', runId: 'r1' });
    expect(argv.slice(3)).to.deep.equal(['add-br', 'kfn-br-1', '--', 'set', 'Bridge', 'kfn-br-1', 'datapath_type=netdev', 'fail_mode=secure', 'other_config:disable-in-band=true', 'external_ids:kfn-run=r1']);
    expect(buildDeleteBridge(own, 'kfn-br-1').slice(3)).to.deep.equal(['--if-exists', 'del-br', 'kfn-br-1']);
  });

  it('adds dpdk and vhost-user client ports with fixed OpenFlow numbers', () => {
    expect(buildAddPort(own, 'br', { kind: 'dpdk', name: 'p0', ofport: 1, devargs: 'net_af_packet0,iface=h0' }).slice(3)).to.deep.equal([
      'add-port', 'br', 'p0', '--', 'set', 'Interface', 'p0', 'type=dpdk', 'options:dpdk-devargs="net_af_packet0,iface=h0"', 'ofport_request=1',
    ]);
    expect(buildAddPort(own, 'br', { kind: 'dpdk', name: 'p1', ofport: 4, devargs: '0000:3b:00.1' })).to.include('options:dpdk-devargs=0000:3b:00.1');
    expect(buildAddPort(own, 'br', { kind: 'vhostuserclient', name: 'v0', ofport: 2, socketPath: '/tmp/kfn-run/ovs/vhu0.sock' }).slice(-3)).to.deep.equal([
      'type=dpdkvhostuserclient', 'options:vhost-server-path=/tmp/kfn-run/ovs/vhu0.sock', 'ofport_request=2',
    ]);
  });

  it('sets other_config keys one by one, quoting values that ovs-vsctl would split', () => {
    const argv = buildSetOtherConfig(own, { 'pmd-cpu-mask': '0x2', 'dpdk-extra': '--no-pci --file-prefix=kfn' }, { noWait: true });
    expect(argv.slice(3)).to.deep.equal(['--no-wait', 'set', 'Open_vSwitch', '.', 'other_config:pmd-cpu-mask=0x2', 'other_config:dpdk-extra="--no-pci --file-prefix=kfn"']);
    // The quoted form reads back through the map parser exactly as it was meant.
    expect(parseOvsdbMap(`{${argv.slice(-1)[0]?.slice('other_config:'.length)}}`)).to.deep.equal({ 'dpdk-extra': '--no-pci --file-prefix=kfn' });
    expect(buildRemoveOtherConfig(own, ['pmd-cpu-mask']).slice(3)).to.deep.equal(['remove', 'Open_vSwitch', '.', 'other_config', 'pmd-cpu-mask']);
    expect(() => buildSetOtherConfig(own, {})).to.throw(ConfigError);
  });

  it('plans a restore of exactly the keys it changed', () => {
    const found = { 'pmd-cpu-mask': '0xc', 'dpdk-init': 'true', other: 'x' };
    expect(planOtherConfigRestore(found, ['pmd-cpu-mask', 'dpdk-lcore-mask'])).to.deep.equal({ set: { 'pmd-cpu-mask': '0xc' }, remove: ['dpdk-lcore-mask'] });
    expect(planOtherConfigRestore({}, [])).to.deep.equal({ set: {}, remove: [] });
  });

  it('turns CPU lists into the hex masks OVS reads, beyond 53 CPUs too', () => {
    expect(buildCpuMask([1])).to.equal('0x2');
    expect(buildCpuMask([0, 2, 3])).to.equal('0xd');
    expect(buildCpuMask([64])).to.equal('0x10000000000000000');
    expect(() => buildCpuMask([])).to.throw(ConfigError, /at least one/);
    expect(() => buildCpuMask([-1])).to.throw(ConfigError);
  });

  it('builds DPDK settings from the pod CPU lists', () => {
    expect(buildDpdkOtherConfig({ lcoreCpus: [0], pmdCpus: [2, 3], socketMemMb: 1024 })).to.deep.equal({
      'dpdk-init': 'true',
      'dpdk-lcore-mask': '0x1',
      'pmd-cpu-mask': '0xc',
      'dpdk-socket-mem': '1024',
    });
    expect(() => buildDpdkOtherConfig({ lcoreCpus: [0], pmdCpus: [1], socketMemMb: 10 })).to.throw(ConfigError, /64 MB/);
  });

  it('forwards both ways through the VNF with explicit flows and drops everything else', () => {
    expect(buildPvpFlows({ physical0: 1, vhost0: 2, vhost1: 3, physical1: 4 })).to.deep.equal([
      'cookie=0x6b666e,priority=100,in_port=1,actions=output:2',
      'cookie=0x6b666e,priority=100,in_port=3,actions=output:4',
      'cookie=0x6b666e,priority=100,in_port=4,actions=output:3',
      'cookie=0x6b666e,priority=100,in_port=2,actions=output:1',
      'cookie=0x6b666e,priority=0,actions=drop',
    ]);
  });
});

describe('tools/ovs buildPrivateOvsStopScript', function () {
  this.timeout(20_000);
  let root: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kfn-ovsstop-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  // A stand-in daemon: a node process whose command line names the file it "serves", as the OVS daemons do.
  function daemon(args: string[]): ChildProcess {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...args], { stdio: 'ignore' });
    children.push(child);
    return child;
  }
  const gone = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

  it('stops the daemons of its rundir that ignore the exit request, and removes the rundir', async () => {
    const l = buildPrivateOvsLayout(join(root, 'ovs'));
    mkdirSync(l.rundir);
    const vswitchd = daemon([`unix:${l.dbSocket}`]);
    const ovsdb = daemon([l.dbFile]);
    writeFileSync(l.vswitchdPidfile, `${vswitchd.pid}\n`);
    writeFileSync(l.ovsdbPidfile, `${ovsdb.pid}\n`);
    const r = spawnSync('/bin/sh', ['-c', buildPrivateOvsStopScript(l, null, { waitS: 0.3 })], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    await Promise.all([gone(vswitchd), gone(ovsdb)]);
    expect(existsSync(l.rundir)).to.equal(false);
  });

  it('never kills a process whose pid a stale pidfile names but which is not of its rundir', () => {
    const l = buildPrivateOvsLayout(join(root, 'ovs'));
    mkdirSync(l.rundir);
    const stranger = daemon(['/somewhere/else/conf.db']);
    writeFileSync(l.vswitchdPidfile, `${stranger.pid}\n`);
    const r = spawnSync('/bin/sh', ['-c', buildPrivateOvsStopScript(l, null, { waitS: 0.3 })], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(stranger.exitCode).to.equal(null);
    expect(stranger.signalCode).to.equal(null);
    expect(() => process.kill(stranger.pid!, 0)).not.to.throw();
  });
});
