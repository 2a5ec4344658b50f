// The console as an operator reads it: a line per testcase, a failed advisory check set
// apart from a pass, the run's notes, and the verdict with its exit code.
import { expect } from 'chai';
import { formatCaseLines, formatRunSummary } from '../../../lib/report/console.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

describe('report/console', () => {
  it('prints each testcase with its mark, and the reason of what did not pass', () => {
    const run = loadRunFixture('daily-mixed');
    const lines = formatCaseLines(run.cases[0]!);
    expect(lines[0]).to.match(/^FAIL  kvmfornfv\.latency\.timer \(\d+\.\d s\)$/);
    expect(lines[1]).to.equal(`  PASS  ${run.cases[0]!.testcases[0]!.title}`);
    expect(lines[2]).to.equal(`  FAIL  ${run.cases[0]!.testcases[1]!.title} — ${run.cases[0]!.testcases[1]!.message}`);
  });

  it('says how much of a case was measuring and how much was the harness\'s overhead', () => {
    const run = loadRunFixture('daily-mixed');
    const c = { ...run.cases[0]!, durationMs: 26_200, phasesMs: { connect: 300, provision: 800, build: 0, measure: 20_100, collect: 900, judge: 100, cleanup: 500, other: 3_500 } };
    expect(formatCaseLines(c)[0]).to.equal('FAIL  kvmfornfv.latency.timer (26.2 s: measuring 20.1 s, overhead 6.1 s)');
  });

  it('marks a failed advisory check ADVIS, not PASS', () => {
    const run = loadRunFixture('lab-timer-pass');
    const tc = run.cases[0]!.testcases[0]!;
    tc.properties = { severity: 'advisory', outcome: 'fail' };
    expect(formatCaseLines(run.cases[0]!)[1]).to.equal(`  ADVIS ${tc.title}`);
  });

  it('ends with the run\'s notes, the counts and the exit code', () => {
    const run = loadRunFixture('daily-mixed');
    run.notes = ['the run could not start: the pod lock /run/kvmfornfv/pod.lock on guest is held by run X'];
    run.exitCode = 70;
    const lines = formatRunSummary(run, '/r/1');
    expect(lines).to.include('note: the run could not start: the pod lock /run/kvmfornfv/pod.lock on guest is held by run X');
    expect(lines.at(-1)).to.equal('exit code 70');
    expect(lines.at(-2)).to.equal('results: /r/1/junit.xml, /r/1/results.json');
  });
});
