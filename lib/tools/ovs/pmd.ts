// Parsers for OVS-DPDK's PMD views, kept as evidence beside each forwarding result:
// `ovs-appctl dpif-netdev/pmd-stats-show` (per-thread packet and cycle counters) and
// `dpif-netdev/pmd-rxq-show` (which PMD polls which rx queue, and how busy it was).
import { ToolOutputParseError } from '../../errors.ts';

export interface PmdThreadStats {
  thread: 'pmd' | 'main';
  /** null for the main (non-PMD) thread. */
  numaId: number | null;
  coreId: number | null;
  packetsReceived: number;
  /** Cycles counted while polling with nothing to do, and while processing; null when not printed. */
  idleCycles: number | null;
  processingCycles: number | null;
  /** processing / (idle + processing) as printed, in percent; null when not printed. */
  processingPercent: number | null;
  /** Every `label: number` line as printed, so fields added by later OVS releases are kept. */
  counters: Record<string, number>;
}

const STATS_TOOL = 'ovs-appctl dpif-netdev/pmd-stats-show';
const THREAD_HEADER = /^pmd thread numa_id (\d+) core_id (\d+):$/;

// Reads every thread block; a line that is not a known header or `label: number` is an error.
export function parsePmdStatsShow(text: string): PmdThreadStats[] {
  const threads: PmdThreadStats[] = [];
  let current: PmdThreadStats | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    const header = THREAD_HEADER.exec(line);
    if (header || line === 'main thread:') {
      current = {
        thread: header ? 'pmd' : 'main',
        numaId: header ? Number(header[1]) : null,
        coreId: header ? Number(header[2]) : null,
        packetsReceived: 0,
        idleCycles: null,
        processingCycles: null,
        processingPercent: null,
        counters: {},
      };
      threads.push(current);
      continue;
    }
    const m = /^\s+([a-z][a-z. ]*?):\s+(\d+(?:\.\d+)?)(?:\s+\((\d+(?:\.\d+)?)%\)|\s+\(\d+\/\d+\))?$/.exec(line);
    if (!current || !m) throw new ToolOutputParseError(STATS_TOOL, current ? 'expected "label: number"' : 'expected a "pmd thread numa_id N core_id N:" header first', { lineNumber: i + 1, line });
    const [, label, value, percent] = m as unknown as [string, string, string, string | undefined];
    current.counters[label] = Number(value);
    if (label === 'packets received') current.packetsReceived = Number(value);
    if (label === 'idle cycles') current.idleCycles = Number(value);
    if (label === 'processing cycles') {
      current.processingCycles = Number(value);
      current.processingPercent = percent === undefined ? null : Number(percent);
    }
  }
  if (threads.length === 0) throw new ToolOutputParseError(STATS_TOOL, 'expected at least one thread block, found none (is this a DPDK datapath?)');
  for (const t of threads) {
    if (!('packets received' in t.counters)) throw new ToolOutputParseError(STATS_TOOL, `thread ${t.thread === 'main' ? 'main' : `core ${t.coreId}`} has no "packets received" line`);
  }
  return threads;
}

export interface PmdRxQueue {
  port: string;
  queueId: number;
  enabled: boolean;
  /** Share of the PMD's busy cycles over the last interval; null when OVS prints NOT AVAIL. */
  usagePercent: number | null;
}

export interface PmdRxqThread {
  numaId: number;
  coreId: number;
  isolated: boolean;
  queues: PmdRxQueue[];
  overheadPercent: number | null;
}

const RXQ_TOOL = 'ovs-appctl dpif-netdev/pmd-rxq-show';

// Reads which queues each PMD polls; a vhost-user queue shows (disabled) when its VNF is gone.
export function parsePmdRxqShow(text: string): PmdRxqThread[] {
  const threads: PmdRxqThread[] = [];
  let current: PmdRxqThread | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    if (line.trim() === '' || /^Displaying last \d+ seconds pmd usage %$/.test(line)) continue;
    const header = THREAD_HEADER.exec(line);
    if (header) {
      current = { numaId: Number(header[1]), coreId: Number(header[2]), isolated: false, queues: [], overheadPercent: null };
      threads.push(current);
      continue;
    }
    const fail = (message: string) => new ToolOutputParseError(RXQ_TOOL, message, { lineNumber: i + 1, line });
    if (!current) throw fail('expected a "pmd thread numa_id N core_id N:" header first');
    const isolated = /^\s+isolated\s*:\s*(true|false)$/.exec(line);
    const port = /^\s+port:\s+(\S+)\s+queue-id:\s+(\d+)(?:\s+\((enabled|disabled)\))?\s+pmd usage:\s*(?:(\d+)\s*%|(NOT AVAIL))$/.exec(line);
    const overhead = /^\s+overhead:\s*(?:(\d+)\s*%|(NOT AVAIL))$/.exec(line);
    if (isolated) current.isolated = isolated[1] === 'true';
    else if (port) {
      current.queues.push({
        port: port[1] as string,
        queueId: Number(port[2]),
        enabled: port[3] !== 'disabled',
        usagePercent: port[4] === undefined ? null : Number(port[4]),
      });
    } else if (overhead) current.overheadPercent = overhead[1] === undefined ? null : Number(overhead[1]);
    else throw fail('expected "isolated :", "port: ... queue-id: ... pmd usage: ..." or "overhead:"');
  }
  if (threads.length === 0) throw new ToolOutputParseError(RXQ_TOOL, 'expected at least one "pmd thread" block, found none (is pmd-cpu-mask empty or is this not a DPDK datapath?)');
  return threads;
}
