// Builds kfn-irqgen and kfn-irqrecv locally through the same provisioning a node gets, then runs the
// self-check on loopback (and, as root, over a veth pair between two namespaces of its own).
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAgent } from '../../../lib/provision/build-agent.ts';
import { buildLocalNode, LocalSession } from '../../support/local-session.ts';
import { buildIrqGenCommand, buildIrqRecvCommand, parseIrqRecvReadyLine, type IrqRecvParams } from '../../../lib/tools/irq-agent/command.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../lib/tools/irq-agent/parse.ts';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  proc: ChildProcess;
  stderr: () => string;
  done: Promise<Outcome>;
}

const isRoot = process.getuid?.() === 0;
const started: ChildProcess[] = [];
let dir = '';
const bin = { gen: '', recv: '' };

// Every child gets a hard deadline, so a hung agent fails the test instead of hanging the run.
function run(argv: readonly string[], timeoutMs = 15_000): Running {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Outcome>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { proc, stderr: () => stderr, done };
}

async function startReceiver(params: Omit<IrqRecvParams, 'binary'>, prefix: string[] = []): Promise<Running & { port: number }> {
  const r = run([...prefix, ...buildIrqRecvCommand({ binary: bin.recv, ...params }).argv]);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const ready = parseIrqRecvReadyLine(r.stderr());
    if (ready) return { ...r, port: ready.port };
    if (r.proc.exitCode !== null) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  r.proc.kill('SIGKILL');
  throw new Error(`kfn-irqrecv never became ready: ${r.stderr()}`);
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function sendDatagrams(port: number, payloads: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    let left = payloads.length;
    for (const p of payloads) {
      s.send(p, port, '127.0.0.1', (err) => {
        if (err) reject(err);
        if (--left === 0) s.close(() => resolve());
      });
    }
  });
}

// A frame exactly as kfn-irqgen lays it out (see lib/agents/README.md), for a foreign stream.
function frame(streamId: number, version = 1): Buffer {
  const b = Buffer.alloc(40);
  b.writeUInt32BE(0x4b464e49, 0);
  b.writeUInt8(version, 4);
  b.writeUInt32BE(streamId, 8);
  b.writeBigUInt64BE(1n, 16);
  b.writeBigUInt64BE(process.hrtime.bigint(), 24);
  b.writeBigUInt64BE(1_000_000n, 32);
  return b;
}

describe('agents kfn-irqgen and kfn-irqrecv (integration)', function () {
  this.timeout(60_000);

  before(async function () {
    if (spawnSync('gcc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'kfn-irq-it-'));
    for (const name of ['kfn-irqgen', 'kfn-irqrecv'] as const) {
      const session = new LocalSession(buildLocalNode('local', 'other'), dir);
      const built = await ensureAgent(session, name, { cacheDirs: [`${dir}/cache`] });
      expect(built.cached).to.equal(false);
      expect(session.commands.join('\n')).to.contain(`gcc -Wall -Wextra -Werror -O2 -o ${name} ${name}.c`);
      if (name === 'kfn-irqgen') bin.gen = built.binaryPath;
      else bin.recv = built.binaryPath;
    }
  });

  after(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reuses the cached build when the sources are unchanged: no upload, no compile, no staging left', async () => {
    const before = statSync(bin.gen).mtimeMs;
    const session = new LocalSession(buildLocalNode('local', 'other'), dir);
    const again = await ensureAgent(session, 'kfn-irqgen', { cacheDirs: [`${dir}/cache`] });
    expect(again).to.include({ binaryPath: bin.gen, cached: true });
    expect(session.uploads).to.equal(0);
    expect(statSync(bin.gen).mtimeMs).to.equal(before);
    expect(readdirSync(`${dir}/cache`).filter((f) => f.startsWith('.'))).to.deep.equal([]);
  });

  it('skips a cache folder it cannot own or write and falls back to the next (root)', async function () {
    if (!isRoot) this.skip();
    const foreign = `${dir}/foreign`;
    mkdirSync(foreign);
    chownSync(foreign, 65534, 65534);
    const session = new LocalSession(buildLocalNode('local', 'other'), dir);
    const built = await ensureAgent(session, 'kfn-irqrecv', { cacheDirs: [foreign, `${dir}/fallback-$(id -u)`] });
    expect(built.binaryPath.startsWith(`${dir}/fallback-0/kfn-irqrecv-`)).to.equal(true);
    expect(readdirSync(foreign)).to.deep.equal([]);
    expect(statSync(`${dir}/fallback-0`).mode & 0o022).to.equal(0);
  });

  it('answers --version and --help on stdout with exit 0', async () => {
    for (const b of [bin.gen, bin.recv]) {
      const v = await run([b, '--version']).done;
      expect([v.code, v.stdout]).to.deep.equal([0, `${b.split('/').at(-1)} 1.0.0\n`]);
      const h = await run([b, '--help']).done;
      expect(h.code).to.equal(0);
      expect(h.stdout).to.match(/^usage: kfn-irq/);
    }
  });

  it('self-check: 1 ms for 2 s with 2 frames withheld gives 1998 measured and exactly 2 missed', async () => {
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host', expect: 2000, exitOnEnd: true });
    const gen = await run(buildIrqGenCommand({ binary: bin.gen, dest: '127.0.0.1', port: recv.port, durationS: 2, skipSeqs: [500, 1500] }).argv).done;
    expect(gen.code, gen.stderr).to.equal(0);
    const g = parseIrqGenSummary(gen.stdout);
    expect(g).to.deep.include({ lastSeq: 2000, framesSent: 1998, framesSkipped: 2, sendErrors: 0, stoppedBy: 'duration' });
    const out = await recv.done;
    expect(out.code, out.stderr).to.equal(0);
    const r = parseIrqRecvSummary(out.stdout);
    expect(r.stoppedBy).to.equal('end-frame');
    expect([r.lateNs, r.lateNsSource]).to.deep.equal([1_000_000, 'frame-period']);
    expect(r.frames).to.deep.include({ received: 1998, unique: 1998, missed: 2, duplicate: 0, stray: 0, rxTimestampMissing: 0 });
    const w = r.wireToHandler!;
    expect(w.samples).to.equal(g.framesSent);
    expect(w.minNs).to.be.greaterThan(0);
    expect(w.p50Ns).to.be.lessThan(10_000_000);
    expect(r.receiveToHandler.samples).to.equal(1998);
    expect(r.receiveToHandler.minNs).to.be.greaterThan(0);
    expect(r.receiveToHandler.p50Ns!).to.be.at.most(w.p50Ns!);
  });

  it('sees a frame withheld at the very end only when the receiver knows the count', async () => {
    const withExpect = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host', expect: 50 });
    const blind = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host' });
    for (const r of [withExpect, blind]) {
      const g = await run(buildIrqGenCommand({ binary: bin.gen, dest: '127.0.0.1', port: r.port, count: 50, skipSeqs: [50], endFrames: false }).argv).done;
      expect(g.code).to.equal(0);
    }
    await sleep(100);
    withExpect.proc.kill('SIGINT');
    blind.proc.kill('SIGINT');
    const a = parseIrqRecvSummary((await withExpect.done).stdout);
    const b = parseIrqRecvSummary((await blind.done).stdout);
    expect(a.frames).to.deep.include({ unique: 49, missed: 1, lastSeqSource: 'expect', tailKnown: true });
    expect(b.frames).to.deep.include({ unique: 49, missed: 0, lastSeqSource: 'highest-seen', tailKnown: false });
    expect(a.stoppedBy).to.equal('SIGINT');
  });

  const badArgs: Array<[string, string[]]> = [
    ['recv without --port', ['recv']],
    ['recv with a non-numeric port', ['recv', '--port', 'x']],
    ['recv with priority 0', ['recv', '--port', '1', '--priority', '0']],
    ['recv with an offset under unsynchronised', ['recv', '--port', '1', '--clock-domain', 'unsynchronised', '--clock-offset-ns', '5']],
    ['recv with an unknown option', ['recv', '--port', '1', '--bogus', '1']],
    ['gen without --dest', ['gen', '--port', '1']],
    ['gen with a period below 1 us', ['gen', '--dest', '127.0.0.1', '--port', '1', '--period-ns', '999']],
    ['gen with a host name as --dest', ['gen', '--dest', 'localhost', '--port', '1']],
    ['gen with an empty item in --skip-seq', ['gen', '--dest', '127.0.0.1', '--port', '1', '--skip-seq', '1,,2']],
    ['gen with a negative duration', ['gen', '--dest', '127.0.0.1', '--port', '1', '--duration', '-1']],
  ];
  for (const [what, [which, ...args]] of badArgs) {
    it(`exits 2 with usage for ${what}`, async () => {
      const out = await run([which === 'gen' ? bin.gen : bin.recv, ...args]).done;
      expect(out.code).to.equal(2);
      expect(out.stderr).to.match(/\nusage: kfn-irq(gen|recv) /);
      expect(out.stdout).to.equal('');
    });
  }

  it('exits 1 with a message on runtime failures: port taken, unknown interface', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    const taken = await run([bin.recv, '--port', String(s.address().port), '--bind', '127.0.0.1']).done;
    s.close();
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.match(/^kfn-irqrecv: cannot bind UDP 127\.0\.0\.1 port \d+: Address already in use/);
    const noIf = await run([bin.gen, '--dest', '127.0.0.1', '--port', '9', '--iface', 'kfnnosuchif0', '--count', '1']).done;
    expect(noIf.code).to.equal(1);
    expect(noIf.stderr).to.match(/cannot bind to device kfnnosuchif0/);
  });

  it('prints the summary and exits 0 on SIGTERM, for both agents', async () => {
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host' });
    const gen = run([bin.gen, '--dest', '127.0.0.1', '--port', String(recv.port)]);
    await sleep(400);
    gen.proc.kill('SIGTERM');
    const go = await gen.done;
    expect(go.code).to.equal(0);
    const g = parseIrqGenSummary(go.stdout);
    expect(g.stoppedBy).to.equal('SIGTERM');
    expect(g.framesSent).to.be.greaterThan(100);
    await sleep(100);
    recv.proc.kill('SIGTERM');
    const ro = await recv.done;
    expect(ro.code).to.equal(0);
    const r = parseIrqRecvSummary(ro.stdout);
    expect(r.stoppedBy).to.equal('SIGTERM');
    expect(r.frames).to.deep.include({ unique: g.framesSent, missed: 0, lastSeq: g.lastSeq, lastSeqSource: 'announced' });
  });

  it('counts stray frames apart and never measures them', async () => {
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host', streamId: 1 });
    await sendDatagrams(recv.port, [Buffer.alloc(40), Buffer.from('short'), frame(2), frame(1, 9), Buffer.alloc(1400, 1)]);
    const gen = await run([bin.gen, '--dest', '127.0.0.1', '--port', String(recv.port), '--count', '20']).done;
    expect(gen.code).to.equal(0);
    await sleep(100);
    recv.proc.kill('SIGTERM');
    const r = parseIrqRecvSummary((await recv.done).stdout);
    expect(r.frames).to.deep.include({ stray: 5, received: 20, unique: 20, missed: 0 });
    expect(r.wireToHandler!.samples).to.equal(20);
    expect(r.receiveToHandler.samples).to.equal(20);
  });

  it('counts a frame as late when wire-to-handler exceeds --late-ns', async () => {
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host', lateNs: 1, expect: 30, exitOnEnd: true });
    const gen = await run([bin.gen, '--dest', '127.0.0.1', '--port', String(recv.port), '--count', '30']).done;
    expect(gen.code).to.equal(0);
    const r = parseIrqRecvSummary((await recv.done).stdout);
    expect([r.lateNs, r.lateNsSource]).to.deep.equal([1, 'option']);
    expect(r.frames).to.deep.include({ unique: 30, late: 30 });
  });

  it('reports no wire-to-handler figure under unsynchronised clocks, but still the receive-to-handler one', async () => {
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'unsynchronised', expect: 100, exitOnEnd: true });
    const gen = await run([bin.gen, '--dest', '127.0.0.1', '--port', String(recv.port), '--count', '100']).done;
    expect(gen.code).to.equal(0);
    const out = await recv.done;
    const r = parseIrqRecvSummary(out.stdout);
    expect(r.wireToHandler).to.equal(null);
    expect(r.frames.late).to.equal(null);
    expect(r.wireToHandlerReason).to.match(/unsynchronised/);
    expect(out.stdout).to.not.match(/"wire_to_handler":\{/);
    expect(r.receiveToHandler.samples).to.equal(100);
  });

  it('runs pinned at SCHED_FIFO with memory locked when asked (root)', async function () {
    if (!isRoot) this.skip();
    const recv = await startReceiver({ port: 0, bind: '127.0.0.1', clockDomain: 'same-host', exitOnEnd: true, cpu: 0, priority: 90 });
    const gen = await run(buildIrqGenCommand({ binary: bin.gen, dest: '127.0.0.1', port: recv.port, count: 200, cpu: 0, priority: 80 }).argv).done;
    const g = parseIrqGenSummary(gen.stdout);
    const r = parseIrqRecvSummary((await recv.done).stdout);
    expect(g.rt).to.deep.include({ cpu: 0, ranOnCpu: 0, policy: 'SCHED_FIFO', priority: 80, mlockall: true });
    expect(r.rt).to.deep.include({ cpu: 0, ranOnCpu: 0, policy: 'SCHED_FIFO', priority: 90, mlockall: true });
    expect(r.frames.missed).to.equal(0);
  });

  it('self-check over a veth pair between two namespaces of its own (root)', async function () {
    if (!isRoot || spawnSync('ip', ['-V']).status !== 0) this.skip();
    const tag = `kfnirqtest-${process.pid}`;
    const [nsG, nsR, ifG, ifR] = [`${tag}-g`, `${tag}-r`, `kfi${process.pid % 100000}g`, `kfi${process.pid % 100000}r`];
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    try {
      ip('netns', 'add', nsG);
      ip('netns', 'add', nsR);
      ip('link', 'add', ifG, 'netns', nsG, 'type', 'veth', 'peer', 'name', ifR, 'netns', nsR);
      ip('-n', nsG, 'addr', 'add', '198.18.97.1/24', 'dev', ifG);
      ip('-n', nsR, 'addr', 'add', '198.18.97.2/24', 'dev', ifR);
      ip('-n', nsG, 'link', 'set', ifG, 'up');
      ip('-n', nsR, 'link', 'set', ifR, 'up');
      const recv = await startReceiver(
        { port: 47001, bind: '198.18.97.2', clockDomain: 'same-host', expect: 1000, exitOnEnd: true, hwTimestampsIface: ifR },
        ['ip', 'netns', 'exec', nsR],
      );
      const genArgv = buildIrqGenCommand({ binary: bin.gen, dest: '198.18.97.2', port: 47001, iface: ifG, count: 1000, skipSeqs: [1, 1000] }).argv;
      const gen = await run(['ip', 'netns', 'exec', nsG, ...genArgv]).done;
      expect(gen.code, gen.stderr).to.equal(0);
      const r = parseIrqRecvSummary((await recv.done).stdout);
      expect(r.frames).to.deep.include({ unique: 998, missed: 2, firstSeq: 2 });
      expect(r.rxTimestamp).to.equal('software');
      expect(r.hwFallbackReason).to.match(new RegExp(`^SIOCGHWTSTAMP on ${ifR}: `));
      expect(r.wireToHandler!.minNs).to.be.greaterThan(0);
      expect(r.wireToHandler!.p50Ns).to.be.lessThan(10_000_000);
    } finally {
      spawnSync('ip', ['netns', 'del', nsG]);
      spawnSync('ip', ['netns', 'del', nsR]);
    }
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left).to.not.contain(tag);
  });

  it('leaves no agent process running', async () => {
    await sleep(50);
    for (const p of started) expect(p.exitCode !== null || p.signalCode !== null, `pid ${p.pid} still running`).to.equal(true);
    const pg = spawnSync('pgrep', ['-f', `${dir}/kfn-irq`], { encoding: 'utf8' });
    expect(pg.stdout, 'pgrep -f kfn-irq found our agents').to.equal('');
  });
});
