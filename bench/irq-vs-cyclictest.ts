// kfn-irqrecv's latency floor against cyclictest, in one run, on the same CPU: the receiver's
// receive-to-handler figure (software receive stamp to the woken RT thread, 1 ms period) beside
// cyclictest's timer latency (-m -p95 -i1000 -a <cpu> -t1 -q -h 2000). Both are one wakeup of
// a SCHED_FIFO 95 thread on that CPU; the ratio says how much the network path adds.
// Prints figures and ratios; asserts nothing. Needs root, gcc and cyclictest (rt-tests).
//
//   node bench/irq-vs-cyclictest.ts [--duration S] [--rounds N] [--cpu N]
//
// With the lab pod up (kvmfornfv-test lab up), the receiver and cyclictest run in the guest's
// namespace on its rt CPU and the generator in tgen's, over the lab's ti -> gi veth; without
// it, everything runs here on loopback. The two are measured one after the other, never at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPod } from '../lib/config/pod.ts';
import { buildAgentRecipe, readAgentSources } from '../lib/provision/build-agent.ts';
import { parseCyclictestRun } from '../lib/tools/cyclictest/parse.ts';
import { buildIrqGenCommand, buildIrqRecvCommand, buildStreamId, parseIrqRecvReadyLine } from '../lib/tools/irq-agent/command.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../lib/tools/irq-agent/parse.ts';

const LAB_POD = new URL('../.lab/pod.yaml', import.meta.url).pathname;
const children = new Set<ChildProcess>();

interface Setup {
  where: string;
  recvPrefix: string[];
  genPrefix: string[];
  dest: string;
  iface: string | undefined;
  cpu: number;
  genCpu: number | undefined;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(argv: string[], cwd?: string): { child: ChildProcess; stderr: () => string; done: Promise<Outcome> } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stderr: () => stderr, done };
}

async function runChecked(argv: string[], cwd?: string): Promise<Outcome> {
  const out = await start(argv, cwd).done;
  if (out.code !== 0) throw new Error(`${argv.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function chooseSetup(cpuArg: number | undefined): Setup {
  if (existsSync(LAB_POD)) {
    const pod = loadPod(LAB_POD);
    const guest = pod.nodes.find((n) => n.role === 'guest');
    const tgen = pod.nodes.find((n) => n.role === 'tgen');
    const gi = guest?.ports.find((p) => p.name === 'gi');
    const address = (guest?.extra.port_addresses as Record<string, string> | undefined)?.gi?.replace(/\/\d+$/, '');
    if (guest && tgen && gi && address) {
      const ns = (n: typeof guest) => ['ip', 'netns', 'exec', String(n.extra.namespace)];
      const iface = tgen.ports.find((p) => p.name === gi.peer?.split(':')[1])?.interface;
      return { where: `lab pod ${pod.name}: tgen:ti -> guest:gi (veth)`, recvPrefix: ns(guest), genPrefix: ns(tgen), dest: address, iface, cpu: cpuArg ?? guest.rtCpus[0] ?? 0, genCpu: tgen.housekeepingCpus[0] };
    }
  }
  const last = cpus().length - 1;
  const cpu = cpuArg ?? last;
  return { where: 'this machine, loopback 127.0.0.1', recvPrefix: [], genPrefix: [], dest: '127.0.0.1', iface: undefined, cpu, genCpu: cpu === 0 ? (last > 0 ? last : undefined) : 0 };
}

// Builds each agent as a node would: its folder beside common/, the exact gcc command, in that folder.
async function buildAgents(dir: string): Promise<{ gen: string; recv: string }> {
  const out: Record<string, string> = {};
  for (const name of ['kfn-irqgen', 'kfn-irqrecv']) {
    const recipe = buildAgentRecipe({ name, sources: readAgentSources(name) });
    for (const s of recipe.sources) {
      await mkdir(join(dir, s.path, '..'), { recursive: true });
      await writeFile(join(dir, s.path), s.content);
    }
    await runChecked(recipe.compileArgv, join(dir, name));
    out[name] = join(dir, name, name);
  }
  return { gen: out['kfn-irqgen']!, recv: out['kfn-irqrecv']! };
}

async function measureIrq(s: Setup, bin: { gen: string; recv: string }, durationS: number, round: number) {
  const count = durationS * 1000;
  const streamId = buildStreamId(`bench-${process.pid}-${round}`);
  const recvArgv = buildIrqRecvCommand({ binary: bin.recv, port: 0, bind: s.dest, streamId, clockDomain: 'same-host', expect: count, cpu: s.cpu, priority: 95 }).argv;
  const recv = start([...s.recvPrefix, ...recvArgv]);
  let ready: ReturnType<typeof parseIrqRecvReadyLine>;
  for (let i = 0; i < 100 && !(ready = parseIrqRecvReadyLine(recv.stderr())); i++) await sleep(50);
  if (!ready) throw new Error(`kfn-irqrecv never became ready: ${recv.stderr()}`);
  const genArgv = buildIrqGenCommand({
    binary: bin.gen,
    dest: s.dest,
    port: ready.port,
    count,
    streamId,
    priority: 95,
    ...(s.iface ? { iface: s.iface } : {}),
    ...(s.genCpu !== undefined ? { cpu: s.genCpu } : {}),
  }).argv;
  const gen = await runChecked([...s.genPrefix, ...genArgv]);
  await sleep(300);
  recv.child.kill('SIGINT');
  const r = await recv.done;
  const g = parseIrqGenSummary(gen.stdout);
  const summary = parseIrqRecvSummary(r.stdout);
  if (summary.frames.missed > 0) console.log(`  note: ${summary.frames.missed} of ${g.lastSeq} frames missed`);
  return summary;
}

async function measureCyclictest(s: Setup, dir: string, durationS: number, round: number) {
  const json = join(dir, `cyclictest-${round}.json`);
  const argv = ['cyclictest', '-m', '-p95', '-i1000', '-a', String(s.cpu), '-t1', '-q', '-h', '2000', '-D', String(durationS), `--json=${json}`];
  const out = await runChecked([...s.recvPrefix, ...argv]);
  return parseCyclictestRun({ jsonText: await readFile(json, 'utf8'), stdout: out.stdout, histogramLimitUs: 2000, expectedCpus: [s.cpu] }).overall;
}

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '20' }, rounds: { type: 'string', default: '1' }, cpu: { type: 'string' } } });
  const durationS = Number(values.duration);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(durationS) || durationS < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--duration and --rounds take positive integers');
  const setup = chooseSetup(values.cpu === undefined ? undefined : Number(values.cpu));
  const dir = await mkdtemp(join(tmpdir(), 'kfn-bench-irq-'));
  try {
    const bin = await buildAgents(dir);
    console.log(`irq-vs-cyclictest: ${setup.where}; measured CPU ${setup.cpu}, generator CPU ${setup.genCpu ?? 'any'}; ${durationS} s at 1 ms per tool, ${rounds} round(s)`);
    console.log('round  tool                                  samples   p50 us   p99 us   max us');
    for (let round = 1; round <= rounds; round++) {
      const irq = await measureIrq(setup, bin, durationS, round);
      const cyc = await measureCyclictest(setup, dir, durationS, round);
      const rx = irq.receiveToHandler;
      const w = irq.wireToHandler;
      const us = (ns: number | null) => (ns === null ? null : ns / 1000);
      console.log(`${String(round).padStart(5)}  kfn-irqrecv receive_to_handler    ${String(rx.samples).padStart(9)} ${fmt(us(rx.p50Ns)).padStart(8)} ${fmt(us(rx.p99Ns)).padStart(8)} ${fmt(us(rx.maxNs)).padStart(8)}`);
      if (w) console.log(`${String(round).padStart(5)}  kfn-irqrecv wire_to_handler       ${String(w.samples).padStart(9)} ${fmt(us(w.p50Ns)).padStart(8)} ${fmt(us(w.p99Ns)).padStart(8)} ${fmt(us(w.maxNs)).padStart(8)}`);
      console.log(`${String(round).padStart(5)}  cyclictest (timer)                ${String(cyc.samples).padStart(9)} ${fmt(cyc.p50).padStart(8)} ${fmt(cyc.p99).padStart(8)} ${fmt(cyc.max).padStart(8)}`);
      const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2));
      console.log(`       ratio receive_to_handler / cyclictest: p50 ${ratio(us(rx.p50Ns), cyc.p50)}, p99 ${ratio(us(rx.p99Ns), cyc.p99)}`);
    }
    console.log('(cyclictest values are whole us and its percentiles bucket upper bounds; the agent\'s are ns bucket upper bounds within 0.8 %)');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`irq-vs-cyclictest: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
