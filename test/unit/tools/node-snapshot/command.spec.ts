import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildSnapshotScript, SNAPSHOT_FILES, SNAPSHOT_FILE_GLOBS, SNAPSHOT_LINK_GLOBS } from '../../../../lib/tools/node-snapshot/command.ts';
import { parseNodeSnapshot } from '../../../../lib/tools/node-snapshot/parse.ts';

describe('buildSnapshotScript', () => {
  it('uses a fresh random boundary per run unless one is given', () => {
    const a = buildSnapshotScript();
    const b = buildSnapshotScript();
    expect(a.boundary).to.match(/^KFNSNAP-[0-9a-f]{24}$/);
    expect(a.boundary).to.not.equal(b.boundary);
    expect(buildSnapshotScript({ boundary: 'KFNSNAP-fixed123' }).script).to.include('B=KFNSNAP-fixed123');
  });

  it('reads every listed file, glob and link, and the ports it is given', () => {
    const { script } = buildSnapshotScript({ boundary: 'KFNSNAP-fixed123', pciAddresses: ['0000:18:00.0'], interfaces: ['ens1f1'] });
    for (const file of SNAPSHOT_FILES) expect(script).to.include(`f '${file}'`);
    for (const glob of SNAPSHOT_FILE_GLOBS) expect(script).to.include(`g '${glob}' f`);
    for (const glob of SNAPSHOT_LINK_GLOBS) expect(script).to.include(`g '${glob}' l`);
    expect(script).to.include("l '/sys/bus/pci/devices/0000:18:00.0/driver'");
    expect(script).to.include("f '/sys/bus/pci/devices/0000:18:00.0/sriov_numvfs'");
    expect(script).to.include("c 'ethtool-i.ens1f1' ethtool -i 'ens1f1'");
  });

  it('rejects port names and addresses that could smuggle shell syntax', () => {
    expect(() => buildSnapshotScript({ pciAddresses: ['0000:18:00.0; reboot'] })).to.throw(ConfigError, /PCI address/);
    expect(() => buildSnapshotScript({ interfaces: ['eth0$(reboot)'] })).to.throw(ConfigError, /interface name/);
    expect(() => buildSnapshotScript({ boundary: 'short' })).to.throw(TypeError, /boundary/);
  });

  // Read-only and local: the same script the audit sends over SSH, run on this machine.
  it('runs under sh on this machine and parses back', function () {
    this.timeout(30000);
    const { script, boundary } = buildSnapshotScript();
    const output = execFileSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const snapshot = parseNodeSnapshot(output, boundary);
    expect(snapshot.files.get('/proc/cmdline')).to.be.a('string');
    expect(snapshot.commands.get('uname-r')).to.deep.equal({ exitCode: 0, stdout: `${release()}\n` });
    expect(snapshot.commands.get('processes')?.stdout).to.match(/^\/proc\/1\t/m);
    const irqs = [...snapshot.files.keys()].filter((p) => /^\/proc\/irq\/\d+\/smp_affinity_list$/.test(p));
    expect(irqs.length + (snapshot.missing.has('/proc/irq/*/smp_affinity_list') ? 1 : 0)).to.be.greaterThan(0);
  });
});
