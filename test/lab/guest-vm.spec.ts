// The lab guest as a QEMU VM the run launches itself (issue 13): device interrupts into its
// virtio-net NIC, a guest that never boots, a kernel that does not exist, an untuned launch
// that the audit must catch, and SIGTERM in the middle of the guest's measurement. One lab
// serves them all; each run launches its own VM and must leave nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';
import { LAB_VM_DEVICE } from '../../lib/cases/device-interrupt-plan.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { RunResult } from '../../lib/results/model.ts';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { buildNewcArchive } from '../support/newc.ts';

const BIN = fileURLToPath(new URL('../../bin/kvmfornfv-test.js', import.meta.url));
const HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages';
const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));
const hostNs = `${prefix}-host`;

function readRun(resultsRoot: string): { run: RunResult; dir: string } {
  const [id] = readdirSync(resultsRoot).filter((f) => f !== 'history.jsonl');
  const dir = join(resultsRoot, id ?? 'missing');
  return { run: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult, dir };
}

// Nothing of a launched guest may outlive its run: no QEMU, no tap, no hugepage.
async function expectNoGuestLeft(hugepagesBefore: string): Promise<void> {
  const { stdout: ps } = await execa('ps', ['-eo', 'comm,args']);
  expect(ps).not.to.match(/qemu-system|kfn-vm-/);
  const links = await execa('ip', ['-n', hostNs, '-o', 'link'], { reject: false });
  expect(links.stdout).not.to.include('vmtap-gi');
  expect(readFileSync(HUGEPAGES, 'utf8')).to.equal(hugepagesBefore);
}

describe('lab: the guest is a QEMU VM the run launches', function () {
  this.timeout(900_000);
  const work = mkdtempSync(join(tmpdir(), 'kfn-lab-vm-'));
  let pod: { nodes: Array<Record<string, any>> } & Record<string, unknown>;
  let hugepagesBefore: string;

  // A copy of the lab's pod.yaml with the guest's launch: section changed.
  const podWith = (name: string, change: (launch: Record<string, any>) => void): string => {
    const copy = structuredClone(pod);
    change(copy.nodes.find((n) => n.name === 'guest')?.launch);
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, dump(copy));
    return file;
  };

  before(async () => {
    const up = await runCliProcess(['lab', 'up'], { timeoutMs: 600_000 });
    expect(up.exitCode, up.stderr).to.equal(0);
    pod = load(readFileSync(join(REPO_ROOT, '.lab', 'pod.yaml'), 'utf8')) as typeof pod;
    hugepagesBefore = readFileSync(HUGEPAGES, 'utf8');
  });

  // A failed test shows what its runs did: the end of each run.log, with the timestamps.
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const f of readdirSync(work, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('run.log'))) {
      const stamped = readFileSync(join(work, f), 'utf8').split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
      console.log(`--- ${f}\n${stamped.slice(-100).map((l) => l.slice(0, 200)).join('\n')}`);
    }
  });

  after(async () => {
    await runCliProcess(['lab', 'down'], { timeoutMs: 300_000 });
    rmSync(work, { recursive: true, force: true });
  });

  it('delivers the 1 ms interrupts to the VM\'s virtio-net NIC: receive-to-handler measured, wire-to-handler withheld (no shared clock)', async () => {
    const results = join(work, 'irq');
    const cli = await runCliProcess(['run', '-t', 'device_interrupt', '--duration', '3', '--results', results], { timeoutMs: 400_000 });
    expect(cli.exitCode, `${cli.stdout}\n${cli.stderr}`).to.equal(0);
    const { run } = readRun(results);
    const details = run.cases[0]?.details.guest as Record<string, any>;
    expect(details.device).to.equal(LAB_VM_DEVICE);
    expect(details.clock_case.domain).to.equal('unsynchronised');
    expect(details.counts.received).to.be.greaterThan(2500);
    expect(details.wire_to_handler.summary).to.equal(null);
    expect(details.receive_to_handler.summary.p99).to.be.a('number');
    expect(run.nodes.guest?.launch?.nicOptions.gi).to.deep.equal({ mac: (pod.nodes.find((n) => n.name === 'guest')?.ports as Array<{ name: string; mac: string }>).find((p) => p.name === 'gi')?.mac });
    const wire = run.cases[0]?.testcases.find((t) => t.title.includes('wire_to_handler_p99'));
    expect(wire?.status).to.equal('skip');
    expect(wire?.message).to.match(/clock_domain is unsynchronised/);
    await expectNoGuestLeft(hugepagesBefore);
  });

  it('reports a guest that never finishes booting as an error naming the stage, within its boot timeout, never a hang', async () => {
    // An initramfs whose init says who it is and then waits forever: the kernel boots, userspace never gets ready.
    const src = join(work, 'init.c');
    writeFileSync(src, '#include <stdio.h>\n#include <unistd.h>\nint main(void){FILE*f=fopen("/dev/console","w");if(f){fputs("kfn-test-init: an init that never finishes\\n",f);fclose(f);}for(;;)pause();}\n');
    execFileSync('gcc', ['-static', '-O2', '-o', join(work, 'init'), src]);
    const initrd = join(work, 'never-boots.cpio');
    writeFileSync(initrd, buildNewcArchive([{ name: 'dev', mode: 0o40755 }, { name: 'init', mode: 0o100755, data: readFileSync(join(work, 'init')) }]));
    const file = podWith('never-boots', (l) => Object.assign(l, { initrd, accelerator: 'tcg', boot_timeout_s: 45 }));
    const results = join(work, 'never');
    const started = Date.now();
    const cli = await runCliProcess(['run', '-t', 'timer', '--pod', file, '--thresholds', 'lab', '--duration', '2', '--results', results], { timeoutMs: 300_000 });
    const elapsedS = (Date.now() - started) / 1000;
    expect(cli.exitCode, cli.stderr).to.equal(70);
    const { run } = readRun(results);
    const guestTests = run.cases[0]?.testcases.filter((t) => t.title.startsWith('guest:')) ?? [];
    expect(guestTests.length).to.be.greaterThan(0);
    for (const t of guestTests) {
      expect(t.status).to.equal('error');
      expect(t.message).to.match(/guest guest on host did not come up within 45 s under TCG: the guest reached userspace but never reported ready; last console line: "kfn-test-init: an init that never finishes"/);
    }
    expect(run.cases[0]?.testcases.filter((t) => t.title.startsWith('host:') && t.status === 'pass').length).to.be.greaterThan(0);
    expect(elapsedS).to.be.below(200);
    await expectNoGuestLeft(hugepagesBefore);
  });

  it('reports a kernel path that does not exist as QEMU\'s own words, at once', async () => {
    const file = podWith('no-kernel', (l) => Object.assign(l, { kernel: '/nonexistent/vmlinuz', accelerator: 'tcg' }));
    const results = join(work, 'nokernel');
    const cli = await runCliProcess(['run', '-t', 'timer', '--pod', file, '--thresholds', 'lab', '--duration', '2', '--results', results], { timeoutMs: 200_000 });
    expect(cli.exitCode).to.equal(70);
    const { run } = readRun(results);
    const guest = run.cases[0]?.testcases.find((t) => t.title.startsWith('guest:'));
    expect(guest?.message).to.match(/did not boot: TCG: QEMU exited: .*could not (open|load) kernel.*\/nonexistent\/vmlinuz/i);
    await expectNoGuestLeft(hugepagesBefore);
  });

  it('catches an untuned launch: with pin_threads false the audit fails the placement checks it passes otherwise', async () => {
    const file = podWith('unpinned', (l) => Object.assign(l, { pin_threads: false, accelerator: 'tcg' }));
    const results = join(work, 'unpinned');
    const cli = await runCliProcess(['run', '-t', 'preflight', '--pod', file, '--thresholds', 'lab', '--results', results], { timeoutMs: 300_000 });
    expect(cli.exitCode, cli.stderr).to.equal(0);
    const { run } = readRun(results);
    const checks = (run.cases[0]?.details.host as { checks: Array<{ id: string; outcome: string; found?: string }> }).checks;
    expect(checks.find((c) => c.id === 'guest-placement.emulator-pinning')?.outcome).to.equal('fail');
    expect(checks.find((c) => c.id === 'guest-placement.vcpu-pinning')?.outcome).to.equal('fail');
    expect(run.nodes.guest?.launch?.vcpus.every((v) => v.policy === 'SCHED_OTHER')).to.equal(true);
    await expectNoGuestLeft(hugepagesBefore);
  });

  it('on SIGTERM during the guest measurement: exit 70, the guest\'s partial figures kept, no QEMU, tap or hugepage left', async () => {
    const results = join(work, 'sigterm');
    const child = execa(process.execPath, [BIN, 'run', '-t', 'timer', '--duration', '60', '--results', results], { reject: false, all: true, cwd: REPO_ROOT });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the guest measurement never started:\n${seen}`)), 400_000);
      child.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('cyclictest on guest: started')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 5000));
    const sent = Date.now();
    process.kill(child.pid as number, 'SIGTERM');
    const result = await child;
    expect(result.exitCode, seen).to.equal(70);
    expect(Date.now() - sent).to.be.below(60_000);
    const { run } = readRun(results);
    expect(run.notes.join('\n')).to.include('aborted by SIGTERM');
    const guest = run.cases[0]?.details.guest as { overall: { summary: { samples: number } } } | undefined;
    expect(guest?.overall.summary.samples ?? 0).to.be.greaterThan(100);
    await expectNoGuestLeft(hugepagesBefore);
  });
});
