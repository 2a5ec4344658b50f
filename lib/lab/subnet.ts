// Picks the lab's management /24 so it overlaps nothing already configured in the
// root namespace (another checkout's lab, a VPN route, ...). Pure functions.

import { LabError } from '../errors.ts';

export interface Ipv4Net {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefixLen: number;
}

// Strict dotted-quad parsing: a malformed address must not silently become 0.
export function parseIpv4Cidr(text: string): Ipv4Net {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new LabError(`expected an IPv4 address or CIDR like 198.18.0.0/24, found ${JSON.stringify(text)}`);
  const octets = m.slice(1, 5).map(Number);
  const prefixLen = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || prefixLen > 32) {
    throw new LabError(`expected an IPv4 address or CIDR with octets 0..255 and prefix 0..32, found ${JSON.stringify(text)}`);
  }
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base: maskAddress(addr, prefixLen), prefixLen };
}

function maskAddress(addr: number, prefixLen: number): number {
  if (prefixLen === 0) return 0;
  const size = 2 ** (32 - prefixLen);
  return addr - (addr % size);
}

// Two networks overlap when the wider one contains the other's base address.
export function overlaps(a: Ipv4Net, b: Ipv4Net): boolean {
  const wider = a.prefixLen <= b.prefixLen ? a : b;
  const narrower = wider === a ? b : a;
  return maskAddress(narrower.base, wider.prefixLen) === wider.base;
}

interface IpAddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}
interface IpRouteJson {
  dst?: string;
}

// Reads `ip -j -4 addr` and `ip -j -4 route` output into the networks already in use.
export function parseTakenNetworks(addrJson: string, routeJson: string): { cidr: string; owner: string }[] {
  const parse = (text: string, what: string): unknown[] => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new LabError(`expected JSON from \`ip -j ${what}\`, found ${JSON.stringify(text.slice(0, 80))}`, { cause: error });
    }
    if (!Array.isArray(value)) throw new LabError(`expected a JSON array from \`ip -j ${what}\`, found ${typeof value}`);
    return value;
  };
  const taken: { cidr: string; owner: string }[] = [];
  for (const link of parse(addrJson, '-4 addr') as IpAddrJson[]) {
    for (const a of link.addr_info ?? []) {
      if (a.family === 'inet' && a.local) taken.push({ cidr: `${a.local}/${a.prefixlen ?? 32}`, owner: `address on ${link.ifname ?? '?'}` });
    }
  }
  for (const route of parse(routeJson, '-4 route') as IpRouteJson[]) {
    if (route.dst && route.dst !== 'default') taken.push({ cidr: route.dst, owner: `route to ${route.dst}` });
  }
  return taken;
}

// Tries the preferred octet first, then the next ones, wrapping within 198.18.0.0/16.
export function pickFreeOctet(input: { preferred: number; taken: { cidr: string; owner: string }[] }): number {
  const nets = input.taken.map((t) => ({ ...t, net: parseIpv4Cidr(t.cidr) }));
  const clashes: string[] = [];
  for (let i = 0; i < 256; i++) {
    const octet = (input.preferred + i) % 256;
    const candidate = parseIpv4Cidr(`198.18.${octet}.0/24`);
    const clash = nets.find((t) => overlaps(t.net, candidate));
    if (!clash) return octet;
    if (clashes.length < 3) clashes.push(`198.18.${octet}.0/24 clashes with ${clash.owner} (${clash.cidr})`);
  }
  throw new LabError(`no free /24 in 198.18.0.0/16 for the lab management network: ${clashes.join('; ')}`);
}
