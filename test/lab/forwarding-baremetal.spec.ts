// Bare-metal forwarding end to end on the embedded lab pod, as CI runs it: the CLI builds the
// lab, forwards through dpdk-testpmd on the host's veths with kfn-softgen on the tgen node,
// writes its reports and removes the lab. Then: the reports read as Jenkins and a tool would,
// the case kept its time budget, and the machine is as it was (no process, namespace, DPDK
// runtime folder, hugepage or mount left, and inside a kept lab the links' flags unchanged).
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { readJenkinsJunit } from '../support/jenkins-junit-reader.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { ThroughputEntry } from '../../lib/cases/forwarding-figures.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { buildHugepageProbeScript } from '../../lib/topology/hugepages.ts';
import { parseLinkStates, type LinkState } from '../../lib/topology/undo.ts';

const DURATION_S = 3;
/** The catalogue entry's budget_s: the case must end within it (5 minutes at most). */
const BUDGET_S = 290;
const prefix = () => deriveLabNames(realpathSync(REPO_ROOT)).prefix;

// What a forwarding run could leave changed on this machine, outside the lab namespaces: the
// hugepage pools and hugetlbfs mounts (global: another DPDK test running at the same time on
// this machine changes them too) and the root namespace's links, other checkouts' labs left out
// (their links come and go with their own runs; this lab's are checked by leftovers()).
async function readGlobalState(): Promise<string> {
  const hugepages = await execa('sh', ['-c', buildHugepageProbeScript()]);
  const links = await execa('ip', ['-j', 'link', 'show']);
  const rootLinks = (JSON.parse(links.stdout) as Array<{ ifname: string; flags: string[] }>)
    .filter((l) => !/^kfn[0-9a-f]{4}-/.test(l.ifname))
    .map((l) => `${l.ifname} ${l.flags.sort().join(',')}`);
  return [hugepages.stdout, ...rootLinks].join('\n');
}

// DPDK users other than this run (another checkout's lab test): they change the global
// hugepage pools themselves, so a difference then proves nothing about this run.
async function otherDpdkUsers(): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((l) => /ovs-vswitchd|dpdk-testpmd/.test(l) && !l.includes(REPO_ROOT));
}

// The run's folder, not the results history beside it.
function runFolder(resultsRoot: string): string {
  const [id] = readdirSync(resultsRoot).filter((name) => /^\d{8}-\d{6}-/.test(name));
  return join(resultsRoot, id ?? 'missing');
}

async function readLabLinks(): Promise<Record<string, LinkState[]>> {
  const out: Record<string, LinkState[]> = {};
  for (const [node, names] of [['host', ['h0', 'h1']], ['tgen', ['t0', 't1', 'c0', 'c1']]] as const) {
    const r = await execa('ip', ['-n', `${prefix()}-${node}`, '-j', 'link', 'show']);
    out[node] = parseLinkStates(r.stdout, names);
  }
  return out;
}

async function leftovers(runId: string): Promise<string[]> {
  const { stdout: ps } = await execa('ps', ['-eo', 'args']);
  const { stdout: ns } = await execa('ip', ['netns', 'list']);
  const { stdout: links } = await execa('ip', ['-o', 'link', 'show']);
  return [
    ...links.split('\n').filter((l) => l.includes(` ${prefix()}-`)),
    ...ps.split('\n').filter((l) => l.includes(`kfn-fwd-${runId}`) || (l.includes('kfn-softgen') && l.includes(REPO_ROOT))),
    ...ns.split('\n').filter((n) => n.startsWith(`${prefix()}-`)),
    ...(existsSync(`/var/run/dpdk/kfn-fwd-${runId}`) ? [`/var/run/dpdk/kfn-fwd-${runId}`] : []),
  ];
}

// A results folder made in before(), removed in after() unless a test failed: then it is the evidence.
function useResultsFolder(prefix: string): () => string {
  let folder: string | undefined;
  let failed = false;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(() => {
    if (folder && !failed) rmSync(folder, { recursive: true, force: true });
  });
  return () => folder!;
}

describe('lab: run -t baremetal_forwarding', function () {
  this.timeout(600_000);
  const resultsRoot = useResultsFolder('kfn-lab-fwd-');
  let exitCode: number;
  let output: string;
  let runDir: string;
  let stateBefore: string;
  let stateAfter: string;
  let others: string[] = [];

  before(async () => {
    stateBefore = await readGlobalState();
    others = await otherDpdkUsers();
    const run = await runCliProcess(['run', '-t', 'baremetal_forwarding', '--duration', String(DURATION_S), '--results', resultsRoot()], { timeoutMs: 540_000 });
    exitCode = run.exitCode;
    output = `${run.stdout}\n${run.stderr}`;
    runDir = runFolder(resultsRoot());
    stateAfter = await readGlobalState();
    others = [...others, ...(await otherDpdkUsers())];
  });

  const readRun = () => JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResult;

  it('ends with 0, or 68 if the shared VM missed a lab limit; never an error', () => {
    expect([0, 68], output).to.include(exitCode);
  });

  it('writes junit.xml with a measured test and the limit tests per frame size', () => {
    const cases = readJenkinsJunit(readFileSync(join(runDir, 'junit.xml'), 'utf8')).flatMap((s) => s.cases);
    expect(new Set(cases.map((c) => `${c.packageName}|${c.simpleClassName}`))).to.deep.equal(new Set(['kvmfornfv.forwarding|baremetal_forwarding']));
    const names = cases.map((c) => c.name);
    for (const size of ['64', '1518']) {
      expect(names).to.include(`${size} B: measured`);
      expect(names.some((n) => n.startsWith(`${size} B: ndr ≥`))).to.equal(true, names.join('\n'));
    }
    expect(cases.filter((c) => c.failedBy === 'error').map((c) => `${c.name}: ${c.errorDetails ?? ''}`)).to.deep.equal([]);
    expect(cases.find((c) => c.name === '64 B: measured')?.stdout).to.match(/<measurement><name>64_generator_max_pps<\/name><value>\d+/);
  });

  it('keeps NDR, loss, a latency histogram and the calibration for every frame size', () => {
    const run = readRun();
    const c = run.cases.find((x) => x.caseName === 'baremetal_forwarding')!;
    const throughput = c.details.throughput as ThroughputEntry[];
    expect(throughput.map((t) => t.frameSize)).to.deep.equal([64, 1518]);
    for (const t of throughput) {
      expect(t.durationS).to.equal(DURATION_S);
      expect(t.ndr.searchPps, `${t.frameSize} B`).to.be.greaterThan(0);
      expect(t.ndrPps === null || t.ndrPps >= t.ndr.confirmedPps!).to.equal(true);
      expect(t.lossAtRate?.lossPercent).to.be.a('number');
      expect(t.trials.filter((x) => x.purpose === 'search').length).to.be.at.least(1);
      expect(t.calibration?.via).to.equal('loopback');
      expect(t.calibration?.maxTxPps).to.be.greaterThan(1000);
      expect(t.calibration?.latency.length).to.equal(2);
      for (const load of t.latencyAtLoads) {
        for (const d of load.directions) {
          expect(d.summary.unit).to.equal('ns');
          expect(d.histogram.length).to.be.greaterThan(0);
          expect(d.histogram.reduce((s, b) => s + b[2], 0)).to.equal(d.summary.samples);
        }
      }
    }
    expect((c.details.pathCheck as { problems: string[] }).problems).to.deep.equal([]);
    expect(c.details.forwarder).to.deep.include({ kind: 'testpmd', forwardMode: 'io' });
    expect(run.tools.host?.['dpdk-testpmd']).to.match(/^\d+\.\d+/);
    expect(run.tools.tgen?.['kfn-softgen']).to.match(/^\d+\.\d+/);
    expect(c.rawOutputs).to.include.members(['baremetal_forwarding/host/testpmd.stdout', 'baremetal_forwarding/trials-64.json', 'baremetal_forwarding/forwarding-table.txt']);
  });

  it('keeps its time budget', () => {
    const c = readRun().cases.find((x) => x.caseName === 'baremetal_forwarding')!;
    expect(c.durationMs / 1000).to.be.at.most(BUDGET_S);
  });

  it('leaves no testpmd, kfn-softgen, DPDK runtime folder or lab namespace behind', async () => {
    expect(await leftovers(readRun().runId)).to.deep.equal([]);
  });

  it('leaves the machine\'s hugepages, hugetlbfs mounts and root links as they were', function () {
    if (stateAfter !== stateBefore && others.length > 0) {
      this.skip(); // another DPDK test on this machine changed the global state meanwhile: see `others`
    }
    expect(stateAfter).to.equal(stateBefore);
  });
});

describe('lab: run -t baremetal_forwarding --keep-lab leaves the lab\'s links as it found them', function () {
  this.timeout(600_000);
  let linksBefore: Record<string, LinkState[]>;
  let linksAfter: Record<string, LinkState[]>;
  let exitCode: number;
  let output: string;
  const resultsRoot = useResultsFolder('kfn-lab-fwd-keep-');

  before(async () => {
    const up = await runCliProcess(['lab', 'up'], { timeoutMs: 120_000 });
    expect(up.exitCode, up.stderr).to.equal(0);
    try {
      linksBefore = await readLabLinks();
      const run = await runCliProcess(['run', '-t', 'baremetal_forwarding', '--duration', '1', '--keep-lab', '--results', resultsRoot()], { timeoutMs: 540_000 });
      exitCode = run.exitCode;
      output = `${run.stdout}\n${run.stderr}`;
      linksAfter = await readLabLinks();
    } finally {
      await runCliProcess(['lab', 'down'], { timeoutMs: 120_000 });
    }
  });

  it('measured', () => {
    expect([0, 68], output).to.include(exitCode);
  });

  it('turned PROMISC (set by testpmd\'s af_packet ports) and every other flag back', () => {
    expect(linksBefore.host!.map((l) => l.promisc)).to.deep.equal([false, false]);
    expect(linksAfter).to.deep.equal(linksBefore);
  });
});
