import { expect } from 'chai';
import { readRole, resolveRole, tryParseLineRate } from '../../../lib/config/pod-schema.ts';

describe('config/pod-schema', () => {
  const rates: Array<[unknown, number]> = [
    ['10G', 10e9],
    ['25G', 25e9],
    ['100M', 100e6],
    ['1.5G', 1.5e9],
    ['10Gbps', 10e9],
    ['10 Gbit/s', 10e9],
    ['400k', 400e3],
    ['1T', 1e12],
    [40e9, 40e9],
    ['1000', 1000],
  ];
  for (const [input, bps] of rates) {
    it(`reads line rate ${JSON.stringify(input)} as ${bps} bit/s`, () => {
      expect(tryParseLineRate(input)).to.deep.equal({ ok: true, bps });
    });
  }

  for (const input of ['10GB', 'fast', '0G', 'G', '-1G', '10X', '', 0, -5, Number.NaN, null, true]) {
    it(`rejects line rate ${JSON.stringify(input)}`, () => {
      const r = tryParseLineRate(input);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.message).to.include('expected a line rate such as "10G"');
    });
  }

  const roles: Array<[string, string | undefined]> = [
    ['host', 'host'],
    ['Compute', 'host'],
    ['COMPUTE', 'host'],
    ['guest', 'guest'],
    ['vnf', 'guest'],
    ['VNF', 'guest'],
    ['VirtualNetworkFunction', 'guest'],
    ['tgen', 'tgen'],
    ['TrafficGen', 'tgen'],
    ['trafficgen', 'tgen'],
    ['Controller', 'other'],
    ['Jumpserver', 'other'],
    // Yardstick's own pod files (opnfv/yardstick 63d0e99fa2e4, etc/yardstick/nodes/): fuel_baremetal,
    // apex_baremetal, pod.yaml.nsb.sample.ixia, standalone/pod_bm_vnf.yaml, pod_vepc_sut.yaml, trex_bm.yaml.sample.
    ['Gateway', 'other'],
    ['Opendaylight', 'other'],
    ['Opendaylight-Cluster-Leader', 'other'],
    ['IxNet', 'other'],
    ['OvsDpdk', 'other'],
    ['vnf__0', 'guest'],
    ['vnf__12', 'guest'],
    ['tg__0', 'other'],
    // Any other role is kept, unused...
    ['SGW_Node', 'other'],
    ['storage', 'other'],
    // ...unless it is one slip from a role the suite measures on.
    ['Hots', undefined],
    ['Computer', undefined],
    ['TrafficGenn', undefined],
    ['vnf_0', undefined],
    ['', undefined],
  ];
  for (const [declared, role] of roles) {
    it(`maps role "${declared}" to ${role ?? 'an error'}`, () => {
      expect(resolveRole(declared)).to.equal(role);
    });
  }

  it('names the role a slip was meant to be, and tells Yardstick roles from unknown ones', () => {
    expect(readRole('vnf_0')).to.deep.include({ misspelt: 'vnf__0' });
    expect(readRole('Computer')).to.deep.include({ misspelt: 'Compute' });
    expect(readRole('tg__1')).to.deep.include({ role: 'other' }).and.have.property('yardstick');
    expect(readRole('storage')).to.deep.include({ role: 'other', unknown: true });
  });
});
