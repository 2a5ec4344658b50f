import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseOvsVersion } from '../../../../lib/tools/ovs/version.ts';

describe('tools/ovs parseOvsVersion', () => {
  it('reads the daemon and release that answered (recorded, OVS 3.1)', () => {
    const text = readFileSync(new URL('../../../fixtures/ovs/appctl-version.txt', import.meta.url), 'utf8');
    expect(parseOvsVersion(text)).to.deep.equal({ program: 'ovs-vswitchd-dpdk', version: '3.1.0' });
  });

  it('reads ovs-vsctl --version, whose schema line follows', () => {
    expect(parseOvsVersion('ovs-vsctl (Open vSwitch) 2.17.9\nDB Schema 8.3.0\n')).to.deep.equal({ program: 'ovs-vsctl', version: '2.17.9' });
  });

  it('refuses anything else', () => {
    expect(() => parseOvsVersion('ovs-appctl: cannot connect to "x" (No such file or directory)\n')).to.throw(ToolOutputParseError, /Open vSwitch/);
    expect(() => parseOvsVersion('')).to.throw(ToolOutputParseError);
  });
});
