// Parser for `ovs-ofctl dump-flows`: one flow per line with its counters. The counters are
// the evidence that the measured frames took the explicit PVP flows and nothing else.
import { ToolOutputParseError } from '../../errors.ts';

const TOOL = 'ovs-ofctl dump-flows';

/** OpenFlow's default priority; ovs-ofctl omits `priority=` when a flow has it. */
export const OFP_DEFAULT_PRIORITY = 32768;

export interface FlowStat {
  /** As printed, e.g. `0x6b666e`. */
  cookie: string;
  table: number;
  priority: number;
  /** Match fields without `priority=`, e.g. `in_port=1`; empty for a match-all flow. */
  match: string;
  actions: string;
  packets: number;
  bytes: number;
  durationS: number;
}

/** Stat fields ovs-ofctl prints before the match; any other key=value is part of the match. */
const STAT_KEYS = new Set(['cookie', 'duration', 'table', 'n_packets', 'n_bytes', 'idle_timeout', 'hard_timeout', 'idle_age', 'hard_age', 'importance']);
/** Flow flags printed as bare words between the stats and the match. */
const FLAG_WORDS = new Set(['send_flow_rem', 'check_overlap', 'reset_counts', 'no_packet_counts', 'no_byte_counts']);

// Reads every flow; a reply without counters (e.g. --no-stats) is refused, not read as zero.
export function parseDumpFlows(text: string): FlowStat[] {
  const flows: FlowStat[] = [];
  let sawHeader = false;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/^(NXST|OFPST)_FLOW reply\b/.test(line)) {
      sawHeader = true;
      continue;
    }
    flows.push(parseFlowLine(line, i + 1));
  }
  if (!sawHeader && flows.length === 0) throw new ToolOutputParseError(TOOL, 'expected an NXST_FLOW or OFPST_FLOW reply, found no output');
  return flows;
}

function parseFlowLine(line: string, lineNumber: number): FlowStat {
  const at = line.search(/(^|[\s,])actions=/);
  if (at < 0) throw new ToolOutputParseError(TOOL, 'expected "actions=" in a flow line', { lineNumber, line });
  const actionsStart = line.indexOf('actions=', at) + 'actions='.length;
  const actions = line.slice(actionsStart).trim();
  const stats: Record<string, string> = {};
  const match: string[] = [];
  for (const segment of line.slice(0, actionsStart - 'actions='.length).split(/,\s+/)) {
    for (const word of segment.trim().split(/\s+/)) {
      if (word === '') continue;
      const key = word.slice(0, word.indexOf('='));
      if (word.includes('=') && STAT_KEYS.has(key) && !(key in stats) && match.length === 0) stats[key] = word.slice(key.length + 1);
      else if (FLAG_WORDS.has(word)) continue;
      else match.push(word.replace(/,$/, ''));
    }
  }
  for (const needed of ['n_packets', 'n_bytes']) {
    if (!(needed in stats)) throw new ToolOutputParseError(TOOL, `expected ${needed}= in a flow line (was the dump taken with --no-stats?)`, { lineNumber, line });
  }
  const fields = match.join(',').split(',').filter((f) => f !== '');
  const priorityField = fields.find((f) => f.startsWith('priority='));
  const priority = priorityField === undefined ? OFP_DEFAULT_PRIORITY : toCount(priorityField.slice('priority='.length), 'priority', lineNumber, line);
  return {
    cookie: stats.cookie ?? '0x0',
    table: stats.table === undefined ? 0 : toCount(stats.table, 'table', lineNumber, line),
    priority,
    match: fields.filter((f) => f !== priorityField).join(','),
    actions,
    packets: toCount(stats.n_packets as string, 'n_packets', lineNumber, line),
    bytes: toCount(stats.n_bytes as string, 'n_bytes', lineNumber, line),
    durationS: stats.duration === undefined ? 0 : toSeconds(stats.duration, lineNumber, line),
  };
}

function toCount(text: string, what: string, lineNumber: number, line: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new ToolOutputParseError(TOOL, `expected ${what} to be a count, found ${JSON.stringify(text)}`, { lineNumber, line });
  return value;
}

function toSeconds(text: string, lineNumber: number, line: string): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (!m) throw new ToolOutputParseError(TOOL, `expected duration like 19.300s, found ${JSON.stringify(text)}`, { lineNumber, line });
  return Number(m[1]);
}

// The flow counter for traffic entering at one OpenFlow port, for evidence and sanity checks.
export function findFlowByInPort(flows: readonly FlowStat[], ofport: number, cookie?: string): FlowStat | undefined {
  return flows.find((f) => (cookie === undefined || f.cookie === cookie) && f.match.split(',').includes(`in_port=${ofport}`));
}
