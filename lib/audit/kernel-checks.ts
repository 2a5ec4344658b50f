// The kernel itself: a latency figure from a non-RT kernel says little about RT-KVM,
// and the kernel version is what every other finding must be read against.
import { defineCheck, failResult, passResult, type CheckDefinition } from './types.ts';
import { describeAbsence, giveUp, readCommand, tryText } from './read.ts';

export const HOST_AND_GUEST = ['host', 'guest'] as const;

const preemptRt = defineCheck({
  id: 'kernel.preempt-rt',
  title: 'PREEMPT_RT kernel',
  category: 'kernel',
  appliesTo: HOST_AND_GUEST,
  why:
    'Only a fully preemptible (PREEMPT_RT) kernel bounds how long a higher-priority task or a vCPU thread waits for the kernel: ' +
    'interrupt handlers run as threads and spinlocks can sleep, so worst-case latency drops from milliseconds to tens of microseconds.',
  expected: 'a PREEMPT_RT kernel: /sys/kernel/realtime is 1, or uname -v names PREEMPT_RT',
  howToFix: 'Boot a PREEMPT_RT kernel, e.g. Debian `linux-image-rt-amd64`, RHEL `kernel-rt`, or mainline ≥ 6.12 built with CONFIG_PREEMPT_RT=y.',
  reads: ['/sys/kernel/realtime', 'uname -r', 'uname -v'],
  evaluate(snapshot) {
    const expected = 'a PREEMPT_RT kernel: /sys/kernel/realtime is 1, or uname -v names PREEMPT_RT';
    const release = readCommand(snapshot, 'uname-r');
    const version = readCommand(snapshot, 'uname-v');
    const releaseText = release?.exitCode === 0 ? release.stdout.trim() : '(uname -r not available)';
    const versionText = version?.exitCode === 0 ? version.stdout.trim() : undefined;
    const realtime = tryText(snapshot, '/sys/kernel/realtime')?.trim();
    const found = `uname -r ${releaseText}; uname -v ${JSON.stringify(versionText ?? '(not available)')}; /sys/kernel/realtime ${
      realtime === undefined ? 'absent' : JSON.stringify(realtime)
    }`;
    const fix = 'boot a PREEMPT_RT kernel (Debian linux-image-rt-amd64, RHEL kernel-rt, or CONFIG_PREEMPT_RT=y)';
    if (realtime === '1') return passResult(expected, found);
    if (versionText !== undefined && /\bPREEMPT[_ ]RT\b/.test(versionText)) return passResult(expected, found);
    if (realtime !== undefined && realtime !== '0') giveUp(`/sys/kernel/realtime holds ${JSON.stringify(realtime.slice(0, 40))}, expected 1 or 0`, found);
    if (versionText === undefined && realtime === undefined) {
      giveUp(`neither uname -v nor /sys/kernel/realtime could be read (${describeAbsence(snapshot, '/sys/kernel/realtime')})`, found);
    }
    if (versionText === undefined) giveUp('uname -v could not be read, and /sys/kernel/realtime alone (0) is not conclusive on old RT patch sets', found);
    if (!/\bSMP\b|\bPREEMPT/.test(versionText) && realtime === undefined) {
      giveUp(`uname -v ${JSON.stringify(versionText.slice(0, 80))} does not look like a kernel version string`, found);
    }
    return failResult(expected, found, fix);
  },
});

export const kernelChecks: readonly CheckDefinition[] = [preemptRt];
