import { expect } from 'chai';
import { resolveRole, tryParseLineRate } from '../../../lib/config/pod-schema.ts';

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
    ['Hots', undefined],
    ['', undefined],
  ];
  for (const [declared, role] of roles) {
    it(`maps role "${declared}" to ${role ?? 'an error'}`, () => {
      expect(resolveRole(declared)).to.equal(role);
    });
  }
});
