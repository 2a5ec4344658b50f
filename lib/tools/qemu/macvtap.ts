// A macvtap in passthru mode on a host link: the guest's virtio-net NIC then owns that link
// (all its frames, promiscuous), with no bridge or vswitch in between. QEMU takes a macvtap as
// a file descriptor on its character device (-netdev tap,fd=N). The kernel names that device
// /dev/tap<ifindex>, and an ifindex is only unique inside one network namespace, so the
// launcher makes its own device node from the major:minor in
// /sys/class/net/<macvtap>/macvtap/tap<ifindex>/dev (drivers/net/macvtap.c, tap_class) in the
// guest's folder. Pure: scripts in, parsed values out.
import { ToolOutputParseError } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function checkIfname(name: string, what: string): string {
  if (!IFNAME.test(name)) throw new TypeError(`${what}: expected an interface name of 1-15 letters, digits, ".", "_" or "-", found ${JSON.stringify(name)}`);
  return name;
}

/** The launcher's name for the macvtap of a guest port: kfn-mvt-<port>, cut to the 15 characters Linux keeps. */
export function buildMacvtapName(port: string): string {
  return checkIfname(`kfnmv-${port}`.slice(0, 15), 'macvtap name');
}

// Creates the macvtap on `link` (which must exist and is set up), then prints its device numbers.
export function buildMacvtapAddScript(input: { link: string; name: string; nodePath: string }): string {
  const link = quoteArg(checkIfname(input.link, 'host link'));
  const name = quoteArg(checkIfname(input.name, 'macvtap name'));
  const node = quoteArg(input.nodePath);
  return [
    'set -e',
    `ip link add link ${link} name ${name} type macvtap mode passthru`,
    `ip link set dev ${link} up`,
    `ip link set dev ${name} up`,
    `dev=$(cat /sys/class/net/${input.name}/macvtap/tap*/dev)`,
    `mknod -m 600 ${node} c "\${dev%%:*}" "\${dev##*:}"`,
    'echo "macvtap-dev $dev"',
  ].join('\n');
}

// Removes the macvtap and its device node; safe to run when either was never made.
export function buildMacvtapRemoveScript(input: { name: string; nodePath: string }): string {
  const name = quoteArg(checkIfname(input.name, 'macvtap name'));
  return [`rm -f ${quoteArg(input.nodePath)}`, `if ip link show dev ${name} >/dev/null 2>&1; then ip link del dev ${name}; fi`].join('\n');
}

// The "macvtap-dev M:m" line the add script prints.
export function parseMacvtapDev(stdout: string): { major: number; minor: number } {
  const m = /^macvtap-dev (\d+):(\d+)\s*$/m.exec(stdout);
  if (!m) throw new ToolOutputParseError('macvtap', `expected "macvtap-dev <major>:<minor>" from the add script, found ${JSON.stringify(stdout.trim().slice(0, 80))}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}
