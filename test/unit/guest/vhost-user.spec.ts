// Plugging a launched guest's vhost-user NICs once the vswitch waits on their sockets, and taking
// them out again, against a fake host (QMP through kfn-qmp) and a fake guest.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { GuestLaunchError } from '../../../lib/errors.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import { buildNicHotplug, findVhostUserNics, plugVhostUserNics } from '../../../lib/guest/vhost-user.ts';
import { FakeNodeSession } from '../../support/fake-node-session.ts';
import { buildVmLabPod, buildVmRecord } from '../topology/vm-lab-fakes.ts';

const greeting = readFileSync(new URL('../../fixtures/qemu/kfn-qmp-7.2-tcg.stdout', import.meta.url), 'utf8').split('\n')[0];
const transcript = (...replies: string[]) => [greeting, '{"return": {}}', ...replies].join('\n');

function setup(o: { releaseAfter?: number; plugReply?: string } = {}) {
  const pod: Pod = buildVmLabPod();
  const record = buildVmRecord();
  const guestNode = pod.nodes.find((n) => n.name === 'guest')!;
  const log: string[] = [];
  let polls = 0;
  const host = new FakeNodeSession(pod.nodes.find((n) => n.name === 'host')!, {
    exec: (command, options) => {
      if (options.label === 'kfn-qmp cache') return { stdout: 'kfn-agent-cache hit\t/lab/agents\n' };
      if (!options.label?.startsWith('qmp ')) return undefined;
      log.push(options.label);
      if (options.label === 'qmp chardev-add,netdev_add,device_add') return { stdout: transcript('{"return": {}}', '{"return": {}}', o.plugReply ?? '{"return": {}}') };
      if (options.label === 'qmp qom-list') {
        polls++;
        const held = polls <= (o.releaseAfter ?? 2) ? ', {"name": "dev-v0", "type": "child<virtio-net-pci>"}' : '';
        return { stdout: transcript(`{"return": [{"name": "type", "type": "string"}${held}]}`) };
      }
      return { stdout: transcript('{"return": {}}') };
    },
  });
  const guest = new FakeNodeSession(guestNode, {
    exec: (command) => {
      if (command.includes('kfn-pci-ready')) {
        log.push(`guest: wait for ${command.match(/0000:00:\w\w\.0/g)?.slice(0, 2).join(' ')}`);
        return { stdout: 'kfn-pci-ready\n' };
      }
      if (command.startsWith("set -e\ndev=''")) log.push('guest: name the NICs');
      return undefined;
    },
  });
  const cleanup = new CleanupStack({ log: () => {} });
  return { pod, record, guestNode, host, guest, cleanup, log };
}

describe('guest/vhost-user', () => {
  it('builds the plug from what the launcher recorded: socket, fixed slot, the port\'s MAC and the forwarding options', () => {
    const { record, guestNode } = setup();
    const [v0] = findVhostUserNics(record);
    const hotplug = buildNicHotplug(guestNode, record, v0!);
    expect(hotplug.plug[0]?.arguments).to.deep.include({ id: 'chr-v0' });
    expect(hotplug.plug[2]?.arguments).to.deep.include({ addr: '0x13', mac: guestNode.ports.find((p) => p.name === 'v0')?.mac, mrg_rxbuf: false });
    expect(() => findVhostUserNics(record, ['g0', 'v1'])).to.throw(GuestLaunchError, /no vhost-user NIC on port g0 \(it has v0, v1\)/);
  });

  it('plugs each NIC with its unplug registered first, waits for the guest to take them, and names them', async () => {
    const { pod, record, guestNode, host, guest, cleanup, log } = setup();
    const plugged = await plugVhostUserNics({ cleanup, dryRun: false, log: () => {} }, { pod, guest: guestNode, record, host, guestSession: guest, nics: findVhostUserNics(record) });
    expect(plugged.map((p) => `${p.port}@${p.guestPci}`)).to.deep.equal(['v0@0000:00:13.0', 'v1@0000:00:14.0']);
    expect(log).to.deep.equal(['qmp chardev-add,netdev_add,device_add', 'qmp chardev-add,netdev_add,device_add', 'guest: wait for 0000:00:13.0 0000:00:14.0', 'guest: name the NICs']);
    expect(cleanup.size).to.equal(2);
    log.length = 0;
    await cleanup.unwind();
    // Newest first; v1 leaves at once, v0 once the guest has let it go (the second poll).
    expect(log).to.deep.equal(['qmp device_del', 'qmp qom-list', 'qmp netdev_del', 'qmp chardev-remove', 'qmp device_del', 'qmp qom-list', 'qmp qom-list', 'qmp netdev_del', 'qmp chardev-remove']);
  });

  it('refuses a plug QEMU answered with an error, and still takes out what went in', async () => {
    const { pod, record, guestNode, host, guest, cleanup, log } = setup({ plugReply: '{"error": {"class": "GenericError", "desc": "Duplicate ID \'dev-v0\' for device"}}' });
    const error = await plugVhostUserNics({ cleanup, dryRun: false, log: () => {} }, { pod, guest: guestNode, record, host, guestSession: guest, nics: findVhostUserNics(record) }).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/device_add \(v0\) failed: GenericError: Duplicate ID/);
    log.length = 0;
    await cleanup.unwind();
    expect(log[0]).to.equal('qmp device_del');
  });
});
