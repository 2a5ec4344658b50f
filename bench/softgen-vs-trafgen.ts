// kfn-softgen against netsniff-ng's trafgen, in one run, on one veth pair in a fresh
// namespace, same 64-byte UDP frame (60 bytes written, the FCS is the NIC's), full speed.
// Prints figures and ratios; asserts nothing. Needs root and /usr/sbin/trafgen.
//
//   node bench/softgen-vs-trafgen.ts [--count N] [--rounds N]
//
// pps is measured two ways for every tool: by the sender's interface tx counter
// (`ip -s link`) over the wall time of the process, and by the tool's own figure.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCompileArgv, buildTrialCommand, buildTxCommand } from '../lib/tools/softgen/command.ts';
import { parseSoftgenOutput } from '../lib/tools/softgen/parse.ts';

const NS = `kfnsgtest-bench-${process.pid}`;
const SOURCE = new URL('../lib/agents/kfn-softgen/kfn-softgen.c', import.meta.url).pathname;
const TRAFGEN = '/usr/sbin/trafgen';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  wallS: number;
}

function run(argv: string[], cwd?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, wallS: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

async function must(argv: string[], cwd?: string): Promise<Outcome> {
  const out = await run(argv, cwd);
  if (out.code !== 0) throw new Error(`${argv.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
  return out;
}

async function txPackets(dev: string): Promise<number> {
  const out = await must(['ip', '-n', NS, '-j', '-s', 'link', 'show', 'dev', dev]);
  const [link] = JSON.parse(out.stdout) as Array<{ stats64: { tx: { packets: number }; rx: { packets: number } } }>;
  return link!.stats64.tx.packets;
}

// The same 60 bytes softgen writes for --size 64 (pktgen magic in the payload, rest zero).
function trafgenConfig(): string {
  const ip = [0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 19, 0, 1];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i]! << 8) | ip[i + 1]!;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (~sum >> 8) & 0xff;
  ip[11] = ~sum & 0xff;
  const frame = [0x02, 0x6b, 0x66, 0x6e, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, ...ip, 0x04, 0, 0x04, 0, 0, 26, 0, 0, 0xbe, 0x9b, 0xe9, 0x55, ...new Array<number>(14).fill(0)];
  return `{\n  ${frame.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}\n}\n`;
}

interface Sample {
  counterPps: number;
  ownPps: number;
}

async function measure(argv: string[], own: (o: Outcome) => number): Promise<Sample> {
  const before = await txPackets('b0');
  const out = await run(['ip', 'netns', 'exec', NS, ...argv]);
  if (out.code !== 0) throw new Error(`${argv.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
  const sent = (await txPackets('b0')) - before;
  return { counterPps: sent / out.wallS, ownPps: own(out) };
}

function trafgenOwnPps(o: Outcome): number {
  const text = o.stdout + o.stderr;
  const packets = /(\d+) packets outgoing/.exec(text);
  const time = /(\d+) sec, (\d+) usec/.exec(text);
  if (!packets || !time) return Number.NaN;
  return Number(packets[1]) / (Number(time[1]) + Number(time[2]) / 1e6);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mpps = (x: number): string => (x / 1e6).toFixed(3).padStart(7);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '4000000' }, rounds: { type: 'string', default: '5' } } });
  const count = Number(values.count);
  const rounds = Number(values.rounds);
  if (process.getuid?.() !== 0) throw new Error('needs root (namespaces, AF_PACKET)');
  const dir = await mkdtemp(join(tmpdir(), 'kfnsgtest-bench-'));
  try {
    await copyFile(SOURCE, join(dir, 'kfn-softgen.c'));
    await must(buildCompileArgv({ source: 'kfn-softgen.c', output: 'kfn-softgen' }), dir);
    const bin = join(dir, 'kfn-softgen');
    const cfg = join(dir, 'udp64.cfg');
    await writeFile(cfg, trafgenConfig());
    await must(['ip', 'netns', 'add', NS]);
    await must(['ip', 'netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await must(['ip', '-n', NS, 'link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1']);
    await must(['ip', '-n', NS, 'link', 'set', 'b0', 'up']);
    await must(['ip', '-n', NS, 'link', 'set', 'b1', 'up']);

    const trafgenArgv = [TRAFGEN, '--dev', 'b0', '--conf', cfg, '--cpus', '1', '-n', String(count)];
    const txArgv = buildTxCommand({ binary: bin, iface: 'b0', frame: { kind: 'fixed', sizeBytes: 64 }, ratePps: 0, count, streamId: 1 }).argv;
    const trialArgv = [...buildTrialCommand({ binary: bin, txIf: 'b0', rxIf: 'b1', frame: { kind: 'fixed', sizeBytes: 64 }, ratePps: 0, durationS: 60, direction: 'one-way', streamId: 2 }).argv, '--count', String(count)];
    const results = { trafgen: [] as Sample[], softgenTx: [] as Sample[], softgenTrial: [] as Sample[] };
    let lastTrial = '';
    console.log(`${count} frames of 64 bytes per run, ${rounds} rounds, veth pair b0 -> b1 in ${NS}`);
    console.log('round  tool                          counter Mpps  own Mpps');
    for (let r = 1; r <= rounds; r++) {
      const runs: Array<[keyof typeof results, string, string[], (o: Outcome) => number]> = [
        ['trafgen', 'trafgen (TX_RING, 1 cpu)', trafgenArgv, trafgenOwnPps],
        ['softgenTx', 'softgen tx (sendmmsg)', txArgv, (o) => parseSoftgenOutput(o.stdout).directions[0]!.achievedTxPps!],
        ['softgenTrial', 'softgen trial (tx + rx)', trialArgv, (o) => {
          lastTrial = o.stdout;
          return parseSoftgenOutput(o.stdout).directions[0]!.achievedTxPps!;
        }],
      ];
      for (const [key, label, argv, own] of runs) {
        const s = await measure(argv, own);
        results[key].push(s);
        console.log(`${String(r).padStart(5)}  ${label.padEnd(28)}  ${mpps(s.counterPps)}       ${mpps(s.ownPps)}`);
      }
    }
    const t = parseSoftgenOutput(lastTrial);
    const d = t.directions[0]!;
    console.log(`last trial: rx ${d.rxFrames} of ${d.txFrames}, lost ${d.lost}, ring drops ${t.rxInterfaces[0]!.ringDrops}, p50 ${d.latency!.p50Ns} ns`);
    const m = (k: keyof typeof results, f: keyof Sample) => median(results[k].map((s) => s[f]));
    console.log('\nmedians (Mpps)                 counter   own');
    for (const [k, label] of [['trafgen', 'trafgen'], ['softgenTx', 'softgen tx'], ['softgenTrial', 'softgen trial']] as const) {
      console.log(`  ${label.padEnd(28)} ${mpps(m(k, 'counterPps'))}  ${mpps(m(k, 'ownPps'))}`);
    }
    console.log(`ratio softgen tx / trafgen:    ${(m('softgenTx', 'counterPps') / m('trafgen', 'counterPps')).toFixed(3)} (counters)  ${(m('softgenTx', 'ownPps') / m('trafgen', 'ownPps')).toFixed(3)} (own figures)`);
    console.log('(the trial also receives, on the same veth, and its wall time includes the 200 ms drain)');
    console.log(`ratio softgen trial / trafgen: ${(m('softgenTrial', 'counterPps') / m('trafgen', 'counterPps')).toFixed(3)} (counters)  ${(m('softgenTrial', 'ownPps') / m('trafgen', 'ownPps')).toFixed(3)} (own figures)`);
  } finally {
    await run(['ip', 'netns', 'del', NS]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`softgen-vs-trafgen: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
