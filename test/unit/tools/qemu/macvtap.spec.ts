// The macvtap a VM owns a host link through: created in passthru mode, its character device
// made in the guest's folder from the numbers in sysfs (the kernel's /dev/tap<ifindex> names
// collide across network namespaces), removed again whatever was made.
import { expect } from 'chai';
import { buildMacvtapAddScript, buildMacvtapName, buildMacvtapRemoveScript, parseMacvtapDev } from '../../../../lib/tools/qemu/macvtap.ts';
import { ToolOutputParseError } from '../../../../lib/errors.ts';

describe('tools/qemu macvtap', () => {
  it('names the macvtap after the guest port, within the 15 characters Linux keeps', () => {
    expect(buildMacvtapName('g0')).to.equal('kfnmv-g0');
    expect(buildMacvtapName('a-very-long-port')).to.equal('kfnmv-a-very-lo');
    expect(() => buildMacvtapName('a b')).to.throw(/interface name/);
  });

  it('adds it in passthru mode on the link, then makes the device node from sysfs', () => {
    const script = buildMacvtapAddScript({ link: 'g0', name: 'kfnmv-g0', nodePath: '/tmp/kfn-r/guest-guest/kfnmv-g0.tap' }).split('\n');
    expect(script).to.deep.equal([
      'set -e',
      'ip link add link g0 name kfnmv-g0 type macvtap mode passthru',
      'ip link set dev g0 up',
      'ip link set dev kfnmv-g0 up',
      'dev=$(cat /sys/class/net/kfnmv-g0/macvtap/tap*/dev)',
      'mknod -m 600 /tmp/kfn-r/guest-guest/kfnmv-g0.tap c "${dev%%:*}" "${dev##*:}"',
      'echo "macvtap-dev $dev"',
    ]);
    expect(() => buildMacvtapAddScript({ link: 'g0; reboot', name: 'kfnmv-g0', nodePath: '/x' })).to.throw(/host link/);
  });

  it('removes the node and the macvtap only when they are there', () => {
    expect(buildMacvtapRemoveScript({ name: 'kfnmv-g0', nodePath: '/tmp/kfn-r/kfnmv-g0.tap' })).to.equal('rm -f /tmp/kfn-r/kfnmv-g0.tap\nif ip link show dev kfnmv-g0 >/dev/null 2>&1; then ip link del dev kfnmv-g0; fi');
  });

  it('reads the device numbers the add script printed (246:1 for the first macvtap on the lab kernel 6.18.44, seen 2026-12-07), and refuses anything else', () => {
    expect(parseMacvtapDev('macvtap-dev 246:1\n')).to.deep.equal({ major: 246, minor: 1 });
    expect(() => parseMacvtapDev('cat: /sys/class/net/kfnmv-g0/macvtap/tap*/dev: No such file or directory\n')).to.throw(ToolOutputParseError, /macvtap-dev/);
  });
});
