import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseSysinfo } from '../../../../lib/tools/sysinfo/parse.ts';
import { ToolOutputParseError } from '../../../../lib/errors.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/sysinfo/${name}`, import.meta.url), 'utf8');
const node = { name: 'host', role: 'host' };

describe('parseSysinfo', () => {
  it('reads the build under test from a recorded Debian 12 VM probe', () => {
    const info = parseSysinfo(fixture('debian12-vm.txt'), node);
    expect(info.kernelRelease).to.equal('6.18.44-fc-v669');
    expect(info.kernelVersion).to.equal('#1 SMP PREEMPT_DYNAMIC @0');
    expect(info.preemptRt).to.equal(false);
    expect(info.kind).to.equal('vm');
    expect(info.kindEvidence).to.contain('kvm');
    expect(info.qemuVersion).to.equal(null);
    expect(info.cpus).to.equal(2);
    expect(info.cmdline).to.match(/^mitigations=auto/);
  });

  it('says namespace when ip netns identify names one, and PREEMPT_RT from /sys/kernel/realtime', () => {
    const text = fixture('debian12-vm.txt')
      .replace('@@kfn-sysinfo:realtime\n', '@@kfn-sysinfo:realtime\n1\n')
      .replace('@@kfn-sysinfo:netns\n', '@@kfn-sysinfo:netns\nkfn261c-guest\n');
    const info = parseSysinfo(text, node);
    expect(info.kind).to.equal('namespace');
    expect(info.kindEvidence).to.contain('kfn261c-guest');
    expect(info.preemptRt).to.equal(true);
  });

  it('falls back to uname -v for PREEMPT_RT and leaves unknowns null', () => {
    const text = ['@@kfn-sysinfo:release', '6.1.0-53-rt-amd64', '@@kfn-sysinfo:version', '#1 SMP PREEMPT_RT Debian 6.1.153-1'].join('\n');
    const info = parseSysinfo(text, node);
    expect(info.preemptRt).to.equal(true);
    expect(info.kind).to.equal('unknown');
    expect(info.cmdline).to.equal(null);
  });

  it('rejects output that is not the probe', () => {
    expect(() => parseSysinfo('bash: line 1: syntax error\n', node)).to.throw(ToolOutputParseError, /sysinfo probe.*line 1/);
  });
});
