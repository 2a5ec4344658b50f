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

// Inside the guest, after a hot plug: waits until each PCI device is there with a driver bound
// (the guest's ACPI hotplug has run), or fails naming the ones still missing.
export function buildGuestPciWaitScript(addresses: readonly string[], timeoutS: number): string {
  for (const a of addresses) if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(a)) throw new TypeError(`expected a PCI address like 0000:00:10.0, found ${JSON.stringify(a)}`);
  const all = addresses.map((a) => `[ -e /sys/bus/pci/devices/${a}/driver ]`).join(' && ');
  return [
    `i=0; while [ $i -lt ${Math.ceil(timeoutS * 10)} ]; do`,
    `  if ${all || 'true'}; then echo kfn-pci-ready; exit 0; fi`,
    '  sleep 0.1; i=$((i+1))',
    'done',
    ...addresses.map((a) => `[ -e /sys/bus/pci/devices/${a}/driver ] || echo "missing ${a}"`),
    'exit 1',
  ].join('\n');
}
