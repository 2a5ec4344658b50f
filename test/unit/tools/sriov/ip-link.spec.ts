import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseIpLinkShow } from '../../../../lib/tools/sriov/ip-link.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/sriov/${name}`, import.meta.url), 'utf8');

describe('tools/sriov parseIpLinkShow', () => {
  it('reads the PF and its VF table in the iproute2 >= 5.3 format', () => {
    const pf = parseIpLinkShow(fixture('ip-d-link-show-i40e-2vfs.txt'));
    expect(pf).to.include({ ifindex: 6, name: 'ens1f0', mtu: 1500, mac: '3c:fd:fe:a0:21:60', pci: '0000:3b:00.0' });
    expect(pf.flags).to.include('UP');
    expect(pf.vfs).to.deep.equal([
      { vf: 0, mac: '02:6b:66:6e:00:01', vlan: 100, qos: 0, spoofchk: false, trust: true, linkState: 'auto', maxTxRateMbps: 0, minTxRateMbps: 0 },
      { vf: 1, mac: '00:00:00:00:00:00', vlan: 0, qos: 0, spoofchk: true, trust: false, linkState: 'auto', maxTxRateMbps: 0, minTxRateMbps: 0 },
    ]);
  });

  it('reads the older "vf N MAC" format with qos and rates', () => {
    const pf = parseIpLinkShow(fixture('ip-link-show-ixgbe-old-format.txt'));
    expect(pf.pci).to.equal(null);
    expect(pf.vfs[0]).to.include({ vf: 0, mac: '52:54:00:12:34:56', vlan: 20, qos: 3, spoofchk: true, trust: false });
    expect(pf.vfs[1]).to.include({ vf: 1, maxTxRateMbps: 1000, linkState: 'disable' });
  });

  it('reads a PF without VFs as an empty table', () => {
    const pf = parseIpLinkShow(fixture('ip-d-link-show-no-vfs.txt'));
    expect(pf).to.include({ name: 'ens1f1', pci: '0000:3b:00.1' });
    expect(pf.vfs).to.deep.equal([]);
  });

  it('leaves settings the driver does not report as unknown', () => {
    const pf = parseIpLinkShow('6: p: <UP> mtu 1500 qdisc mq\n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n    vf 3     link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n');
    expect(pf.vfs[0]).to.include({ vf: 3, spoofchk: null, trust: null, linkState: null });
  });

  it('refuses output it cannot vouch for', () => {
    expect(() => parseIpLinkShow('')).to.throw(ToolOutputParseError, /first line/);
    expect(() => parseIpLinkShow('Device "ens9" does not exist.\n')).to.throw(ToolOutputParseError, /first line/);
    const head = '6: p: <UP> mtu 1500 qdisc mq\n';
    expect(() => parseIpLinkShow(`${head}    vf 0 MAC zz:00:00:00:00:00\n`)).to.throw(ToolOutputParseError, /vf N/);
    expect(() => parseIpLinkShow(`${head}    vf 0 MAC 02:00:00:00:00:01, spoof checking maybe\n`)).to.throw(ToolOutputParseError, /unknown VF setting/);
    expect(() => parseIpLinkShow(`${head}    vf 0 MAC 02:00:00:00:00:01\n    vf 0 MAC 02:00:00:00:00:02\n`)).to.throw(ToolOutputParseError, /twice/);
    expect(() => parseIpLinkShow(`${head}7: q: <UP> mtu 1500\n`)).to.throw(ToolOutputParseError, /second link/);
  });
});
