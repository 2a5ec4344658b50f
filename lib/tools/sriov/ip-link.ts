// Parser for the VF lines of `ip -d link show <pf>`: each VF's MAC, VLAN, spoof check and
// trust as the PF driver reports them, read before the harness changes them so teardown
// can put them back. Two formats exist: iproute2 >= 5.3 prints `vf 0     link/ether <mac>
// brd <mac>, ...`, older releases `vf 0 MAC <mac>, ...` (iproute2 ip/ipaddress.c print_vfinfo).
import { ToolOutputParseError } from '../../errors.ts';

const TOOL = 'ip -d link show';

export interface VfLinkInfo {
  vf: number;
  mac: string;
  /** 0 when the VF has no port VLAN (iproute2 prints nothing then). */
  vlan: number;
  qos: number;
  /** null when the driver does not report the setting. */
  spoofchk: boolean | null;
  trust: boolean | null;
  linkState: 'auto' | 'enable' | 'disable' | null;
  maxTxRateMbps: number;
  minTxRateMbps: number;
}

export interface PfLinkInfo {
  ifindex: number;
  name: string;
  flags: string[];
  mtu: number;
  mac: string | null;
  /** `parentdev` from -d output: the PF's PCI address, when printed. */
  pci: string | null;
  vfs: VfLinkInfo[];
}

const MAC = '[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}';

// One PF's link with its VF table; a second link in the output or a malformed VF line is an error.
export function parseIpLinkShow(text: string): PfLinkInfo {
  const lines = text.split('\n');
  const head = /^(\d+):\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>\s+mtu\s+(\d+)/.exec(lines[0] ?? '');
  if (!head) throw new ToolOutputParseError(TOOL, 'expected a first line like "4: ens1f0: <...> mtu 1500 ..."', { lineNumber: 1, line: lines[0] ?? '' });
  const info: PfLinkInfo = {
    ifindex: Number(head[1]),
    name: head[2] as string,
    flags: (head[3] as string).split(',').filter((f) => f !== ''),
    mtu: Number(head[4]),
    mac: null,
    pci: null,
    vfs: [],
  };
  for (const [i, line] of lines.entries()) {
    if (i === 0 || line.trim() === '') continue;
    if (/^\d+:\s/.test(line)) throw new ToolOutputParseError(TOOL, `expected the links of one PF, found a second link`, { lineNumber: i + 1, line });
    if (/^\s+vf\s+\d+\s/.test(line)) {
      info.vfs.push(parseVfLine(line, i + 1));
      continue;
    }
    const ether = new RegExp(`^\\s+link/ether\\s+(${MAC})`).exec(line);
    if (ether && info.mac === null) info.mac = (ether[1] as string).toLowerCase();
    const parent = /\bparentdev\s+(\S+)/.exec(line);
    if (parent) info.pci = parent[1] as string;
  }
  const seen = new Set<number>();
  for (const vf of info.vfs) {
    if (seen.has(vf.vf)) throw new ToolOutputParseError(TOOL, `vf ${vf.vf} is listed twice`);
    seen.add(vf.vf);
  }
  return info;
}

function parseVfLine(line: string, lineNumber: number): VfLinkInfo {
  const fail = (message: string) => new ToolOutputParseError(TOOL, message, { lineNumber, line });
  const m = new RegExp(`^\\s+vf\\s+(\\d+)\\s+(?:link/ether\\s+(${MAC})(?:\\s+brd\\s+${MAC})?|MAC\\s+(${MAC}))(.*)$`).exec(line);
  if (!m) throw fail('expected "vf N link/ether <mac> ..." or "vf N MAC <mac>, ..."');
  const vf: VfLinkInfo = {
    vf: Number(m[1]),
    mac: ((m[2] ?? m[3]) as string).toLowerCase(),
    vlan: 0,
    qos: 0,
    spoofchk: null,
    trust: null,
    linkState: null,
    maxTxRateMbps: 0,
    minTxRateMbps: 0,
  };
  const rest = (m[4] as string).trim();
  if (rest !== '' && !rest.startsWith(',')) throw fail('expected ", " after the VF MAC');
  for (const part of rest.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    let f: RegExpExecArray | null;
    if ((f = /^vlan (\d+)$/.exec(part))) vf.vlan = Number(f[1]);
    else if ((f = /^qos (\d+)$/.exec(part))) vf.qos = Number(f[1]);
    else if ((f = /^spoof checking (on|off)$/.exec(part))) vf.spoofchk = f[1] === 'on';
    else if ((f = /^trust (on|off)$/.exec(part))) vf.trust = f[1] === 'on';
    else if ((f = /^link-state (auto|enable|disable)$/.exec(part))) vf.linkState = f[1] as VfLinkInfo['linkState'];
    else if ((f = /^max_tx_rate (\d+)Mbps$/.exec(part))) vf.maxTxRateMbps = Number(f[1]);
    else if ((f = /^min_tx_rate (\d+)Mbps$/.exec(part))) vf.minTxRateMbps = Number(f[1]);
    else if ((f = /^tx rate (\d+) \(Mbps\)$/.exec(part))) vf.maxTxRateMbps = Number(f[1]);
    else if (/^(query_rss (on|off)|vlan protocol \S+)$/.test(part)) continue;
    else throw fail(`unknown VF setting ${JSON.stringify(part)}`);
  }
  return vf;
}
