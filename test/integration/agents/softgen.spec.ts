// kfn-softgen built with the exact flags and run on a veth pair looped inside one namespace
// of our own (t0 -> t1, no DUT). Needs root; skipped otherwise. Everything it creates (the
// namespace, the temp dir, the processes) is removed in `after`, also when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildCompileArgv, buildRxCommand, buildTrialCommand } from '../../../lib/tools/softgen/command.ts';
import { parseSoftgenOutput, type SoftgenOutput } from '../../../lib/tools/softgen/parse.ts';
import { isTrialValid } from '../../../lib/tools/softgen/validity.ts';

const NS = `kfnsgtest-${process.pid}`;
const SOURCE = new URL('../../../lib/agents/kfn-softgen/kfn-softgen.c', import.meta.url).pathname;
const WRITER = new URL('../../fixtures/softgen/raw-frame-writer.c', import.meta.url).pathname;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

function start(argv: string[], options: { cwd?: string; timeoutMs?: number } = {}): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

const run = (argv: string[], options?: { cwd?: string; timeoutMs?: number }): Promise<Outcome> => start(argv, options).done;
const inNs = (argv: string[]): string[] => ['ip', 'netns', 'exec', NS, ...argv];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function must(argv: string[], options?: { cwd?: string }): Promise<Outcome> {
  const out = await run(argv, options);
  if (out.code !== 0) throw new Error(`${argv.join(' ')} exited ${out.code}: ${out.stderr}`);
  return out;
}

// A 60-byte Ethernet/IPv4/UDP frame (checksum left 0: the receiver does not check it).
function udpFrameHex(payload: number[]): string {
  const bytes = [0x02, 0x6b, 0x66, 0x6e, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
  bytes.push(0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 19, 0, 1);
  bytes.push(0x04, 0x00, 0x04, 0x00, 0, 26, 0, 0);
  const body = [...payload, ...new Array<number>(18 - payload.length).fill(0)];
  return Buffer.from([...bytes, ...body]).toString('hex');
}

const MAGIC = [0xbe, 0x9b, 0xe9, 0x55];

describe('kfn-softgen on a looped veth pair', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  let bin = '';
  let writer = '';

  const softgen = (args: string[], timeoutMs = 30_000) => run(inNs([bin, ...args]), { timeoutMs });
  const trial = async (args: string[]): Promise<SoftgenOutput> => {
    const out = await softgen(args);
    expect(out.code, out.stderr).to.equal(0);
    return parseSoftgenOutput(out.stdout, args.join(' '));
  };

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'kfnsgtest-'));
    await copyFile(SOURCE, join(dir, 'kfn-softgen.c'));
    await copyFile(WRITER, join(dir, 'raw-frame-writer.c'));
    await must(buildCompileArgv({ source: 'kfn-softgen.c', output: 'kfn-softgen' }), { cwd: dir });
    await must(buildCompileArgv({ source: 'raw-frame-writer.c', output: 'raw-frame-writer' }), { cwd: dir });
    bin = join(dir, 'kfn-softgen');
    writer = join(dir, 'raw-frame-writer');
    await must(['ip', 'netns', 'add', NS]);
    await must(inNs(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
    await must(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', NS, 'link', 'add', 't0', 'type', 'veth', 'peer', 'name', 't1']);
    await must(['ip', '-n', NS, 'link', 'set', 't0', 'up']);
    await must(['ip', '-n', NS, 'link', 'set', 't1', 'up']);
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await run(['ip', 'netns', 'del', NS]).catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('runs 2 s at 10 kpps: rx == tx, no loss, latency above 0 and median below 1 ms', async () => {
    const cmd = buildTrialCommand({ binary: bin, txIf: 't0', rxIf: 't1', frame: { kind: 'fixed', sizeBytes: 64 }, ratePps: 10_000, durationS: 2, direction: 'one-way', streamId: 1 });
    const out = await softgen(cmd.argv.slice(1));
    expect(out.code, out.stderr).to.equal(0);
    const result = parseSoftgenOutput(out.stdout);
    const d = result.directions[0]!;
    expect(d.txFrames).to.equal(20_000);
    expect(d).to.include({ rxFrames: 20_000, lost: 0, dropped: 0, duplicate: 0, outOfOrder: 0 });
    expect(d.latency!.samples).to.equal(20_000);
    expect(d.latency!.minNs).to.be.greaterThan(0);
    expect(d.latency!.p50Ns).to.be.lessThan(1_000_000);
    expect(result.strays.total).to.equal(0);
    expect(isTrialValid(result)).to.equal(true);
  });

  it('counts only its own stream: another stream id and frames without magic are strays', async () => {
    const main = start(inNs([bin, 'trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '2000', '--duration', '2', '--stream-id', '21']));
    await sleep(300);
    const other = start(inNs([bin, 'tx', '--if', 't0', '--rate', '1000', '--duration', '1', '--stream-id', '22']));
    await must(inNs([writer, 't0', '50', udpFrameHex([0xde, 0xad, 0xbe, 0xef])]));
    const otherOut = await other.done;
    const mainOut = await main.done;
    expect(mainOut.code, mainOut.stderr).to.equal(0);
    const sent = parseSoftgenOutput(otherOut.stdout).directions[0]!.txFrames!;
    const result = parseSoftgenOutput(mainOut.stdout);
    const d = result.directions[0]!;
    expect(d).to.include({ txFrames: 4000, rxFrames: 4000, lost: 0, dropped: 0 });
    expect(sent).to.be.greaterThan(900);
    expect(result.strays).to.include({ unknownStream: sent, noMagic: 50, notIpv4Udp: 0 });
  });

  it('reports a skipped sequence number as dropped == 1 with nothing lost', async () => {
    const d = (await trial(['trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '1000', '--count', '300', '--skip-seq', '150', '--stream-id', '31'])).directions[0]!;
    expect(d).to.include({ txFrames: 300, rxFrames: 300, lost: 0, dropped: 1, duplicate: 0, outOfOrder: 0 });
  });

  it('reports a repeated frame as a duplicate and swapped frames as out of order', async () => {
    const dup = (await trial(['trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '1000', '--count', '300', '--dup-seq', '10', '--stream-id', '32'])).directions[0]!;
    expect(dup).to.include({ txFrames: 300, rxFrames: 301, duplicate: 1, lost: 0, dropped: 0, outOfOrder: 0 });
    const swap = (await trial(['trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '1000', '--count', '300', '--swap-seq', '10', '--stream-id', '33'])).directions[0]!;
    expect(swap).to.include({ txFrames: 300, rxFrames: 300, outOfOrder: 1, dropped: 0, duplicate: 0, lost: 0 });
  });

  it('measures both directions of a bidirectional trial on separate stream ids', async () => {
    const result = await trial(['trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '2000', '--duration', '1', '--bidirectional', '--imix', '--stream-id', '41']);
    expect(result.directions.map((d) => [d.streamId, d.txIf, d.rxIf])).to.deep.equal([[41, 't0', 't1'], [42, 't1', 't0']]);
    for (const d of result.directions) {
      expect(d.rxFrames).to.equal(d.txFrames);
      expect(d.txFrames).to.be.at.least(1800);
      expect(d.lost).to.equal(0);
    }
    expect(result.strays.total).to.equal(0);
  });

  it('receives kernel-pktgen frames in rx --pktgen mode with 1 us timestamps', async () => {
    const cmd = buildRxCommand({ binary: bin, iface: 't1', stream: 'pktgen', durationS: 1.5 });
    const rx = start(inNs(cmd.argv));
    await sleep(300);
    await must(inNs([writer, 't0', '100', udpFrameHex(MAGIC), 'pktgen']));
    const out = await rx.done;
    expect(out.code, out.stderr).to.equal(0);
    const d = parseSoftgenOutput(out.stdout).directions[0]!;
    expect(d).to.include({ header: 'pktgen', rxFrames: 100, dropped: 0, duplicate: 0, txFrames: null });
    expect(d.latency).to.include({ samples: 100, timestampResolutionNs: 1000 });
    expect(d.latency!.minNs).to.be.greaterThan(0);
  });

  it('stops on SIGTERM, drains and still prints a complete, interrupted result', async () => {
    const p = start(inNs([bin, 'trial', '--tx-if', 't0', '--rx-if', 't1', '--rate', '1000', '--duration', '20', '--stream-id', '51']));
    await sleep(1000);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const out = await p.done;
    expect(Date.now() - t0).to.be.lessThan(3000);
    expect(out.code, out.stderr).to.equal(0);
    const result = parseSoftgenOutput(out.stdout);
    expect(result.interrupted).to.equal(true);
    expect(result.directions[0]!.rxFrames).to.equal(result.directions[0]!.txFrames);
    expect(isTrialValid(result)).to.equal(false);
  });

  it('exits 2 with the usage on bad arguments, 1 on a missing interface, 0 for --help', async () => {
    for (const args of [[], ['bogus'], ['trial', '--tx-if', 't0', '--rx-if', 't1'], ['trial', '--tx-if', 't0', '--rx-if', 't1', '--count', '5', '--size', '20'], ['rx', '--if', 't1', '--duration', '1']]) {
      const out = await softgen(args);
      expect(out.code, args.join(' ')).to.equal(2);
      expect(out.stderr).to.match(/^kfn-softgen: .*\nusage: kfn-softgen trial/);
      expect(out.stdout).to.equal('');
    }
    const missing = await softgen(['trial', '--tx-if', 'nosuch0', '--rx-if', 't1', '--count', '5']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/interface nosuch0/);
    expect(missing.stdout).to.equal('');
    const help = await softgen(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^usage: kfn-softgen/);
    expect((await softgen(['--version'])).stdout).to.equal('kfn-softgen 1.0.0\n');
  });

  it('leaves no kfn-softgen running', async () => {
    const left: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const exe = await readlink(`/proc/${entry}/exe`).catch(() => '');
      if (exe.replace(/ \(deleted\)$/, '') === bin) left.push(Number(entry));
    }
    expect(left).to.deep.equal([]);
  });
});
