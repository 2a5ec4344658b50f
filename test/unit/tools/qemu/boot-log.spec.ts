import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { describeBootStage, readBootLog, READY_MARKER } from '../../../../lib/tools/qemu/boot-log.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/qemu/${name}`, import.meta.url), 'utf8');

describe('tools/qemu boot log', () => {
  it('follows the recorded TCG boot of the RT guest to userspace, and names its kernel', () => {
    const r = readBootLog(fixture('tcg-boot-rt-6.1.console.log'));
    expect(r.stage).to.equal('userspace');
    expect(r.kernelRelease).to.equal('6.1.0-57-rt-amd64');
    expect(r.preemptRt).to.equal(true);
    expect(r.fatal).to.equal(undefined);
    expect(r.lastLine).to.match(/powernow_k8/);
    expect(r.lastLine).not.to.match(/\x1b/);
  });

  it('sees the ready marker as the last stage', () => {
    const r = readBootLog(`${fixture('tcg-boot-rt-6.1.console.log')}\n${READY_MARKER} 6.1.0-57-rt-amd64\n`);
    expect(r.stage).to.equal('ready');
  });

  it('reports the KVM hang of this machine as a kernel that never started, with its last line', () => {
    const r = readBootLog(fixture('kvm-pvm-hang.console.log'));
    expect(r.stage).to.equal('firmware');
    expect(describeBootStage(r)).to.equal('the guest kernel never started; last console line: "Probing EDD (edd=off to disable)... ok"');
    expect(describeBootStage(readBootLog(''))).to.equal('the guest printed nothing on its serial console');
  });

  it('names a panic and a missing root device as fatal, whatever came after', () => {
    const head = fixture('tcg-boot-rt-6.1.console.log').split('\n').slice(0, 380).join('\n');
    const panic = readBootLog(`${head}\n[    9.1] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.\n[    9.2] ---[ end Kernel panic ]---\n`);
    expect(panic.fatal).to.equal('Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.');
    expect(describeBootStage(panic)).to.match(/^the guest failed to boot: "Kernel panic/);
    // initramfs-tools scripts/local, Debian 12
    const noRoot = readBootLog(`${head}\nGave up waiting for root file system device.  Common problems:\nALERT!  /dev/vda does not exist.  Dropping to a shell!\n`);
    expect(noRoot.fatal).to.equal('Gave up waiting for root file system device.  Common problems:');
  });
});
