import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, ToolOutputParseError } from '../../../../lib/errors.ts';
import {
  buildHostdevXml,
  buildSetNumVfsScript,
  buildSriovProbeScript,
  buildVfRestore,
  buildVfSettings,
  buildVirshDevice,
  parseSriovProbe,
} from '../../../../lib/tools/sriov/command.ts';
import { parseIpLinkShow } from '../../../../lib/tools/sriov/ip-link.ts';
import { buildSysfsTree } from './sysfs-tree.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/sriov/${name}`, import.meta.url), 'utf8');
const PF = 'devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0';

/** Runs a script with every `echo` logged, so the order of sysfs writes can be checked. */
function runLogged(root: string, script: string): { status: number | null; writes: string[]; stderr: string } {
  const log = join(root, 'echo.log');
  writeFileSync(log, '');
  const traced = `echo() { printf '%s\\n' "$*" >> '${log}'; printf '%s\\n' "$*"; }\n${script}`;
  const r = spawnSync('/bin/sh', ['-c', traced], { encoding: 'utf8' });
  return { status: r.status, writes: readFileSync(log, 'utf8').split('\n').slice(0, -1), stderr: r.stderr };
}

describe('tools/sriov sysfs probe', () => {
  let root: string;
  beforeEach(() => {
    root = buildSysfsTree('sysfs-i40e-2vfs.tree');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('prints what the recorded probe printed over the documented layout', () => {
    const out = execFileSync('/bin/sh', ['-c', buildSriovProbeScript('ens1f0', root)], { encoding: 'utf8' });
    expect(out).to.equal(fixture('sysfs-i40e-2vfs.probe.txt'));
  });

  it('parses the probe into the PF, its counts and each VF with its driver', () => {
    expect(parseSriovProbe('ens1f0', fixture('sysfs-i40e-2vfs.probe.txt'))).to.deep.equal({
      pf: 'ens1f0',
      pfPci: '0000:3b:00.0',
      pfDriver: 'i40e',
      totalVfs: 64,
      numVfs: 2,
      vfs: [
        { vf: 0, pci: '0000:3b:02.0', driver: 'iavf', driverOverride: null },
        { vf: 1, pci: '0000:3b:02.1', driver: 'vfio-pci', driverOverride: 'vfio-pci' },
      ],
    });
  });

  it('fails with a reason on a link without SR-IOV', () => {
    const r = spawnSync('/bin/sh', ['-c', buildSriovProbeScript('ens9', root)], { encoding: 'utf8' });
    expect(r.status).to.equal(3);
    expect(r.stderr).to.match(/no SR-IOV capability/);
  });

  it('refuses probe output that does not add up', () => {
    const good = fixture('sysfs-i40e-2vfs.probe.txt');
    expect(() => parseSriovProbe('ens1f0', good.replace('numvfs=2', 'numvfs=3'))).to.throw(ToolOutputParseError, /3 VFs but 2 virtfn/);
    expect(() => parseSriovProbe('ens1f0', good.replace('totalvfs=64\n', ''))).to.throw(ToolOutputParseError, /totalvfs/);
    expect(() => parseSriovProbe('ens1f0', `${good}garbage\n`)).to.throw(ToolOutputParseError, /expected pf_pci/);
    expect(() => parseSriovProbe('ens1f0', good.replace('pci=0000:3b:02.0', 'pci=3b:02.0'))).to.throw(ToolOutputParseError, /PCI/);
    expect(() => parseSriovProbe('ens1f0', '')).to.throw(ToolOutputParseError);
  });

  it('changes a non-zero VF count through 0, as the kernel requires, and leaves an equal count alone', () => {
    const file = join(root, PF, 'sriov_numvfs');
    const change = runLogged(root, buildSetNumVfsScript('ens1f0', 4, root));
    expect(change.status).to.equal(0);
    expect(change.writes).to.deep.equal(['0', '4']);
    expect(readFileSync(file, 'utf8').trim()).to.equal('4');
    expect(runLogged(root, buildSetNumVfsScript('ens1f0', 4, root)).writes).to.deep.equal([]);
    expect(runLogged(root, buildSetNumVfsScript('ens1f0', 0, root)).writes).to.deep.equal(['0']);
    writeFileSync(file, '0\n');
    expect(runLogged(root, buildSetNumVfsScript('ens1f0', 2, root)).writes).to.deep.equal(['2']);
    expect(() => buildSetNumVfsScript('ens1f0', -1)).to.throw(ConfigError);
  });

});

describe('tools/sriov VF settings', () => {
  it('builds the ip-link(8) command that sets a VF for the VNF', () => {
    expect(buildVfSettings('ens1f0', 0, { mac: '02:6B:66:6E:00:01', vlan: 100, spoofchk: false, trust: true })).to.deep.equal([
      'ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'mac', '02:6b:66:6e:00:01', 'vlan', '100', 'spoofchk', 'off', 'trust', 'on',
    ]);
    expect(buildVfSettings('ens1f0', 1, { mac: '02:00:00:00:00:01', vlan: 5, qos: 2, spoofchk: true, trust: false })).to.include.members(['qos', '2']);
  });

  it('restores a VF exactly as ip link show reported it', () => {
    const [vf0] = parseIpLinkShow(fixture('ip-d-link-show-i40e-2vfs.txt')).vfs;
    expect(buildVfRestore('ens1f0', vf0!)).to.deep.equal([
      'ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'mac', '02:6b:66:6e:00:01', 'vlan', '100', 'spoofchk', 'off', 'trust', 'on',
    ]);
  });

  it('refuses settings the kernel would refuse, all at once', () => {
    try {
      buildVfSettings('ens1f0; rm', -1, { mac: 'nope', vlan: 4095, qos: 9, spoofchk: false, trust: true });
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues.map((i) => i.path)).to.deep.equal(['pf', 'vf', 'mac', 'vlan', 'qos']);
    }
    expect(() => buildHostdevXml('3b:02.0')).to.throw(ConfigError, /PCI address/);
  });

  it('describes the VF to libvirt as a hostdev and attaches it live', () => {
    expect(buildHostdevXml('0000:3b:02.1')).to.equal(
      "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source><address domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/></source>\n</hostdev>\n",
    );
    expect(buildHostdevXml('0000:3B:02.1', '0000:00:0a.0')).to.contain("  <address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>\n");
    expect(buildVirshDevice('attach-device', 'vnf1', '/tmp/kfn-r/vf0.xml')).to.deep.equal(['virsh', 'attach-device', 'vnf1', '/tmp/kfn-r/vf0.xml', '--live']);
    expect(() => buildVirshDevice('detach-device', 'bad name', '/x')).to.throw(ConfigError);
  });
});
