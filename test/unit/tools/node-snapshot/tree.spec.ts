import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseNodeSnapshot } from '../../../../lib/tools/node-snapshot/parse.ts';
import { snapshotFromTree, writeSnapshotTree } from '../../../support/node-tree.ts';

const B = 'KFNSNAP-abcdef01';
const OUTPUT = [
  `==> ${B} begin v1 <==`,
  `==> ${B} file /proc/cmdline <==`, 'ro isolcpus=1', '', `==> ${B} end 0 <==`,
  `==> ${B} file /proc/7/cmdline <==`, 'qemu\0-m\0' + '1G\0', `==> ${B} end 0 <==`,
  `==> ${B} file /sys/kernel/debug/x <==`, 'Permission\ndenied', '', `==> ${B} end 1 <==`,
  `==> ${B} missing /sys/kernel/realtime <==`,
  `==> ${B} missing /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor <==`,
  `==> ${B} link /sys/class/net/eth0/device/driver <==`, '../../virtio_net', '', `==> ${B} end 0 <==`,
  `==> ${B} cmd virsh-dumpxml.my guest/1 <==`, '<domain/>', '', `==> ${B} end 0 <==`,
  `==> ${B} cmd uname-v <==`, 'not found', '', `==> ${B} end 127 <==`,
  `==> ${B} done v1 <==`, '',
].join('\n');

describe('node snapshot trees', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kfn-snapshot-tree-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a snapshot through a directory tree', async () => {
    const snapshot = parseNodeSnapshot(OUTPUT, B);
    await writeSnapshotTree(snapshot, dir);
    const back = await snapshotFromTree(dir);
    expect(back.files).to.deep.equal(snapshot.files);
    expect(back.links).to.deep.equal(snapshot.links);
    expect(back.missing).to.deep.equal(snapshot.missing);
    expect(back.commands).to.deep.equal(snapshot.commands);
    expect(back.errors.get('/sys/kernel/debug/x'), 'messages kept on one line').to.equal('Permission denied');
    expect(back.commands.get('virsh-dumpxml.my guest/1')?.stdout).to.equal('<domain/>\n');
  });

  it('reads a tree with no _meta or _commands as files only', async () => {
    await mkdir(join(dir, 'proc'), { recursive: true });
    await writeFile(join(dir, 'proc', 'cmdline'), 'ro\n');
    const s = await snapshotFromTree(dir);
    expect([...s.files]).to.deep.equal([['/proc/cmdline', 'ro\n']]);
    expect(s.commands.size + s.missing.size + s.errors.size + s.links.size).to.equal(0);
  });

  it('rejects a command without a numeric exit status, and a malformed links file', async () => {
    await mkdir(join(dir, '_commands'), { recursive: true });
    await writeFile(join(dir, '_commands', 'uname-r.stdout'), '6.1\n');
    await writeFile(join(dir, '_commands', 'uname-r.exit'), 'zero\n');
    try {
      await snapshotFromTree(dir);
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(ToolOutputParseError);
      expect((error as Error).message).to.match(/exit status number in _commands\/uname-r\.exit/);
    }
    await writeFile(join(dir, '_commands', 'uname-r.exit'), '0\n');
    await mkdir(join(dir, '_meta'));
    await writeFile(join(dir, '_meta', 'links'), 'no tab here\n');
    try {
      await snapshotFromTree(dir);
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(ToolOutputParseError);
      expect((error as Error).message).to.match(/<path>\\t<text>/);
    }
  });

  it('refuses to write outside the tree', async () => {
    const snapshot = parseNodeSnapshot(OUTPUT, B);
    snapshot.files.set('/proc/../../escape', 'x');
    try {
      await writeSnapshotTree(snapshot, dir);
      expect.fail('should have thrown');
    } catch (error) {
      expect((error as Error).message).to.match(/no "\.\."/);
    }
  });
});
