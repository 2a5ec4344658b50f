// How much the harness disturbs what it measures: the timer case run by the harness (the CLI,
// as a user runs it), interleaved with the very cyclictest command line it ran, replayed
// directly on the same node with nothing else around it. Prints each round's p99 both ways,
// their ratio, and the median ratio (goal: at most 1.05). Asserts nothing. Needs root.
//
//   node bench/perturbation.ts [--pod FILE] [--node guest] [--duration 20] [--rounds 7] [--pin-harness CPUS]
//
// Without --pod it uses the lab pod (built for the run and removed after it, unless it was up
// already), and the direct run is `ip netns exec <node's namespace> <command>`; with --pod the
// direct run is one SSH command in the foreground. --pin-harness runs the harness's own local
// process with taskset on those CPUs, to split what the harness does on this machine from what
// it does on the node (on the lab both are one machine).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPod } from '../lib/config/pod.ts';
import type { PodNode } from '../lib/config/pod-model.ts';
import { labDown, labStatus, labUp } from '../lib/lab/index.ts';
import { connectNode } from '../lib/remote/ssh-session.ts';
import type { RunResult } from '../lib/results/model.ts';
import { parseCyclictestRun } from '../lib/tools/cyclictest/parse.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/kvmfornfv-test.js');

interface Figures {
  p99: number | null;
  max: number | null;
  avg: number | null;
  samples: number;
}

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// One harness run of the timer case; returns the node's figures and the command line it ran.
async function harnessRound(o: { pod: string; lab: boolean; node: string; durationS: number; pin: string | undefined; dir: string }) {
  const results = await mkdtemp(join(o.dir, 'harness-'));
  const cli = [process.execPath, BIN, 'run', '-t', 'timer', '--duration', String(o.durationS), '--pod', o.pod, '--results', results, ...(o.lab ? ['--thresholds', 'lab'] : [])];
  const out = await run(o.pin ? ['taskset', '-c', o.pin, ...cli] : cli);
  const [id] = (await readdir(results)).filter((f) => f !== 'history.jsonl');
  const result = JSON.parse(await readFile(join(results, id ?? 'missing', 'results.json'), 'utf8')) as RunResult;
  const details = result.cases[0]?.details[o.node] as { command?: string; overall?: { summary: Figures } } | undefined;
  if (!details?.command || !details.overall) throw new Error(`the harness measured nothing on ${o.node} (exit ${out.code}): ${out.stderr.slice(-1500)}`);
  const overhead = result.cases[0]?.phasesMs;
  return { figures: details.overall.summary, command: details.command, measureMs: overhead?.measure ?? 0, caseMs: result.cases[0]?.durationMs ?? 0 };
}

// The harness's command line, replayed on the node with its JSON written elsewhere.
async function directRound(o: { command: string; node: PodNode; lab: boolean; round: number }): Promise<Figures> {
  const argv = o.command.split(' ');
  const jsonPath = `/tmp/kfn-bench-perturbation-${process.pid}-${o.round}.json`;
  const replay = argv.map((a) => (a.startsWith('--json=') ? `--json=${jsonPath}` : a));
  const hIndex = replay.indexOf('-h');
  const histogramLimitUs = hIndex >= 0 ? Number(replay[hIndex + 1]) : null;
  let stdout: string;
  let jsonText: string;
  if (o.lab) {
    const out = await run(['ip', 'netns', 'exec', String(o.node.extra.namespace), ...replay]);
    if (out.code !== 0) throw new Error(`direct cyclictest exited ${out.code}: ${out.stderr}`);
    stdout = out.stdout;
    jsonText = await readFile(jsonPath, 'utf8');
    await rm(jsonPath, { force: true });
  } else {
    const session = await connectNode(o.node, { runId: `bench-${process.pid}` });
    try {
      stdout = (await session.exec(replay, { timeoutMs: 600_000, label: 'cyclictest (direct)' })).stdout;
      jsonText = (await session.download(jsonPath)).toString('utf8');
      await session.exec(['rm', '-f', jsonPath], { label: 'rm' });
    } finally {
      await session.close();
    }
  }
  const overall = parseCyclictestRun({ jsonText, stdout, histogramLimitUs }).overall;
  return { p99: overall.p99, max: overall.max, avg: overall.avg, samples: overall.samples };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(0));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pod: { type: 'string' }, node: { type: 'string', default: 'guest' }, duration: { type: 'string', default: '20' }, rounds: { type: 'string', default: '7' }, 'pin-harness': { type: 'string' } },
  });
  const durationS = Number(values.duration);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(durationS) || durationS < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--duration and --rounds take positive integers');
  let built = false;
  let podFile = values.pod;
  if (!podFile) {
    const status = await labStatus({ root: ROOT });
    if (!status.healthy || !status.podYaml) built = true;
    podFile = built ? (await labUp({ root: ROOT })).podYaml : status.podYaml!;
  }
  const pod = loadPod(podFile);
  const node = pod.nodes.find((n) => n.name === values.node || n.role === values.node);
  if (!node) throw new Error(`no node ${values.node} in ${podFile}`);
  const dir = await mkdtemp(join(tmpdir(), 'kfn-bench-perturbation-'));
  const model = /model name\s*:\s*(.*)/.exec(await readFile('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  console.log(`machine: ${model}, ${cpus().length} CPUs, kernel ${execFileSync('uname', ['-r']).toString().trim()}`);
  console.log(`pod ${pod.name}, node ${node.name} (rt CPUs ${node.rtCpus.join(',')}), ${rounds} rounds of ${durationS} s, harness ${values['pin-harness'] ? `pinned to CPUs ${values['pin-harness']}` : 'unpinned'}`);
  console.log('round  first    harness p99/max/avg us   direct p99/max/avg us   ratio p99   harness overhead s');
  const ratios: number[] = [];
  let command: string | undefined;
  try {
    for (let round = 0; round < rounds; round++) {
      // The first round must run the harness first, for its command line; then the order alternates.
      const harnessFirst = round === 0 || round % 2 === 0;
      let harness: Awaited<ReturnType<typeof harnessRound>> | undefined;
      let direct: Figures | undefined;
      const doHarness = async () => {
        harness = await harnessRound({ pod: podFile, lab: pod.lab, node: node.name, durationS, pin: values['pin-harness'], dir });
        command = harness.command;
      };
      const doDirect = async () => {
        direct = await directRound({ command: command!, node, lab: pod.lab, round });
      };
      for (const step of harnessFirst ? [doHarness, doDirect] : [doDirect, doHarness]) await step();
      const h = harness!.figures;
      const d = direct!;
      const ratio = h.p99 !== null && d.p99 ? h.p99 / d.p99 : NaN;
      if (Number.isFinite(ratio)) ratios.push(ratio);
      const overheadS = (harness!.caseMs - harness!.measureMs) / 1000;
      console.log(
        `${String(round + 1).padStart(5)}  ${harnessFirst ? 'harness' : 'direct '}  ${`${fmt(h.p99)}/${fmt(h.max)}/${fmt(h.avg)}`.padEnd(23)}  ${`${fmt(d.p99)}/${fmt(d.max)}/${fmt(d.avg)}`.padEnd(22)}  ${ratio.toFixed(2).padStart(9)}   ${overheadS.toFixed(1)}`,
      );
    }
    console.log(`median ratio (harness p99 / direct p99) over ${ratios.length} rounds: ${ratios.length ? median(ratios).toFixed(2) : '-'} (range ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}); goal at most 1.05`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (built) await labDown({ root: ROOT });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
