// The OVS-DPDK (PVP) and SR-IOV forwarding cases end to end on the lab pod, as CI runs them,
// with the VNF inside the lab's QEMU guest: the CLI launches the VM, measures at short trials,
// writes junit.xml and results.json, and must leave the machine as it found it (hugepages,
// hugetlbfs mounts, DPDK runtime folders, the lab's links, no QEMU, OVS or DPDK process) after a
// pass and after a SIGTERM in the middle of a trial. Frames must go through the VM: testpmd's
// counters read in the guest, OVS's per-port counters and the generator's agree, and no
// forwarder runs on this machine outside the VM meanwhile.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { readJenkinsJunit } from '../support/jenkins-junit-reader.ts';
import { comparePodStateSnapshots, findNamespaceForwarders, findRunFolders, findRunProcesses, takePodStateSnapshot, type PodStateSnapshot, type ProcessEntry } from './pod-state-snapshot.ts';
import { ensureLabUp } from '../support/lab.ts';

const BIN = fileURLToPath(new URL('../../bin/kvmfornfv-test.js', import.meta.url));
/** Results folders of these tests, removed at the end. */
const folders: string[] = [];

function resultsFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kfn-lab-${name}-`));
  folders.push(dir);
  return dir;
}
const ROOT = realpathSync(REPO_ROOT);
const { prefix } = deriveLabNames(ROOT);

interface CaseRun {
  exitCode: number;
  output: string;
  runId: string;
  runDir: string;
  before: PodStateSnapshot;
  after: PodStateSnapshot;
  /** Forwarders seen in the lab's namespaces while the case ran (sampled every second). */
  namespaceForwarders: ProcessEntry[];
  elapsedS: number;
}

// One CLI run of one case, with the machine's state read right before and right after it.
async function runCase(caseName: string): Promise<CaseRun> {
  const results = resultsFolder(caseName);
  const before = await takePodStateSnapshot(prefix, ROOT);
  const namespaceForwarders: ProcessEntry[] = [];
  const sampler = setInterval(() => void findNamespaceForwarders(prefix).then((found) => namespaceForwarders.push(...found), () => {}), 1000);
  const started = Date.now();
  const run = await runCliProcess(['run', '-t', caseName, '--duration', '3', '--results', results], { timeoutMs: 900_000 }).finally(() => clearInterval(sampler));
  const elapsedS = Math.round((Date.now() - started) / 1000);
  const after = await takePodStateSnapshot(prefix, ROOT);
  const [runId = 'missing'] = readdirSync(results).filter((f) => f !== 'history.jsonl');
  return { exitCode: run.exitCode, output: `${run.stdout}\n${run.stderr}`, runId, runDir: join(results, runId), before, after, namespaceForwarders, elapsedS };
}

function readRun(r: CaseRun): RunResult {
  return JSON.parse(readFileSync(join(r.runDir, 'results.json'), 'utf8')) as RunResult;
}

describe('lab: OVS-DPDK and SR-IOV forwarding through the QEMU guest leave the machine as they found it', function () {
  this.timeout(2_400_000);
  // The lab is brought up first so that its links are compared too; the runs reuse it.
  let broughtUp = false;
  const runs: Record<string, CaseRun> = {};

  before(async () => {
    broughtUp = await ensureLabUp();
    runs.ovs = await runCase('ovs_dpdk_forwarding');
    runs.sriov = await runCase('sriov_forwarding');
  });

  after(async () => {
    for (const [key, r] of Object.entries(runs)) console.log(`      ${key}: ${r.elapsedS} s, exit ${r.exitCode}`);
    if (broughtUp) await runCliProcess(['lab', 'down'], { timeoutMs: 300_000 });
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  for (const [key, caseName, topology] of [
    ['ovs', 'ovs_dpdk_forwarding', 'ovs-dpdk'],
    ['sriov', 'sriov_forwarding', 'sriov'],
  ] as const) {
    describe(caseName, () => {
      it('ends with 0, or 68 if the VM missed a lab limit; never an error', () => {
        expect([0, 68], runs[key]!.output).to.include(runs[key]!.exitCode);
      });

      it('writes junit.xml with a measured test per lab frame size and no error', () => {
        const suites = readJenkinsJunit(readFileSync(join(runs[key]!.runDir, 'junit.xml'), 'utf8'));
        const cases = suites.flatMap((s) => s.cases);
        expect(new Set(cases.map((c) => `${c.packageName}|${c.simpleClassName}`))).to.deep.equal(new Set([`kvmfornfv.forwarding|${caseName}`]));
        expect(cases.map((c) => c.name)).to.include.members(['64 B: measured', '1518 B: measured']);
        expect(cases.filter((c) => c.failedBy === 'error').map((c) => `${c.name}: ${c.errorDetails ?? ''}`)).to.deep.equal([]);
      });

      it('keeps throughput per frame size, the path it measured and the proof that frames went through it', () => {
        const result = readRun(runs[key]!).cases.find((c) => c.caseName === caseName)!;
        const details = result.details as Record<string, any>;
        expect(details.topology.name).to.equal(topology);
        expect(details.throughput.map((t: { frameSize: number }) => t.frameSize)).to.deep.equal([64, 1518]);
        for (const t of details.throughput) expect(t.trials.length).to.be.greaterThan(3);
        expect(details.pathCheck.problems).to.deep.equal([]);
        for (const [port, rx] of Object.entries(details.pathCheck.receivedByGenerator as Record<string, number>)) {
          expect(rx, port).to.be.greaterThan(0);
          expect(rx, port).to.be.at.most(details.pathCheck.sentByDevice[port]);
        }
        expect(details.forwarder.kind).to.equal('testpmd');
      });

      it('forwards inside the VM: testpmd (never the kernel fallback) on the guest, under a recorded accelerator', () => {
        const details = readRun(runs[key]!).cases.find((c) => c.caseName === caseName)!.details as Record<string, any>;
        expect(details.vnf).to.deep.include({ node: 'guest', where: 'launched guest' });
        expect(details.topology.nodes).to.include('guest');
        expect(['kvm', 'tcg']).to.include(details.accelerator);
        // The default VNF is testpmd: the kernel forwarding in its place would be another forwarder's figures.
        expect(details.forwarder).to.deep.include({ kind: 'testpmd', role: 'VNF', node: 'guest' });
        expect(details.topology.description).to.match(/testpmd \(io\) in the VM, virtio-net on uio_pci_generic/);
        expect(runs[key]!.output).to.match(/testpmd io \(VM, (TCG|KVM)\)/);
      });

      it('runs no forwarder on this machine outside the VM while the case runs', () => {
        expect(runs[key]!.namespaceForwarders.map((p) => `${p.pid} ${p.args}`)).to.deep.equal([]);
      });

      it('has the generator\'s, the path\'s and the VNF\'s counts agree within the loss, direction by direction', () => {
        const details = readRun(runs[key]!).cases.find((c) => c.caseName === caseName)!.details as Record<string, any>;
        const loss = details.pathCheck.loss as Array<{ direction: string; stages: Array<{ point: string; frames: number }>; losses: Array<{ lost: number }> }>;
        expect(loss, 'both directions of the bidirectional trials').to.have.length(2);
        for (const d of loss) {
          const points = d.stages.map((s) => s.point);
          expect(points.some((p) => /^VNF \S+ rx$/.test(p)), `${d.direction}: ${points.join(', ')}`).to.equal(true);
          expect(points.some((p) => /^VNF \S+ tx$/.test(p))).to.equal(true);
          if (key === 'ovs') expect(points.filter((p) => /^OVS /.test(p))).to.have.length(4);
          // Each point counts no more than the one before it, and frames reached the end.
          for (const l of d.losses) expect(l.lost, JSON.stringify(d)).to.be.at.least(0);
          expect(d.stages.at(-1)!.frames).to.be.greaterThan(0);
        }
      });

      it('puts back hugepages, mounts, link flags and DPDK folders, and leaves no process behind', () => {
        const r = runs[key]!;
        expect(comparePodStateSnapshots(r.before, r.after, { runIds: [r.runId] })).to.deep.equal([]);
        expect(findRunProcesses(r.runId)).to.deep.equal([]);
        expect(findRunFolders(r.runId)).to.deep.equal([]);
      });
    });
  }

  it('ovs_dpdk_forwarding keeps OVS\'s PMD statistics and flow counters as evidence', () => {
    const r = runs.ovs!;
    const result = readRun(r).cases[0]!;
    expect(result.rawOutputs).to.include.members(['ovs_dpdk_forwarding/ovs/pmd-stats-show.txt', 'ovs_dpdk_forwarding/ovs/pmd-rxq-show.txt', 'ovs_dpdk_forwarding/ovs/dump-flows.txt']);
    const ovs = (result.details as Record<string, any>).ovs;
    expect(ovs.mode).to.equal('own');
    expect(ovs.pmd.find((t: { thread: string }) => t.thread === 'pmd').packetsReceived).to.be.greaterThan(0);
    expect(readRun(r).tools.host?.['ovs-vswitchd']).to.match(/^\d+\.\d+/);
    // VSPERF's virtio-net options on the VM's vhost-user NICs, as they were plugged.
    expect((result.details as Record<string, any>).vnf.virtioOptions.v0).to.include({ mrg_rxbuf: 'off', csum: 'off' });
  });

  it('sriov_forwarding says its lab path is an analogue: the VM owns the links through macvtap', () => {
    const description = (readRun(runs.sriov!).cases[0]!.details as Record<string, any>).topology.description as string;
    expect(description).to.match(/lab analogue of a passed-through VF: the VM owns g0, g1 through macvtap in passthru mode/);
  });

  describe('SIGTERM in the middle of an OVS-DPDK trial', () => {
    let exitCode: number | undefined;
    let elapsedMs = 0;
    let runId = '';
    let stateBefore: PodStateSnapshot;
    let stateAfter: PodStateSnapshot;

    before(async () => {
      const results = resultsFolder('ovs-abort');
      stateBefore = await takePodStateSnapshot(prefix, ROOT);
      // No SIGKILL after the SIGTERM: the harness's own teardown (OVS, VNF, hugepages) is under test.
      const child = execa(process.execPath, [BIN, 'run', '-t', 'ovs_dpdk_forwarding', '--duration', '3', '--results', results], {
        reject: false,
        all: true,
        cwd: REPO_ROOT,
        stdin: 'ignore',
        forceKillAfterDelay: false,
        timeout: 600_000,
      });
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the measurement never started:\n${seen}`)), 300_000);
        child.all?.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (/ovs_dpdk_forwarding 64 B: \d+%/.test(seen)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const sent = Date.now();
      child.kill('SIGTERM');
      const result = await child;
      elapsedMs = Date.now() - sent;
      exitCode = result.exitCode;
      stateAfter = await takePodStateSnapshot(prefix, ROOT);
      runId = readdirSync(results).filter((f) => f !== 'history.jsonl')[0] ?? '';
    });

    it('exits 70 within a bounded time', () => {
      expect(exitCode).to.equal(70);
      expect(elapsedMs).to.be.below(120_000);
    });

    it('stops OVS and the VNF and restores everything it changed', () => {
      expect(comparePodStateSnapshots(stateBefore, stateAfter, { runIds: [runId] })).to.deep.equal([]);
      expect(findRunProcesses(runId)).to.deep.equal([]);
      expect(findRunFolders(runId)).to.deep.equal([]);
    });
  });
});
