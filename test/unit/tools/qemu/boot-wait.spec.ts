import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildBootWaitScript, parseBootWait } from '../../../../lib/tools/qemu/boot-wait.ts';

// The script runs in a local sh against a console file, as it would on the host.
function run(input: { stage: 'kernel' | 'ready'; console?: string; pid?: number; timeoutS?: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kfn-boot-wait-'));
  const consolePath = join(dir, 'console.log');
  if (input.console !== undefined) writeFileSync(consolePath, input.console);
  const script = buildBootWaitScript({ stage: input.stage, consolePath, pid: input.pid ?? process.pid, forwardPort: 1, timeoutS: input.timeoutS ?? 1 });
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

describe('tools/qemu boot wait', () => {
  it('reaches the kernel stage on "Linux version" and the ready stage on the image marker', () => {
    expect(parseBootWait(run({ stage: 'kernel', console: '[    0.000000] Linux version 6.1.0-57-rt-amd64 (x)\n' }))).to.equal('reached');
    expect(parseBootWait(run({ stage: 'ready', console: 'kfn-guest-ready 6.1.0-57-rt-amd64\n' }))).to.equal('reached');
  });

  it('stops at a fatal line or when QEMU is gone, and times out otherwise', () => {
    expect(parseBootWait(run({ stage: 'ready', console: '[ 9.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n' }))).to.equal('fatal');
    expect(parseBootWait(run({ stage: 'kernel', console: '', pid: 2 ** 22 + 1 }))).to.equal('exited');
    expect(parseBootWait(run({ stage: 'kernel', console: 'Probing EDD (edd=off to disable)... ok\n', timeoutS: 1 }))).to.equal('timeout');
  });

  it('bounds the wait by the clock, not by a count of loops that a slow check inside could stretch', () => {
    const script = buildBootWaitScript({ stage: 'ready', consolePath: '/c', pid: 7, forwardPort: 10022, timeoutS: 45 });
    expect(script).to.match(/^end=\$\(\(\$\(date \+%s\) \+ 45\)\)$/m);
    expect(script).to.contain('while [ "$(date +%s)" -lt "$end" ]');
  });

  it('rejects output without a verdict', () => {
    expect(() => parseBootWait('sh: 1: grep: not found\n')).to.throw(/expected reached, exited, fatal or timeout/);
  });
});
