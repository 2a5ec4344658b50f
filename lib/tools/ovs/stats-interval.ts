// How long the Interface statistics in OVSDB lag the datapath. ovs-vswitchd pushes interface
// counters into the database on a timer (openvswitch/ovs vswitchd/bridge.c, IFACE_STATS_INTERVAL,
// 5000 ms), which other_config:stats-update-interval may lengthen but never shorten below 5000 ms
// (vswitchd/vswitch.xml, Open_vSwitch other_config). Counters read from the database sooner than
// that after the traffic stopped miss the last frames, so a reader waits one interval first.
import { ToolOutputParseError } from '../../errors.ts';
import { buildVsctl, type OvsInstance } from './command.ts';
import { parseOvsdbAtom } from './value.ts';

/** The floor ovs-vswitchd applies to stats-update-interval, and its default. */
export const MIN_STATS_INTERVAL_MS = 5000;

/** `ovs-vsctl --if-exists get Open_vSwitch . other_config:stats-update-interval`: the value, or nothing when unset. */
export function buildStatsIntervalQuery(instance: OvsInstance): string[] {
  return buildVsctl(instance, ['--if-exists', 'get', 'Open_vSwitch', '.', 'other_config:stats-update-interval']);
}

/** The interval in ms from that query's output: empty (unset) is the default; below the floor, the floor. */
export function parseStatsInterval(text: string): number {
  if (text.trim() === '') return MIN_STATS_INTERVAL_MS;
  const value = parseOvsdbAtom(text);
  if (!/^\d+$/.test(value)) throw new ToolOutputParseError('ovs-vsctl', `expected stats-update-interval in whole milliseconds, found ${JSON.stringify(value)}`, { line: text.trim() });
  return Math.max(MIN_STATS_INTERVAL_MS, Number(value));
}
