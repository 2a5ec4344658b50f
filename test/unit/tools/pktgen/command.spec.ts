import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildPktgenScript, deviceFileOf, PKTGEN_MAX_COUNT, type PktgenDevice, type PktgenScriptParams } from '../../../../lib/tools/pktgen/command.ts';
import { newModelDevice, numArg, sendFrames, showImix, start, writeDevice, writeThread, type ModelDevice } from '../../../support/pktgen-kernel-model.ts';

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
      "pgset /proc/net/pktgen/kpktgend_2 'add_device ens1f0@kfn0' 'OK: add_device=ens1f0@kfn0' 'pktgen refuses an interface that does not exist, is not Ethernet or is down (ip link set ens1f0 up; the kernel log says which)'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'count 10000000' 'OK: count=10000000'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'clone_skb 0' 'OK: clone_skb=0'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'pkt_size 60' 'OK: pkt_size=60'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'dst 198.19.0.1' 'OK: dst_min=198.19.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_min 198.18.0.1' 'OK: src_min=198.18.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_max 198.18.0.1' 'OK: src_max=198.18.0.1'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'dst_mac 02:00:00:00:00:02' 'OK: dstmac 02:00:00:00:00:02'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'src_mac 02:00:00:00:00:01' 'OK: srcmac 02:00:00:00:00:01'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_src_min 1024' 'OK: udp_src_min=1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_src_max 1028' 'OK: udp_src_max=1028'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_dst_min 1024' 'OK: udp_dst_min=1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'udp_dst_max 1024' 'OK: udp_dst_max=1024'",
      "pgset /proc/net/pktgen/ens1f0@kfn0 'ratep 1000000' 'OK: rate=1000000'",
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
    expect(s).to.include("pgshows /proc/net/pktgen/ens1f0@kfn0 'imix_weights 60,7 566,4 1514,1' 'imix_weights: 60,7 566,4 1514,1 '");
    expect(s).to.include("pgset /proc/net/pktgen/ens1f0@kfn0 'delay 0' 'OK: delay=0'");
    expect(s).to.include("pgset /proc/net/pktgen/kpktgend_3 'add_device ens1f1@kfn1' 'OK: add_device=ens1f1@kfn1' 'pktgen refuses");
    expect(s).to.include("pgset /proc/net/pktgen/ens1f1@kfn1 'udp_src_max 1025' 'OK: udp_src_max=1025'");
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
        devices: [device({ iface: 'eth0@x', tag: 'bad tag', count: PKTGEN_MAX_COUNT + 1, dstIp: '300.1.1.1', dstMac: '02:00', udpSrc: 65_534 })],
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

/** The control-file writes of a script, unquoted by sh itself: [file, command, expected reply or shown line, kind]. */
async function writesOf(script: string): Promise<Array<{ file: string; command: string; expect: string; kind: 'pgset' | 'pgshows' }>> {
  const calls = script.split('\n').filter((l) => /^pg(set|shows) /.test(l));
  const sh = [`pgset() { printf 'pgset\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3"; }`, `pgshows() { printf 'pgshows\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3"; }`, ...calls].join('\n');
  const r = await execa('sh', ['-c', sh]);
  return r.stdout.split('\n').map((l) => {
    const [kind, file, command, expect] = l.split('\t') as ['pgset' | 'pgshows', string, string, string];
    return { kind, file, command, expect };
  });
}

/** Plays a script's writes on the kernel model, checking each reply as the script's pgset/pgshows would. */
async function playOnModel(p: PktgenScriptParams): Promise<Map<string, ModelDevice>> {
  const devices = new Map<string, ModelDevice>();
  for (const w of await writesOf(buildPktgenScript(p))) {
    if (w.file.includes('/kpktgend_')) {
      const t = writeThread(`${w.command}\n`);
      expect(t.result, w.command).to.equal(w.expect);
      devices.set(`/proc/net/pktgen/${t.device}`, newModelDevice());
      continue;
    }
    const d = devices.get(w.file)!;
    expect(writeDevice(d, `${w.command}\n`), `pktgen refuses '${w.command}'`).to.equal(true);
    if (w.kind === 'pgset') expect(d.result, `reply to '${w.command}'`).to.equal(w.expect);
    else expect(showImix(d), `device file after '${w.command}'`).to.equal(w.expect);
  }
  return devices;
}

describe('tools/pktgen the script\'s reply checks (pgset, pgshows) in sh', () => {
  // The script's own helper functions, with grep standing in for pktgen's device file: it prints
  // the Result line pktgen would have left there (the file itself only receives the write).
  async function helper(call: string, fileShows: string): Promise<{ exitCode: number | undefined; stderr: string }> {
    const script = buildPktgenScript({ devices: [device()], frameSize: 64, flows: 1, timeLimitS: 1 });
    const defs = script.split('\n').filter((l) => /^(fail|pgset|pgshows)\(\)/.test(l));
    const dir = await mkdtemp(join(tmpdir(), 'kfn-pgset-'));
    try {
      const fake = `grep() { case "$1" in -qF) [ "$FILE_SHOWS" != "$3" ] && return 1; return 0;; *) printf '%s\\n' "$FILE_SHOWS";; esac; }`;
      const r = await execa('sh', ['-c', [...defs, fake, call.replaceAll('$DIR', dir)].join('\n')], { reject: false, env: { FILE_SHOWS: fileShows } });
      return { exitCode: r.exitCode, stderr: r.stderr };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('passes when pktgen answered this very command', async () => {
    expect((await helper("pgset $DIR/dev 'ratep 1000' 'OK: rate=1000'", 'Result: OK: rate=1000')).exitCode).to.equal(0);
    expect((await helper("pgshows $DIR/dev 'imix_weights 60,7' 'imix_weights: 60,7 '", 'imix_weights: 60,7 ')).exitCode).to.equal(0);
  });

  it('refuses the previous command\'s OK and a cut count, naming both texts', async () => {
    const stale = await helper("pgset $DIR/dev 'ratep 1000' 'OK: rate=1000'", 'Result: OK: clone_skb=0');
    expect(stale.exitCode).to.equal(3);
    expect(stale.stderr).to.match(/kfn-pktgen: .*\/dev answered 'ratep 1000' with 'OK: clone_skb=0', expected 'OK: rate=1000'/);
    const cut = await helper("pgset $DIR/dev 'count 10000000000' 'OK: count=10000000000'", 'Result: OK: count=1000000000');
    expect(cut.stderr).to.match(/answered 'count 10000000000' with 'OK: count=1000000000'/);
  });

  it('refuses an imix_weights the device file does not list, and explains a refused add_device', async () => {
    const imix = await helper("pgshows $DIR/dev 'imix_weights 60,7' 'imix_weights: 60,7 '", 'Result: OK: clone_skb=0');
    expect(imix.stderr).to.match(/took 'imix_weights 60,7' but does not show 'imix_weights: 60,7 '/);
    const add = await helper("pgset $DIR/no/such/kpktgend_0 'add_device eth9@kfn0' 'OK: add_device=eth9@kfn0' 'pktgen refuses an interface that is down'", '');
    expect(add.exitCode).to.equal(3);
    expect(add.stderr).to.match(/writing 'add_device eth9@kfn0' to .*kpktgend_0 failed: pktgen refuses an interface that is down$/);
  });
});

describe('tools/pktgen buildPktgenScript against a model of net/core/pktgen.c (support/pktgen-kernel-model.ts)', () => {
  for (const flows of [1, 2, 3, 4, 64, 1000]) {
    it(`sends exactly ${flows} distinct (src ip, dst ip, src port, dst port) tuple(s) for flows: ${flows}`, async () => {
      const [d] = [...(await playOnModel({ devices: [device({ srcMac: '02:00:00:00:00:01' })], frameSize: 64, flows, timeLimitS: 10 })).values()];
      start(d!);
      const sent = sendFrames(d!, flows * 3 + 1);
      expect(new Set(sent).size).to.equal(flows);
      // Every port in [udpSrc, udpSrc + flows) comes round once per cycle of `flows` frames.
      expect(new Set(sent.slice(0, flows)).size).to.equal(flows);
    });
  }

  it('shows that the model tells the old inclusive bound apart: udp_src_max = udp_src + flows - 1 sends one flow fewer', () => {
    for (const flows of [2, 4, 64]) {
      const d = newModelDevice();
      for (const c of ['dst 198.19.0.1', 'src_min 198.18.0.1', 'src_max 198.18.0.1', 'udp_src_min 1024', `udp_src_max ${1024 + flows - 1}`, 'udp_dst_min 1024', 'udp_dst_max 1024']) writeDevice(d, `${c}\n`);
      start(d);
      expect(new Set(sendFrames(d, flows * 3)).size).to.equal(flows - 1);
    }
  });

  it('keeps the highest source port range within pktgen\'s 16-bit udp_src_max', async () => {
    const [d] = [...(await playOnModel({ devices: [device({ udpSrc: 65_535 - 8 })], frameSize: 64, flows: 8, timeLimitS: 1 })).values()];
    start(d!);
    expect(new Set(sendFrames(d!, 24)).size).to.equal(8);
    expect(() => buildPktgenScript({ devices: [device({ udpSrc: 65_535 - 7 })], frameSize: 64, flows: 8, timeLimitS: 1 })).to.throw(ConfigError, /udpSrc: expected an integer in \[1, 65527\]/);
  });

  it('gets the reply pktgen writes for every command, ratep answered "OK: rate=" and imix_weights by the device file alone', async () => {
    const devices = await playOnModel({ devices: [device({ ratePps: 250_000, dstMac: '02:AB:00:00:00:02' })], frameSize: 'imix', flows: 2, timeLimitS: 1 });
    const [d] = [...devices.values()];
    expect(d!.delayNs).to.equal(4000);
    expect(d!.result).to.equal('OK: rate=250000');
    // imix_weights leaves the previous reply in place: a check of "the last OK" would pass on clone_skb's.
    const m = newModelDevice();
    writeDevice(m, 'clone_skb 0\n');
    writeDevice(m, 'imix_weights 60,7 566,4 1514,1\n');
    expect(m.result).to.equal('OK: clone_skb=0');
    expect(showImix(m)).to.equal('imix_weights: 60,7 566,4 1514,1 ');
  });

  it('sends a count pktgen reads whole, and rejects one it would cut', async () => {
    const [d] = [...(await playOnModel({ devices: [device({ count: PKTGEN_MAX_COUNT })], frameSize: 64, flows: 1, timeLimitS: 1 })).values()];
    expect(d!.count).to.equal(PKTGEN_MAX_COUNT);
    // num_arg() keeps 10 digits: 100 s at 100 Mpps would have become 1 000 000 000 frames.
    expect(numArg('10000000000', 0)).to.deep.equal([10, 1_000_000_000n]);
    const cut = newModelDevice();
    writeDevice(cut, 'count 10000000000\n');
    expect(cut.result).to.equal('OK: count=1000000000');
    expect(() => buildPktgenScript({ devices: [device({ count: 10_000_000_000 })], frameSize: 64, flows: 1, timeLimitS: 1 })).to.throw(ConfigError, /pktgen reads at most 10 digits of count/);
    const untilStopped = buildPktgenScript({ devices: [device({ count: 0 })], frameSize: 64, flows: 1, timeLimitS: 1 });
    expect(untilStopped).to.include("'count 0' 'OK: count=0'");
  });
});
