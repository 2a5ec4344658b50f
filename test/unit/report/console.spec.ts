// The console as an operator reads it: failures and errors one line each with their reason,
// a failed advisory check as a finding with its fix (never PASS), passed checks and skips
// folded by reason, the run's notes, and the verdict with advisory findings counted apart.
import { expect } from 'chai';
import { formatCaseLines, formatRunSummary } from '../../../lib/report/console.ts';
import { loadLabAllRun } from '../../fixtures/report/lab-runs.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

describe('report/console', () => {
  it('prints each testcase with its mark, and the reason of what did not pass', () => {
    const run = loadRunFixture('daily-mixed');
    const lines = formatCaseLines(run.cases[0]!);
    expect(lines[0]).to.match(/^FAIL  kvmfornfv\.latency\.timer \(\d+\.\d s\): 1 passed, 1 failed$/);
    expect(lines[1]).to.equal(`  PASS  ${run.cases[0]!.testcases[0]!.title}`);
    expect(lines[2]).to.equal(`  FAIL  ${run.cases[0]!.testcases[1]!.title} — ${run.cases[0]!.testcases[1]!.message}`);
  });

  it('says how much of a case was measuring and how much was the harness\'s overhead', () => {
    const run = loadRunFixture('daily-mixed');
    const c = { ...run.cases[0]!, durationMs: 26_200, phasesMs: { connect: 300, provision: 800, build: 0, measure: 20_100, collect: 900, judge: 100, cleanup: 500, other: 3_500 } };
    expect(formatCaseLines(c)[0]).to.match(/^FAIL  kvmfornfv\.latency\.timer \(26\.2 s: measuring 20\.1 s, overhead 6\.1 s\)/);
  });

  // The recorded lab run (lab-all.run.source.md): the lab kernel is not PREEMPT_RT and has no isolcpus.
  it('shows a failed advisory check as ADVIS with what was expected, what was found and the fix', () => {
    const preflight = loadLabAllRun().cases[0]!;
    const lines = formatCaseLines(preflight);
    expect(lines[0]).to.match(/^PASS  kvmfornfv\.preflight\.preflight \(1\.6 s\): 8 passed, 28 advisory, 30 skipped$/);
    const rt = lines.find((l) => l.includes('host: kernel.preempt-rt'));
    expect(rt).to.equal('  ADVIS host: kernel.preempt-rt PREEMPT_RT kernel — expected a PREEMPT_RT kernel: /sys/kernel/realtime is 1, or uname -v names PREEMPT_RT; found uname -r 6.18.44-fc-v1300; uname -v "#1 SMP PREEMPT_DYNAMIC @0"; /sys/kernel/realtime absent; fix: boot a PREEMPT_RT kernel (Debian linux-image-rt-amd64, RHEL kernel-rt, or CONFIG_PREEMPT_RT=y)');
    expect(lines.filter((l) => l.startsWith('  ADVIS '))).to.have.length(28);
    // Not one advisory finding is printed as a pass, alone or in the passed group.
    for (const tc of preflight.testcases.filter((t) => t.properties.severity === 'advisory' && t.properties.outcome === 'fail')) {
      expect(lines.filter((l) => l.includes(tc.title) || l.includes(String(tc.properties.check))).every((l) => !l.startsWith('  PASS'))).to.equal(true);
    }
  });

  it('folds passed checks into one line and skipped testcases into one line per reason, naming each', () => {
    const lines = formatCaseLines(loadLabAllRun().cases[0]!);
    expect(lines.filter((l) => l.startsWith('  PASS '))).to.deep.equal([
      '  PASS  host: runtime.housekeeping, runtime.irqbalance, runtime.nmi-watchdog, runtime.ksm; guest: runtime.housekeeping, runtime.irqbalance, runtime.nmi-watchdog, runtime.ksm (8)',
    ]);
    expect(lines).to.include('  SKIP  host: guest-placement.vcpu-pinning, guest-placement.emulator-pinning, guest-placement.memory-locked, guest-placement.hugepage-backing, guest-placement.cpu-model (5) — could not be decided: no guest found on this host: no virsh dumpxml output and no QEMU process (found: no guest)');
    expect(lines).to.include('  SKIP  host: forwarding.sriov-vfs; guest: forwarding.sriov-vfs; tgen: forwarding.sriov-vfs (3) — does not apply: applies only where SR-IOV is configured');
    const skips = lines.filter((l) => l.startsWith('  SKIP '));
    // 30 skipped checks, 14 distinct reasons; a long reason is cut (junit.xml has it whole).
    expect(skips).to.have.length(14);
    expect(skips.every((l) => l.length < 400)).to.equal(true);
    expect(lines).to.have.length(1 + 28 + 1 + 14);
  });

  it('ends with the run\'s notes, the counts with advisory findings apart from passes, and the exit code', () => {
    const run = loadRunFixture('daily-mixed');
    run.notes = ['the run could not start: the pod lock /run/kvmfornfv/pod.lock on guest is held by run X'];
    run.exitCode = 70;
    const lines = formatRunSummary(run, '/r/1');
    expect(lines).to.include('note: the run could not start: the pod lock /run/kvmfornfv/pod.lock on guest is held by run X');
    expect(lines.at(-1)).to.equal('exit code 70');
    expect(lines.at(-2)).to.equal('results: /r/1/junit.xml, /r/1/results.json');
    const lab = formatRunSummary(loadLabAllRun(), '/r/2');
    expect(lab).to.include('44 passed, 28 advisory, 0 failed, 0 errors, 37 skipped');
    expect(lab).to.include('28 advisory findings (ADVIS above): checks the threshold profile makes advisory failed; they do not fail the run, and each names its fix');
  });
});
