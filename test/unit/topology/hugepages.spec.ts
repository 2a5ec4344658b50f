import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopologyError } from '../../../lib/errors.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import {
  bindPciDevices,
  buildBindScript,
  buildHugepageProbeScript,
  buildPciProbeScript,
  buildPciRestoreScript,
  parseHugepageState,
  parsePciBindings,
  planHugepages,
  reserveHugepages,
} from '../../../lib/topology/hugepages.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

// Runs a generated script with /sys redirected to a scratch tree of plain files, so the
// restore's effect (the counts it writes) is checked, not only its text.
function runOnFakeSys(script: string, files: Record<string, string>): { files: Record<string, string>; code: number; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'kfn-fake-sys-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    let code = 0;
    let stderr = '';
    try {
      execFileSync('sh', ['-c', script.replaceAll('/sys/', `${root}/sys/`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    const out: Record<string, string> = {};
    for (const path of Object.keys(files)) out[path] = readFileSync(join(root, path), 'utf8').trim();
    return { files: out, code, stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('topology/hugepages parseHugepageState', () => {
  it('reads pools, per-node counts, the default size and missing folders (recorded, idle VM)', () => {
    const s = parseHugepageState(fixture('hugepages-idle.txt'));
    expect(s.pools).to.deep.equal([
      { sizeKb: 2048, total: 0, free: 0, perNode: { 0: 0 } },
      { sizeKb: 1048576, total: 0, free: 0, perNode: { 0: 0 } },
    ]);
    expect(s.defaultSizeKb).to.equal(2048);
    expect(s.mounts).to.deep.equal([]);
    expect(s.folders).to.deep.equal({ '/dev/hugepages': false, '/mnt/kfn-huge': false });
  });

  it('reads a reservation and the page size of its mount (recorded)', () => {
    const s = parseHugepageState(fixture('hugepages-reserved.txt'));
    expect(s.pools.find((p) => p.sizeKb === 2048)).to.deep.equal({ sizeKb: 2048, total: 32, free: 32, perNode: { 0: 32 } });
    expect(s.mounts).to.deep.equal([{ target: '/tmp/kfnbm-huge', options: 'rw,relatime,pagesize=2M', pageSizeKb: 2048 }]);
  });

  it('rejects a line it does not know and a node pool the global list lacks', () => {
    expect(() => parseHugepageState('pool 2048 0 0\nHugePages_Total: 0\n')).to.throw(TopologyError, /line 2/);
    expect(() => parseHugepageState('pool 2048 0 0\nnode 0 1048576 4\n')).to.throw(TopologyError, /1048576 kB pages/);
  });

  it('probes the folders it is asked about, refusing odd paths', () => {
    expect(buildHugepageProbeScript(['/mnt/kfn-huge'])).to.include('if [ -d /mnt/kfn-huge ]; then echo "folder yes /mnt/kfn-huge"');
    expect(() => buildHugepageProbeScript(['/mnt/$(reboot)'])).to.throw(TopologyError);
  });
});

describe('topology/hugepages planHugepages', () => {
  const idle = () => parseHugepageState(fixture('hugepages-idle.txt'));

  it('reserves, mounts, and restores exactly the recorded counts, node by node', () => {
    const plan = planHugepages(idle(), { sizeKb: 2048, pages: 512, mountPoint: '/mnt/kfn-huge' });
    expect(plan.changes).to.deep.equal(['2048 kB pages 0 -> 512', 'mount hugetlbfs (2048 kB) on /mnt/kfn-huge']);
    expect(plan.applyScript).to.include('echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages');
    expect(plan.applyScript).to.include('mkdir /mnt/kfn-huge');
    expect(plan.applyScript).to.include('mount -t hugetlbfs -o pagesize=2048K nodev /mnt/kfn-huge');
    // Unmount before the pages can be freed, and remove only the folder it made.
    const r = plan.restoreScript;
    expect(r.indexOf('umount /mnt/kfn-huge')).to.be.lessThan(r.indexOf('echo 0 >'));
    expect(r).to.include('rmdir /mnt/kfn-huge');
    const run = runOnFakeSys(r, { '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages': '512' });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.files['/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages']).to.equal('0');
  });

  it('restores a per-node layout that the global count alone would lose', () => {
    const state = parseHugepageState('pool 2048 512 512\nnode 0 2048 512\nnode 1 2048 0\ndefault 2048\nmount /dev/hugepages rw,relatime,pagesize=2M\n');
    const plan = planHugepages(state, { sizeKb: 2048, pages: 0, perNode: { 1: 256 }, mountPoint: '/unused' });
    expect(plan.changes).to.deep.equal(['node 1: 2048 kB pages 0 -> 256']);
    expect(plan.mountPoint).to.equal('/dev/hugepages');
    const files = { '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages': '256', '/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages': '256' };
    const run = runOnFakeSys(plan.restoreScript, files);
    expect(run.code, run.stderr).to.equal(0);
    expect(Object.values(run.files)).to.deep.equal(['512', '0']);
  });

  it('reports a restore the kernel did not honour (pages still in use)', () => {
    const plan = planHugepages(idle(), { sizeKb: 2048, pages: 8, mountPoint: '/mnt/kfn-huge' });
    const stuck = plan.restoreScript.replace(/echo 0 > \S+ \|\| rc=1/g, 'true');
    const run = runOnFakeSys(stuck, { '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages': '8' });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/expected 0 after restore, found 8/);
  });

  it('changes nothing when the node already has the pages and a mount of that size', () => {
    const plan = planHugepages(parseHugepageState(fixture('hugepages-reserved.txt')), { sizeKb: 2048, pages: 16, mountPoint: '/mnt/other' });
    expect(plan).to.deep.include({ applyScript: '', restoreScript: '', mountPoint: '/tmp/kfnbm-huge', changes: [] });
  });

  it('grows the pool by the free pages missing when asked for free pages, as a launched guest is', () => {
    // 512 pages, 100 of them free (another user holds 412): a guest needing 512 free gets 412 more.
    const busy = parseHugepageState('pool 2048 512 100\ndefault 2048\nmount /dev/hugepages rw,relatime,pagesize=2M\n');
    expect(planHugepages(busy, { sizeKb: 2048, pages: 0, freeWanted: 512, mountPoint: '/dev/hugepages' }).changes).to.deep.equal(['2048 kB pages 512 -> 924']);
    expect(planHugepages(busy, { sizeKb: 2048, pages: 0, freeWanted: 100, mountPoint: '/dev/hugepages' }).changes).to.deep.equal([]);
  });

  it('keeps a folder that existed and refuses sizes the node lacks', () => {
    const state = parseHugepageState('pool 2048 0 0\ndefault 2048\nfolder yes /mnt/kfn-huge\n');
    const plan = planHugepages(state, { sizeKb: 2048, pages: 4, mountPoint: '/mnt/kfn-huge' });
    expect(plan.applyScript).not.to.include('mkdir');
    expect(plan.restoreScript).not.to.include('rmdir');
    expect(() => planHugepages(state, { sizeKb: 1048576, pages: 1, mountPoint: '/x' })).to.throw(TopologyError, /no 1048576 kB hugepages/);
  });
});

describe('topology/hugepages reserveHugepages', () => {
  it('registers the restore before it reserves, so a failed reservation is still undone', async () => {
    const order: string[] = [];
    const cleanup = new CleanupStack();
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }), {
      exec: (command) => {
        if (command.includes('for d in /sys/kernel/mm/hugepages')) return { stdout: fixture('hugepages-idle.txt').replace('/dev/hugepages', '/mnt/kfn-huge') };
        if (command.includes('mount -t hugetlbfs')) {
          order.push(`apply (cleanup steps: ${cleanup.size})`);
          return { exitCode: 1, stderr: 'mount: permission denied' };
        }
        if (command.includes('umount')) order.push('restore');
        return {};
      },
    });
    let thrown: unknown;
    await reserveHugepages({ cleanup, dryRun: false }, session, { sizeKb: 2048, pages: 64, mountPoint: '/mnt/kfn-huge' }).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(TopologyError);
    expect((thrown as Error).message).to.match(/reserve hugepages on host failed: mount: permission denied/);
    await cleanup.unwind();
    expect(order).to.deep.equal(['apply (cleanup steps: 1)', 'restore']);
  });
});

describe('topology/hugepages PCI bindings', () => {
  it('reads the driver, driver_override and interface of each device (recorded)', () => {
    expect(parsePciBindings(fixture('pci-virtio.txt'), ['0000:00:01.0', '0000:00:00.0'])).to.deep.equal([
      { address: '0000:00:01.0', driver: 'virtio-pci', driverOverride: null, iface: null },
      { address: '0000:00:00.0', driver: null, driverOverride: null, iface: null },
    ]);
    expect(() => parsePciBindings(fixture('pci-virtio.txt'), ['0000:18:00.0'])).to.throw(TopologyError, /no line for 0000:18:00.0/);
    expect(() => buildPciProbeScript(['0000:18:00.0; reboot'])).to.throw(TopologyError);
  });

  it('binds through driver_override, never new_id, and checks the result', () => {
    const s = buildBindScript(['0000:18:00.0'], 'vfio-pci');
    expect(s).to.include('echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override');
    expect(s).to.include('echo 0000:18:00.0 > /sys/bus/pci/devices/0000:18:00.0/driver/unbind');
    expect(s).to.include('echo 0000:18:00.0 > /sys/bus/pci/drivers_probe');
    expect(s).not.to.include('new_id');
  });

  it('restores the recorded driver and clears an override that was not there', () => {
    const [saved] = parsePciBindings('pci 0000:18:00.0 ixgbe (null) ens1f0\n', ['0000:18:00.0']);
    const s = buildPciRestoreScript([saved!], { unloadDriver: 'vfio-pci' });
    expect(s).to.include('echo > /sys/bus/pci/devices/0000:18:00.0/driver_override');
    expect(s).to.include('echo 0000:18:00.0 > /sys/bus/pci/drivers/ixgbe/bind');
    expect(s).to.include("= ixgbe ] || { echo \"0000:18:00.0: expected driver ixgbe after restore\"");
    expect(s.indexOf('modprobe -r vfio-pci')).to.be.greaterThan(s.indexOf('drivers/ixgbe/bind'));
    const kept = buildPciRestoreScript([{ address: '0000:18:00.0', driver: null, driverOverride: 'vfio-pci', iface: null }]);
    expect(kept).to.include('echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override');
    expect(kept).not.to.include('/bind');
  });

  it('registers the restore before binding and unloads vfio-pci only when it loaded it', async () => {
    const cleanup = new CleanupStack();
    const session = new FakeNodeSession(buildFakeNode({ name: 'host' }), {
      exec: (command) => (command.includes("printf 'pci") ? { stdout: 'pci 0000:18:00.0 ixgbe (null) ens1f0\npci 0000:18:00.1 vfio-pci vfio-pci -\nnot-loaded\n' } : {}),
    });
    const saved = await bindPciDevices({ cleanup, dryRun: false }, session, ['0000:18:00.0', '0000:18:00.1']);
    expect(saved.map((s) => s.driver)).to.deep.equal(['ixgbe', 'vfio-pci']);
    const bind = session.callsOf('exec').find((c) => c.command.includes('drivers_probe'))!;
    expect(bind.command).to.include('0000:18:00.0').and.not.to.include('0000:18:00.1');
    expect(cleanup.size).to.equal(1);
    await cleanup.unwind();
    const restore = session.callsOf('exec').at(-1)!.command;
    expect(restore).to.include('drivers/ixgbe/bind').and.include('modprobe -r vfio-pci').and.not.include('0000:18:00.1');
  });
});
