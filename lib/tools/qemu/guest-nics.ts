// Inside a launched guest, after boot: each data NIC, found by the MAC the launcher gave it,
// takes the interface name and address its pod.yaml port names, with IPv6 off (as on the lab's
// other data links: no router solicitations or ND frames in a measurement). Pure.
import { quoteArg } from '../../remote/quote.ts';

export interface GuestNicSetup {
  mac: string;
  /** The name the cases use (pod.yaml ports[].interface). */
  ifname: string;
  /** CIDR, e.g. 198.19.7.2/30 (extra.port_addresses). */
  address?: string;
}

export function buildGuestNicScript(nics: readonly GuestNicSetup[]): string {
  const lines = ['set -e'];
  for (const nic of nics) {
    const name = quoteArg(nic.ifname);
    lines.push(
      `dev=''; for d in /sys/class/net/*; do [ "$(cat "$d/address")" = ${quoteArg(nic.mac.toLowerCase())} ] && dev=\${d##*/}; done`,
      `[ -n "$dev" ] || { echo "no NIC with MAC ${nic.mac} in the guest" >&2; exit 1; }`,
      `if [ "$dev" != ${name} ]; then ip link set dev "$dev" down; ip link set dev "$dev" name ${name}; fi`,
      `sysctl -q -w ${quoteArg(`net.ipv6.conf.${nic.ifname.replaceAll('.', '/')}.disable_ipv6=1`)} || true`,
      ...(nic.address ? [`ip addr replace ${quoteArg(nic.address)} dev ${name}`] : []),
      `ip link set dev ${name} up`,
    );
  }
  return lines.join('\n');
}
