import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildFilePrefix, buildTestpmdCommand, buildTestpmdReadyScript, type TestpmdOptions } from '../../../../lib/tools/testpmd/command.ts';

const lab: TestpmdOptions = {
  forwardMode: 'io',
  ports: [
    { kind: 'af_packet', iface: 'h0' },
    { kind: 'af_packet', iface: 'h1' },
  ],
  mainLcore: 0,
  forwardingLcores: [1],
  filePrefix: 'kfn-fwd-run1',
  memory: { kind: 'no-huge', megabytes: 1024 },
  statsPeriodS: 1,
  totalNumMbufs: 8192,
};

describe('tools/testpmd buildTestpmdCommand', () => {
  it('builds the lab command that was seen to forward between two veths (lab.md)', () => {
    const c = buildTestpmdCommand(lab);
    expect(c.command).to.equal(
      'dpdk-testpmd -v -l 0,1 --main-lcore 0 --file-prefix=kfn-fwd-run1 --no-telemetry --no-huge -m 1024 --no-shconf --no-pci ' +
        '--vdev=net_af_packet0,iface=h0 --vdev=net_af_packet1,iface=h1 -- --forward-mode=io --auto-start --stats-period=1 --nb-cores=1 --total-num-mbufs=8192',
    );
    expect(c.runtimeDir).to.equal('/var/run/dpdk/kfn-fwd-run1');
  });

  it('allows PCI devices with hugepages on a real pod, in memory, one -a per port', () => {
    const c = buildTestpmdCommand({
      ...lab,
      forwardMode: 'macswap',
      ports: [
        { kind: 'pci', address: '0000:18:00.0' },
        { kind: 'pci', address: '0000:18:00.1' },
      ],
      mainLcore: 2,
      forwardingLcores: [4, 6],
      memory: { kind: 'hugepages', socketMemMb: [1024, 0] },
      rxDescriptors: 2048,
      txDescriptors: 2048,
      burst: 64,
    });
    expect(c.argv.slice(2, 6)).to.deep.equal(['-l', '2,4,6', '--main-lcore', '2']);
    expect(c.argv).to.include.members(['--in-memory', '--socket-mem=1024,0', '-a', '0000:18:00.0', '0000:18:00.1', '--forward-mode=macswap', '--nb-cores=2', '--rxd=2048', '--burst=64']);
    expect(c.argv).not.to.include('--no-pci');
    expect(c.argv).not.to.include('--no-huge');
  });

  it('always keeps testpmd running detached: --stats-period and --auto-start, never -i', () => {
    const { argv } = buildTestpmdCommand(lab);
    expect(argv).to.include('--auto-start');
    expect(argv.some((a) => a.startsWith('--stats-period='))).to.equal(true);
    expect(argv).not.to.include('-i');
  });

  it('names every bad value at once', () => {
    try {
      buildTestpmdCommand({ ...lab, ports: [{ kind: 'af_packet', iface: 'this-name-is-far-too-long' }], forwardingLcores: [0], filePrefix: '../x', totalNumMbufs: 1024 });
      expect.fail('expected a ConfigError');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      const paths = (e as ConfigError).issues.map((i) => i.path);
      expect(paths).to.include.members(['ports', 'ports[0].iface', 'forwardingLcores', 'filePrefix', 'totalNumMbufs']);
    }
  });

  it('refuses --no-huge with PCI devices, mixed port kinds and the same port twice', () => {
    expect(() => buildTestpmdCommand({ ...lab, ports: [{ kind: 'pci', address: '0000:18:00.0' }, { kind: 'pci', address: '0000:18:00.1' }] })).to.throw(ConfigError, /need hugepages/);
    expect(() => buildTestpmdCommand({ ...lab, ports: [{ kind: 'pci', address: '0000:18:00.0' }, { kind: 'af_packet', iface: 'h1' }] })).to.throw(ConfigError, /one kind/);
    expect(() => buildTestpmdCommand({ ...lab, ports: [{ kind: 'af_packet', iface: 'h0' }, { kind: 'af_packet', iface: 'h0' }] })).to.throw(ConfigError, /two different ports/);
  });
});

describe('tools/testpmd buildFilePrefix', () => {
  it('makes a folder-safe prefix unique to the run', () => {
    expect(buildFilePrefix('20261125T120000Z-lab/x')).to.equal('kfn-fwd-20261125T120000Z-lab-x');
    expect(buildFilePrefix('a', 'vnf')).to.equal('kfn-vnf-a');
  });
});

describe('tools/testpmd buildTestpmdReadyScript', () => {
  it('waits for the forwarding banner and reports an early exit with stderr', () => {
    const script = buildTestpmdReadyScript({ stdoutPath: '/tmp/kfn-r/t.out', stderrPath: '/tmp/kfn-r/t.err', exitCodePath: '/tmp/kfn-r/t.rc' }, 5);
    expect(script).to.include("grep -q 'packet forwarding - ports=' /tmp/kfn-r/t.out");
    expect(script).to.include('[ -e /tmp/kfn-r/t.rc ] && { echo kfn-testpmd-exited; tail -n 20 /tmp/kfn-r/t.err');
    expect(script).to.include('-lt 50');
  });
});
