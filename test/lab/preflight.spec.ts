// The preflight tier end to end on the embedded lab pod, as CI and an operator run it: the
// CLI builds the lab, audits every node over SSH, writes its reports and removes the lab.
// The lab is an untuned, non-RT VM, so most checks fail; its profile makes them advisory.
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { ALL_CHECKS } from '../../lib/audit/index.ts';
import type { CheckRecord } from '../../lib/cases/preflight.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import { testcaseProperties } from '../../lib/report/junit.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { readJenkinsJunit, type JenkinsCase } from '../support/jenkins-junit-reader.ts';

const FORWARDING = ALL_CHECKS.filter((c) => c.appliesTo.includes('tgen'));

/** Testcase properties by testcase name, read back from the suites that carry them. */
function readTestcaseProperties(xml: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const suite of readJenkinsJunit(xml)) for (const tc of suite.cases) out.set(tc.name, testcaseProperties(suite.properties, tc.name));
  return out;
}

describe('lab: run -t preflight', function () {
  this.timeout(300_000);
  const resultsRoot = mkdtempSync(join(tmpdir(), 'kfn-lab-preflight-'));
  let exitCode: number;
  let output: string;
  let runDir: string;
  let cases: JenkinsCase[];
  let xml: string;
  let run: RunResult;

  before(async () => {
    const cli = await runCliProcess(['run', '-t', 'preflight', '--results', resultsRoot], { timeoutMs: 290_000 });
    exitCode = cli.exitCode;
    output = `${cli.stdout}\n${cli.stderr}`;
    const [id] = readdirSync(resultsRoot);
    runDir = join(resultsRoot, id ?? 'missing');
    xml = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    cases = readJenkinsJunit(xml).flatMap((s) => s.cases);
    run = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResult;
  });

  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  it('ends with exit code 0 on the lab profile: the lab fails nothing blocking', () => {
    expect(exitCode, output).to.equal(0);
    expect(cases.filter((c) => c.failedBy !== undefined).map((c) => `${c.name}: ${c.errorDetails}`)).to.deep.equal([]);
  });

  it('lists every check per node in junit.xml under kvmfornfv.preflight.preflight', () => {
    expect(new Set(cases.map((c) => `${c.packageName}|${c.simpleClassName}`))).to.deep.equal(new Set(['kvmfornfv.preflight|preflight']));
    const names = cases.map((c) => c.name);
    for (const node of ['host', 'guest']) {
      for (const check of ALL_CHECKS) expect(names, node).to.include(`${node}: ${check.id} ${check.title}`);
    }
    for (const check of FORWARDING) expect(names).to.include(`tgen: ${check.id} ${check.title}`);
    expect(names).to.have.length(ALL_CHECKS.length * 2 + FORWARDING.length);
  });

  it('shows PREEMPT_RT as a failed advisory check on the host: a passing test with severity=advisory and the finding', () => {
    const properties = readTestcaseProperties(xml);
    for (const node of ['host']) {
      const name = `${node}: kernel.preempt-rt PREEMPT_RT kernel`;
      const c = cases.find((x) => x.name === name);
      expect(c?.status, name).to.equal('PASSED');
      expect(c?.stdout).to.match(/^advisory: kernel\.preempt-rt failed: expected a PREEMPT_RT kernel.*, found uname -r \S+; uname -v ".*"/);
      expect(c?.stdout).to.include('fix: boot a PREEMPT_RT kernel');
      expect(properties.get(name)).to.include({ severity: 'advisory', outcome: 'fail', check: 'kernel.preempt-rt' });
    }
  });

  // Issue 11: the console must not let a failed advisory check read as a pass.
  it('prints each failed advisory check as ADVIS with its fix, never PASS, counts them apart, and folds skips by reason', () => {
    const properties = readTestcaseProperties(xml);
    const advisory = cases.filter((c) => c.status === 'PASSED' && properties.get(c.name)?.severity === 'advisory' && properties.get(c.name)?.outcome === 'fail').map((c) => c.name);
    expect(advisory.length).to.be.greaterThan(5);
    const lines = output.split('\n');
    // A folded PASS line names its checks node by node: `host: a, b; guest: c, ...`.
    const passedChecks = (node: string) =>
      lines.filter((l) => l.startsWith('  PASS ')).flatMap((l) => l.slice(8).replace(/ \(\d+\)$/, '').split('; ').filter((seg) => seg.startsWith(`${node}: `)).flatMap((seg) => seg.slice(node.length + 2).split(', ')));
    for (const name of advisory) {
      expect(lines.filter((l) => l.startsWith(`  ADVIS ${name} — expected `) && l.includes('; found ') && l.includes('; fix: ')), name).to.have.length(1);
      const node = name.slice(0, name.indexOf(': '));
      expect(passedChecks(node), name).not.to.include(String(properties.get(name)?.check));
    }
    const passed = cases.filter((c) => c.status === 'PASSED').length - advisory.length;
    const skipped = cases.filter((c) => c.status === 'SKIPPED').length;
    expect(lines).to.include(`${passed} passed, ${advisory.length} advisory, 0 failed, 0 errors, ${skipped} skipped`);
    // One line per reason: fewer SKIP lines than skipped checks, and every skipped check named.
    const skipLines = lines.filter((l) => l.startsWith('  SKIP '));
    expect(skipLines.length).to.be.lessThan(skipped);
    for (const c of cases.filter((x) => x.status === 'SKIPPED')) {
      const [node, check] = [c.name.slice(0, c.name.indexOf(': ')), String(properties.get(c.name)?.check)];
      expect(skipLines.some((l) => l.includes(c.name) || (l.includes(`${node}: `) && l.includes(check))), c.name).to.equal(true);
    }
  });

  it('skips what it cannot decide or what does not apply, always with the reason', () => {
    const skipped = cases.filter((c) => c.status === 'SKIPPED');
    expect(skipped.length).to.be.greaterThan(5);
    for (const c of skipped) expect(c.skippedMessage, c.name).to.match(/^(could not be decided|does not apply): .{10,}/);
  });

  it("decides the guest checks from the VM it launched: the guest's RT kernel and isolation, the host's placement of it", () => {
    const properties = readTestcaseProperties(xml);
    for (const check of ['kernel.preempt-rt', 'cmdline.isolcpus', 'cmdline.nohz-full', 'cmdline.rcu-nocbs']) {
      const c = cases.find((x) => x.name.startsWith(`guest: ${check} `));
      expect(properties.get(c?.name ?? '')?.outcome, check).to.equal('pass');
    }
    // What is in force on the host, read from /proc and the QEMU command line: pinned, locked, on hugepages.
    // With the VM's forwarding placement: the VNF's vCPU alone on CPU 1, vhost-user RAM shared on hugepages.
    for (const check of ['guest-placement.emulator-pinning', 'guest-placement.memory-locked', 'guest-placement.hugepage-backing', 'guest-placement.vnf-vcpu-pinning', 'guest-placement.vhost-user-memory']) {
      const c = cases.find((x) => x.name.startsWith(`host: ${check} `));
      expect(properties.get(c?.name ?? '')?.outcome, check).to.equal('pass');
    }
    // The 2-core lab's price, reported: OVS's PMD (planned on CPU 0) shares its CPU with QEMU's threads.
    const pmd = cases.find((x) => x.name.startsWith('host: guest-placement.ovs-pmd-cpus '));
    expect(properties.get(pmd?.name ?? '')).to.include({ outcome: 'fail', severity: 'advisory' });
    for (const c of cases.filter((x) => x.name.startsWith('host: guest-placement.'))) expect(c.skippedMessage ?? '', c.name).not.to.match(/no guest found/);
  });

  it('keeps every check outcome per node in results.json, and the raw snapshots', () => {
    expect(run.exitCode).to.equal(0);
    const preflight = run.cases.find((c) => c.caseName === 'preflight');
    expect(preflight?.tier).to.equal('preflight');
    for (const node of ['host', 'guest', 'tgen']) {
      const details = preflight?.details[node] as { role: string; kernelRelease: string; checks: CheckRecord[] };
      const expectedIds = node === 'tgen' ? FORWARDING.map((c) => c.id) : ALL_CHECKS.map((c) => c.id);
      expect(details.checks.map((c) => c.id), node).to.deep.equal(expectedIds);
      for (const c of details.checks) {
        expect(['pass', 'fail', 'unknown', 'not-applicable'], `${node} ${c.id}`).to.include(c.outcome);
        if (c.outcome === 'fail') expect(c.fix, `${node} ${c.id}`).to.be.a('string').and.not.empty;
        if (c.outcome === 'unknown' || c.outcome === 'not-applicable') expect(c.reason, `${node} ${c.id}`).to.be.a('string').and.not.empty;
      }
      if (node === 'host') expect(details.checks.find((c) => c.id === 'kernel.preempt-rt')?.outcome).to.equal('fail');
      expect(preflight?.rawOutputs).to.include(`preflight/${node}/snapshot.txt`);
      expect(existsSync(join(runDir, 'preflight', node, 'snapshot.txt'))).to.equal(true);
    }
  });

  it('leaves no namespace and no process of the lab behind', async () => {
    const { stdout } = await execa('ip', ['netns', 'list']);
    const { stdout: ps } = await execa('ps', ['-eo', 'args']);
    expect(ps).not.to.include(`${REPO_ROOT}.lab/`);
    expect(ps).not.to.match(/qemu-system|kfn-vm-/);
    const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));
    expect(stdout.split('\n').filter((ns) => ns.startsWith(`${prefix}-`))).to.deep.equal([]);
  });
});
