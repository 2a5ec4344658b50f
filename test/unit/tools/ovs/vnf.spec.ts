import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildVirtioUserVnfCommand } from '../../../../lib/tools/ovs/vnf.ts';

const base = {
  forwardMode: 'io' as const,
  mainLcore: 0,
  forwardingLcores: [1],
  filePrefix: 'kfn-vnf-r1',
  statsPeriodS: 1,
  totalNumMbufs: 4096,
  sockets: ['/tmp/kfn-r1/ovs/vhu0.sock', '/tmp/kfn-r1/ovs/vhu1.sock'] as [string, string],
  memoryMb: 256,
};

describe('tools/ovs buildVirtioUserVnfCommand', () => {
  it('runs testpmd as vhost-user server on both sockets, as the lab recipe does', () => {
    const { argv } = buildVirtioUserVnfCommand(base);
    expect(argv).to.include.members([
      '--vdev=virtio_user0,path=/tmp/kfn-r1/ovs/vhu0.sock,server=1,queues=1',
      '--vdev=virtio_user1,path=/tmp/kfn-r1/ovs/vhu1.sock,server=1,queues=1',
      '--in-memory',
      '--single-file-segments',
      '--no-pci',
      '--forward-mode=io',
      '--total-num-mbufs=4096',
    ]);
    expect(argv.some((a) => a.includes('af_packet') || a.includes('kfnvirtio'))).to.equal(false);
    // EAL options stay before the `--` that starts testpmd's own.
    expect(argv.indexOf('--single-file-segments')).to.be.below(argv.indexOf('--'));
    expect(argv.indexOf('--vdev=virtio_user1,path=/tmp/kfn-r1/ovs/vhu1.sock,server=1,queues=1')).to.be.below(argv.indexOf('--'));
  });

  it('passes macswap and the CPUs through the shared builder', () => {
    const { argv } = buildVirtioUserVnfCommand({ ...base, forwardMode: 'macswap', mainLcore: 2, forwardingLcores: [3, 4] });
    expect(argv).to.include.members(['--forward-mode=macswap', '--nb-cores=2']);
    expect(argv[argv.indexOf('-l') + 1]).to.equal('2,3,4');
  });

  it('refuses a socket path that would break the vdev argument', () => {
    expect(() => buildVirtioUserVnfCommand({ ...base, sockets: ['relative.sock', '/tmp/b.sock'] })).to.throw(ConfigError, /absolute/);
    expect(() => buildVirtioUserVnfCommand({ ...base, sockets: ['/tmp/a,server=0.sock', '/tmp/b.sock'] })).to.throw(ConfigError, /commas/);
  });
});
