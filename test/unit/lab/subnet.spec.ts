import { expect } from 'chai';
import { LabError } from '../../../lib/errors.ts';
import { overlaps, parseIpv4Cidr, parseTakenNetworks, pickFreeOctet } from '../../../lib/lab/subnet.ts';

// Recorded verbatim on the Debian 12 lab machine (iproute2 6.1.0-3) while a lab of
// another checkout (prefix kfn1480, 198.18.12.0/24) was up:
// `ip -j -4 addr show` and `ip -j -4 route show`.
const IP_ADDR_JSON =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":4,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1400,"qdisc":"pfifo_fast","operstate":"UP","group":"default","txqlen":1000,"addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24,"broadcast":"192.0.2.255","scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":56,"ifname":"kfn1480-br","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"addr_info":[{"family":"inet","local":"198.18.12.1","prefixlen":24,"scope":"global","label":"kfn1480-br","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]';
const IP_ROUTE_JSON =
  '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]},{"dst":"198.18.12.0/24","dev":"kfn1480-br","protocol":"kernel","scope":"link","prefsrc":"198.18.12.1","flags":[]}]';

describe('lab subnet', () => {
  describe('parseIpv4Cidr', () => {
    it('masks the address to its network', () => {
      expect(parseIpv4Cidr('198.18.12.1/24')).to.deep.equal({ base: ((198 * 256 + 18) * 256 + 12) * 256, prefixLen: 24 });
      expect(parseIpv4Cidr('10.0.0.5')).to.deep.equal({ base: 10 * 2 ** 24 + 5, prefixLen: 32 });
    });
    it('rejects malformed addresses', () => {
      for (const bad of ['198.18.300.0/24', '1.2.3.4/33', 'default', '1.2.3/24', '']) {
        expect(() => parseIpv4Cidr(bad), bad).to.throw(LabError, /IPv4/);
      }
    });
  });

  describe('overlaps', () => {
    it('sees a /15 covering a /24 and tells apart neighbouring /24s', () => {
      expect(overlaps(parseIpv4Cidr('198.18.0.0/15'), parseIpv4Cidr('198.19.7.0/24'))).to.equal(true);
      expect(overlaps(parseIpv4Cidr('198.18.7.0/24'), parseIpv4Cidr('198.18.7.9/32'))).to.equal(true);
      expect(overlaps(parseIpv4Cidr('198.18.7.0/24'), parseIpv4Cidr('198.18.8.0/24'))).to.equal(false);
    });
  });

  describe('parseTakenNetworks', () => {
    it('collects addresses and non-default routes', () => {
      const taken = parseTakenNetworks(IP_ADDR_JSON, IP_ROUTE_JSON);
      expect(taken.map((t) => t.cidr)).to.deep.equal([
        '127.0.0.1/8',
        '192.0.2.2/24',
        '198.18.12.1/24',
        '192.0.2.0/24',
        '198.18.12.0/24',
      ]);
      expect(taken[2]!.owner).to.equal('address on kfn1480-br');
    });
    it('rejects output that is not JSON', () => {
      expect(() => parseTakenNetworks('1: lo: <LOOPBACK>', '[]')).to.throw(LabError, /expected JSON from `ip -j -4 addr`/);
      expect(() => parseTakenNetworks('[]', '{}')).to.throw(LabError, /JSON array/);
    });
  });

  describe('pickFreeOctet', () => {
    const taken = parseTakenNetworks(IP_ADDR_JSON, IP_ROUTE_JSON);
    it('keeps the preferred octet when it is free', () => {
      expect(pickFreeOctet({ preferred: 33, taken })).to.equal(33);
    });
    it('moves past a /24 another lab already uses', () => {
      expect(pickFreeOctet({ preferred: 12, taken })).to.equal(13);
    });
    it('wraps from 255 to 0', () => {
      expect(pickFreeOctet({ preferred: 255, taken: [{ cidr: '198.18.255.0/24', owner: 'x' }] })).to.equal(0);
    });
    it('fails naming the clash when the whole range is routed elsewhere', () => {
      expect(() => pickFreeOctet({ preferred: 5, taken: [{ cidr: '198.18.0.0/15', owner: 'route to 198.18.0.0/15' }] })).to.throw(
        LabError,
        /198\.18\.5\.0\/24 clashes with route to 198\.18\.0\.0\/15/,
      );
    });
  });
});
