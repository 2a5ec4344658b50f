// The OVS release for results.json, from `ovs-appctl -t <vswitchd> version` (which names the
// daemon actually running, e.g. `ovs-vswitchd-dpdk (Open vSwitch) 3.1.0`), or from
// `ovs-vsctl --version`.
import { ToolOutputParseError } from '../../errors.ts';

export interface OvsVersion {
  /** The program that answered, e.g. `ovs-vswitchd-dpdk`. */
  program: string;
  version: string;
}

// The first "<program> (Open vSwitch) <version>" line; anything else is an error.
export function parseOvsVersion(text: string): OvsVersion {
  const m = /^(\S+) \(Open vSwitch\) (\d+\.\d+[^\s]*)\s*$/m.exec(text);
  if (!m) throw new ToolOutputParseError('ovs-appctl version', 'expected "<program> (Open vSwitch) <version>"', { line: text.split('\n')[0] ?? '' });
  return { program: m[1] as string, version: m[2] as string };
}
