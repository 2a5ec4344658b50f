// testpmd as the lab's PVP VNF: virtio_user ports serving the vhost-user sockets that OVS's
// dpdkvhostuserclient ports connect to (lab.md, "OVS-DPDK with a DPDK VNF on vhost-user").
import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildTestpmdCommand, type TestpmdOptions } from '../../../../lib/tools/testpmd/command.ts';

const vnf: TestpmdOptions = {
  forwardMode: 'io',
  mainLcore: 0,
  forwardingLcores: [1],
  filePrefix: 'kfn-vnf-r1',
  statsPeriodS: 1,
  totalNumMbufs: 4096,
  ports: [
    { kind: 'virtio_user', socket: '/tmp/kfn-r1/ovs/vhu0.sock' },
    { kind: 'virtio_user', socket: '/tmp/kfn-r1/ovs/vhu1.sock' },
  ],
  memory: { kind: 'hugepages', socketMemMb: [256] },
};

describe('tools/testpmd buildTestpmdCommand with virtio_user ports', () => {
  it('runs testpmd as vhost-user server on both sockets, as the lab recipe does', () => {
    const { argv } = buildTestpmdCommand(vnf);
    expect(argv).to.include.members([
      '--vdev=virtio_user0,path=/tmp/kfn-r1/ovs/vhu0.sock,server=1,queues=1',
      '--vdev=virtio_user1,path=/tmp/kfn-r1/ovs/vhu1.sock,server=1,queues=1',
      '--in-memory',
      '--socket-mem=256',
      '--single-file-segments',
      '--no-pci',
      '--forward-mode=io',
      '--total-num-mbufs=4096',
    ]);
    expect(argv.some((a) => a.includes('af_packet') || a === '-a')).to.equal(false);
    // EAL options stay before the `--` that starts testpmd's own.
    expect(argv.indexOf('--single-file-segments')).to.be.below(argv.indexOf('--'));
    expect(argv.indexOf('--vdev=virtio_user1,path=/tmp/kfn-r1/ovs/vhu1.sock,server=1,queues=1')).to.be.below(argv.indexOf('--'));
  });

  it('keeps --single-file-segments for virtio_user only', () => {
    const pci = buildTestpmdCommand({ ...vnf, ports: [{ kind: 'pci', address: '0000:18:00.0' }, { kind: 'pci', address: '0000:18:00.1' }] });
    expect(pci.argv).to.not.include('--single-file-segments');
    expect(pci.argv).to.not.include('--no-pci');
  });

  it('refuses a socket path that would break the vdev argument, a socket used twice, and no hugepages', () => {
    const withSockets = (a: string, b: string): TestpmdOptions => ({ ...vnf, ports: [{ kind: 'virtio_user', socket: a }, { kind: 'virtio_user', socket: b }] });
    expect(() => buildTestpmdCommand(withSockets('relative.sock', '/tmp/b.sock'))).to.throw(ConfigError, /ports\[0\]\.socket.*absolute/);
    expect(() => buildTestpmdCommand(withSockets('/tmp/a.sock', '/tmp/a,server=0.sock'))).to.throw(ConfigError, /ports\[1\]\.socket.*commas/);
    expect(() => buildTestpmdCommand(withSockets('/tmp/a.sock', `/${'x'.repeat(107)}`))).to.throw(ConfigError, /107 bytes/);
    expect(() => buildTestpmdCommand(withSockets('/tmp/a.sock', '/tmp/a.sock'))).to.throw(ConfigError, /two different ports/);
    expect(() => buildTestpmdCommand({ ...vnf, memory: { kind: 'no-huge', megabytes: 256 } })).to.throw(ConfigError, /virtio_user ports need hugepages/);
    expect(() => buildTestpmdCommand({ ...vnf, ports: [vnf.ports[0]!, { kind: 'af_packet', iface: 'h0' }] })).to.throw(ConfigError, /one kind.*virtio_user and af_packet/);
  });
});
