// The Device Interrupt Test end to end on the embedded lab pod, as CI runs it: the CLI builds
// the lab, builds both agents on their nodes over SSH, sends 1 ms frames tgen:ti -> guest:gi,
// writes its reports and removes the lab. junit.xml is read as Jenkins would, results.json as a tool.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { REPO_ROOT, runCliProcess } from '../support/cli.ts';
import { readJenkinsJunit, readMeasurementTags } from '../support/jenkins-junit-reader.ts';
import { LAB_DEVICE } from '../../lib/cases/device-interrupt-plan.ts';
import type { DeviceInterruptDetails } from '../../lib/tools/irq-agent/details.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';
import type { RunResult } from '../../lib/results/model.ts';

const DURATION_S = 3;

describe('lab: run -t device_interrupt', function () {
  this.timeout(300_000);
  const resultsRoot = mkdtempSync(join(tmpdir(), 'kfn-lab-irq-'));
  let exitCode: number;
  let runDir: string;
  let output: string;

  before(async () => {
    const run = await runCliProcess(['run', '-t', 'device_interrupt', '--duration', String(DURATION_S), '--lab-guest', 'namespace', '--results', resultsRoot], { timeoutMs: 280_000 });
    exitCode = run.exitCode;
    output = `${run.stdout}\n${run.stderr}`;
    const [id] = readdirSync(resultsRoot);
    runDir = join(resultsRoot, id ?? 'missing');
  });

  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  it('ends with 0 or, if the VM spiked past the lab limits, 68; never an error', () => {
    expect([0, 68], output).to.include(exitCode);
  });

  it('writes junit.xml with the measured test and one test per lab limit, no errors, key figures as measurements', () => {
    const cases = readJenkinsJunit(readFileSync(join(runDir, 'junit.xml'), 'utf8')).flatMap((s) => s.cases);
    expect(new Set(cases.map((c) => `${c.packageName}|${c.simpleClassName}`))).to.deep.equal(new Set(['kvmfornfv.latency|device_interrupt']));
    expect(cases.map((c) => c.name)).to.deep.equal([
      'tgen -> guest: kfn-irqrecv measured the interrupts',
      'tgen -> guest: wire_to_handler_p99 ≤ 20 ms (assert)',
      'tgen -> guest: receive_to_handler_p99 ≤ 20 ms (assert)',
      'tgen -> guest: wire_to_handler_max ≤ 250 ms (monitor)',
      'tgen -> guest: missed ≤ 0 (assert)',
    ]);
    expect(cases.filter((c) => c.failedBy === 'error').map((c) => c.name)).to.deep.equal([]);
    const measured = cases[0]!;
    expect(measured.status).to.equal('PASSED');
    // What Jenkins keeps of a passing test's output still carries the first figures.
    expect(readMeasurementTags(measured.stdout ?? '')).to.have.property('wire_to_handler_p99_ns').that.matches(/^\d+$/);
  });

  it('writes results.json with both figures in ns, their histograms, the frame counts, the clock case and the device', () => {
    const run = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResult;
    const irq = run.cases.find((c) => c.caseName === 'device_interrupt');
    const d = irq?.details.guest as DeviceInterruptDetails & { generator_node: string };
    expect(d.generator_node).to.equal('tgen');
    expect(d.device).to.equal(LAB_DEVICE);
    expect(d.clock_case).to.deep.include({ domain: 'same-host', wire_clock: 'CLOCK_REALTIME' });
    expect(d.timestamp_kind).to.equal('software');
    const c = d.counts;
    expect(c.sequence_numbers).to.equal(DURATION_S * 1000);
    expect([c.sent, c.withheld, c.send_errors]).to.deep.equal([DURATION_S * 1000, 0, 0]);
    expect(c.missed_seqs).to.equal(c.missed + c.withheld);
    expect(c.unique + c.missed).to.equal(c.sequence_numbers);
    for (const f of ['wire_to_handler', 'receive_to_handler'] as const) {
      const s = d[f].summary!;
      expect(s.unit).to.equal('ns');
      expect(s.samples).to.equal(c.unique);
      expect(s.min!).to.be.greaterThan(0);
      expect(s.p50!).to.be.at.most(s.p99!).and.at.most(s.max!);
      expect(d[f].buckets.reduce((sum, b) => sum + b[2], 0)).to.equal(s.samples);
    }
    // The software receive stamp is taken after the frame left the sender: it cannot be older.
    expect(d.receive_to_handler.summary!.p50!).to.be.at.most(d.wire_to_handler.summary!.p50!);
    expect(run.tools.guest?.['kfn-irqrecv']).to.equal('1.0.0');
    expect(run.tools.tgen?.['kfn-irqgen']).to.equal('1.0.0');
    expect(irq?.rawOutputs).to.include.members(['device_interrupt/guest/kfn-irqrecv.stdout', 'device_interrupt/tgen/kfn-irqgen-guest.stdout']);
  });

  it('leaves no agent, namespace or lab process behind', async () => {
    const { stdout } = await execa('ip', ['netns', 'list']);
    const { stdout: ps } = await execa('ps', ['-eo', 'args']);
    expect(ps).not.to.include(`${REPO_ROOT}.lab/`);
    expect(ps).not.to.match(/kfn-irq(gen|recv) /);
    const { prefix } = deriveLabNames(realpathSync(REPO_ROOT));
    expect(stdout.split('\n').filter((ns) => ns.startsWith(`${prefix}-`))).to.deep.equal([]);
  });
});
