// Wall time of the timer case with 1 compute group and with 4, on the lab pod: is a run bounded
// by the measurement, not by the number of computes? `lab up --computes 4 --guest namespace`
// first (before any timing); then, interleaved, `run -t timer --duration 30` against a pod file
// holding the first group only, and against the lab's pod.yaml with all four. Namespace guests:
// four TCG VMs at once would measure the 2-core machine, not the harness.
// Prints each round's times and ratio t(4)/t(1), the median ratio, and the seconds each extra
// compute adds. Goal: a median ratio of at most 1.2. Asserts nothing. Needs root.
//
//   node bench/fanout.ts [--rounds N] [--duration S] [--computes N] [--keep-lab]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';
import { labDown, labUp } from '../lib/lab/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/kvmfornfv-test.js', import.meta.url));

type RawNode = { name: string; role: string; host_node?: string; ports?: Array<{ peer?: string }> };

// The lab's pod.yaml cut down to its first group and the shared nodes; ports cabled to the
// dropped nodes go too, so the file still loads.
function firstGroupOnly(podYaml: string): string {
  const pod = load(podYaml) as { nodes: RawNode[] } & Record<string, unknown>;
  const dropped = new Set(pod.nodes.filter((n) => /-\d+$/.test(n.name)).map((n) => n.name));
  const nodes = pod.nodes
    .filter((n) => !dropped.has(n.name))
    .map((n) => ({ ...n, ports: (n.ports ?? []).filter((p) => !dropped.has(p.peer?.split(':')[0] ?? '')) }));
  return dump({ ...pod, nodes });
}

async function timedRun(pod: string, durationS: number, results: string): Promise<{ seconds: number; exitCode: number }> {
  const started = process.hrtime.bigint();
  const run = await execa(process.execPath, [BIN, 'run', '-t', 'timer', '--duration', String(durationS), '--pod', pod, '--thresholds', 'lab', '--results', results], {
    cwd: ROOT,
    reject: false,
    stdin: 'ignore',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.exitCode !== 0 && run.exitCode !== 68) throw new Error(`run against ${pod} exited ${run.exitCode}:\n${String(run.stdout).slice(-2000)}\n${String(run.stderr).slice(-2000)}`);
  return { seconds, exitCode: run.exitCode ?? -1 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '30' }, computes: { type: 'string', default: '4' }, 'keep-lab': { type: 'boolean', default: false } } });
  const rounds = Number(values.rounds);
  const durationS = Number(values.duration);
  const computes = Number(values.computes);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const state = await labUp({ root: ROOT, guest: 'namespace', computes, log });
  const work = await mkdtemp(join(tmpdir(), 'kfn-bench-fanout-'));
  try {
    const one = join(work, 'pod-1.yaml');
    await writeFile(one, firstGroupOnly(await readFile(state.podYaml, 'utf8')));
    console.log(`timer case, --duration ${durationS} (host then guest: ${2 * durationS} s of measurement per group), ${rounds} rounds, lab pod ${state.prefix}, namespace guests`);
    const ratios: number[] = [];
    const t1s: number[] = [];
    const tNs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const t1 = await timedRun(one, durationS, join(work, 'results'));
      const tN = await timedRun(state.podYaml, durationS, join(work, 'results'));
      t1s.push(t1.seconds);
      tNs.push(tN.seconds);
      ratios.push(tN.seconds / t1.seconds);
      console.log(`round ${round}: t(1) = ${t1.seconds.toFixed(1)} s (exit ${t1.exitCode}), t(${computes}) = ${tN.seconds.toFixed(1)} s (exit ${tN.exitCode}), ratio ${(tN.seconds / t1.seconds).toFixed(3)}`);
    }
    const overhead = (median(tNs) - median(t1s)) / (computes - 1);
    console.log(`median ratio t(${computes})/t(1) = ${median(ratios).toFixed(3)} (goal <= 1.2); median t(1) ${median(t1s).toFixed(1)} s, t(${computes}) ${median(tNs).toFixed(1)} s; ${overhead.toFixed(1)} s per extra compute`);
  } finally {
    await rm(work, { recursive: true, force: true });
    if (!values['keep-lab']) await labDown({ root: ROOT, log });
  }
}

await main();
