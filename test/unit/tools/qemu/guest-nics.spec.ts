import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { buildGuestNicScript } from '../../../../lib/tools/qemu/guest-nics.ts';

describe('tools/qemu guest NICs', () => {
  it('finds the NIC by MAC, renames it to the pod port, switches IPv6 off, addresses it and brings it up', () => {
    const script = buildGuestNicScript([{ mac: '02:88:E7:05:02:00', ifname: 'gi', address: '198.19.7.2/30' }]);
    expect(script).to.contain('= 02:88:e7:05:02:00 ]');
    expect(script).to.contain('ip link set dev "$dev" name gi');
    expect(script).to.contain('net.ipv6.conf.gi.disable_ipv6=1');
    expect(script).to.contain('ip addr replace 198.19.7.2/30 dev gi');
    execFileSync('sh', ['-n', '-c', script]);
  });

  it('quotes a name or address that would otherwise be shell syntax', () => {
    const script = buildGuestNicScript([{ mac: '02:00:00:00:00:01', ifname: 'g$(x)', address: '10.0.0.1/24;reboot' }]);
    expect(script).to.contain("name 'g$(x)'");
    expect(script).to.contain("'10.0.0.1/24;reboot'");
    expect(script).to.contain("'net.ipv6.conf.g$(x).disable_ipv6=1'");
    execFileSync('sh', ['-n', '-c', script]);
  });
});
