import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildPktgenScript, deviceFileOf, type PktgenDevice } from '../../../../lib/tools/pktgen/command.ts';

const device = (over: Partial<PktgenDevice> = {}): PktgenDevice => ({
  iface: 'ens1f0',
  thread: 2,
  tag: 'kfn0',
  count: 10_000_000,
  ratePps: 1_000_000,
  dstIp: '198.19.0.1',
  srcIp: '198.18.0.1',
  dstMac: '02:00:00:00:00:02',
  udpSrc: 1024,
  udpDst: 1024,
  ...over,
});

describe('tools/pktgen buildPktgenScript', () => {
  it('configures the device through /proc/net/pktgen as pktgen.rst describes', () => {
    const s = buildPktgenScript({ devices: [device({ srcMac: '02:00:00:00:00:01' })], frameSize: 64, flows: 4, timeLimitS: 11 });
    const pgsets = s.split('\n').filter((l) => l.startsWith('pgset '));
    expect(pgsets).to.deep.equal([
      "pgset /proc/net/pktgen/kpktgend_2 'add_device ens1f0@kfn0'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'count 10000000'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'clone_skb 0'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'pkt_size 60'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'dst 198.19.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_min 198.18.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_max 198.18.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'dst_mac 02:00:00:00:00:02'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_mac 02:00:00:00:00:01'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_src_min 1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_src_max 1027'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_dst_min 1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_dst_max 1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'ratep 1000000'",
    ]);
    expect(s).to.include(`printf 'start\\n' > "$PG/pgctrl" & pid=$!`);
    expect(s).to.include('[ $i -lt 110 ]');
    expect(s).to.include('trap cleanup EXIT');
    expect(s).to.include("printf 'rem_device_all\\n' > /proc/net/pktgen/kpktgend_2");
    expect(s).to.match(/refusing to take it over/);
    expect(s.trimEnd().split('\n').slice(-2)).to.deep.equal(["echo '==> /proc/net/pktgen/ens1f0@kfn0 <=='", 'cat /proc/net/pktgen/ens1f0@kfn0']);
  });

  it('sends IMIX by weight without FCS, unpaced when asked, and two devices for two directions', () => {
    const s = buildPktgenScript({
      devices: [device({ ratePps: 'max' }), device({ iface: 'ens1f1', thread: 3, tag: 'kfn1' })],
      frameSize: 'imix',
      flows: 1,
      timeLimitS: 5.5,
    });
    expect(s).to.include("pgset /proc/net/pktgen/ens1f0@kfn0 'imix_weights 60,7 566,4 1514,1'");
    expect(s).to.include("pgset /proc/net/pktgen/ens1f0@kfn0 'delay 0'");
    expect(s).to.include("pgset /proc/net/pktgen/kpktgend_3 'add_device ens1f1@kfn1'");
    expect(s).to.include("pgset /proc/net/pktgen/ens1f1@kfn1 'udp_src_max 1024'");
    expect(s).to.include('[ $i -lt 55 ]');
    expect(deviceFileOf(device())).to.equal('/proc/net/pktgen/ens1f0@kfn0');
  });

  it('is valid POSIX sh', async () => {
    const s = buildPktgenScript({ devices: [device(), device({ iface: 'ens1f1', thread: 3, tag: 'kfn1' })], frameSize: 1518, flows: 8, timeLimitS: 10 });
    const r = await execa('sh', ['-n', '-c', s], { reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
  });

  it('stops with a clear message where the pktgen module is not loaded', async function () {
    if (existsSync('/proc/net/pktgen')) this.skip();
    const s = buildPktgenScript({ devices: [device()], frameSize: 64, flows: 1, timeLimitS: 1 });
    const r = await execa('sh', ['-c', s], { reject: false });
    expect(r.exitCode).to.equal(3);
    expect(r.stderr).to.match(/^kfn-pktgen: \/proc\/net\/pktgen\/pgctrl is missing: the pktgen module is not loaded/);
    expect(r.stdout).to.equal('');
  });

  it('reports every bad parameter before building anything', () => {
    let caught: unknown;
    try {
      buildPktgenScript({
        devices: [device({ iface: 'eth0@x', tag: 'bad tag', count: 0, dstIp: '300.1.1.1', dstMac: '02:00', udpSrc: 65_535 })],
        frameSize: 63,
        flows: 2,
        timeLimitS: 0,
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((i) => i.path)).to.deep.equal([
      'frameSize',
      'timeLimitS',
      'devices[0].iface',
      'devices[0].tag',
      'devices[0].count',
      'devices[0].dstIp',
      'devices[0].dstMac',
      'devices[0].udpSrc',
    ]);
    expect(() => buildPktgenScript({ devices: [device(), device()], frameSize: 64, flows: 1, timeLimitS: 1 })).to.throw(ConfigError, /distinct devices/);
  });
});
