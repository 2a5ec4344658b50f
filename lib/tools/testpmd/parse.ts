// Parses what dpdk-testpmd prints when it is stopped with SIGINT: one "Forward statistics for
// port N" block per port and the "Accumulated forward statistics for all ports" block
// (app/test-pmd/testpmd.c fwd_stats_display, DPDK 22.11). The periodic "NIC statistics"
// screens printed by --stats-period come before them and are not read. A run without the
// final blocks (killed, crashed) is rejected: its counters would be a guess.
import { ToolOutputParseError } from '../../errors.ts';
import { TESTPMD_TOOL } from './command.ts';

export interface TestpmdCounters {
  rxPackets: number;
  /** imissed: frames the NIC (or the af_packet ring) had no room for. */
  rxDropped: number;
  rxTotal: number;
  /** Printed only when non-zero; 0 otherwise. */
  rxErrors: number;
  rxNoMbufs: number;
  txPackets: number;
  /** Frames the PMD refused to send (queue full). */
  txDropped: number;
  txTotal: number;
}

export interface TestpmdPortStats extends TestpmdCounters {
  port: number;
}

export interface TestpmdStats {
  /** `io`, `macswap`, ... from the "<mode> packet forwarding - ports=N" banner, when printed. */
  forwardMode: string | null;
  /** MAC of each port from its "Port N: AA:BB:..." line, upper case as printed. */
  macs: Record<number, string>;
  ports: TestpmdPortStats[];
  accumulated: TestpmdCounters;
  /**
   * True when testpmd printed "Press enter to exit" and went on to stop: it ran without
   * --stats-period or -i and quit at once because stdin was not a terminal; it forwarded nothing.
   */
  quitAtOnce: boolean;
}

const PORT_HEADER = /^\s*-+ Forward statistics for port (\d+)\s+-+\s*$/;
const ACC_HEADER = /^\s*\++ Accumulated forward statistics for all ports\s*\++\s*$/;
const FOOTER = /^\s*(-+|\++)\s*$/;
const FIELD = /([A-Za-z-]+):\s*(\S+)/g;
const KEYS: Record<string, keyof TestpmdCounters> = {
  'RX-packets': 'rxPackets',
  'RX-dropped': 'rxDropped',
  'RX-total': 'rxTotal',
  'RX-error': 'rxErrors',
  'RX-nombufs': 'rxNoMbufs',
  'TX-packets': 'txPackets',
  'TX-dropped': 'txDropped',
  'TX-total': 'txTotal',
};
const REQUIRED: Array<keyof TestpmdCounters> = ['rxPackets', 'rxDropped', 'rxTotal', 'txPackets', 'txDropped', 'txTotal'];

// Turns testpmd's stdout into per-port counters, or says exactly what is missing or contradictory.
export function parseTestpmdStats(text: string, options: { source?: string; expectedPorts?: number } = {}): TestpmdStats {
  const where = options.source === undefined ? {} : { source: options.source };
  const fail = (message: string, at?: { lineNumber: number; line: string }) => new ToolOutputParseError(TESTPMD_TOOL, message, { ...where, ...at });
  // The periodic screens start with ESC[2J; strip escape sequences so line anchors hold.
  const lines = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
  const lastAcc = findLastIndex(lines, (l) => ACC_HEADER.test(l));
  if (lastAcc < 0) {
    throw fail('expected the "Accumulated forward statistics for all ports" block that testpmd prints when stopped with SIGINT, found none (killed, crashed, or still running?)');
  }
  // The port blocks of the same stop come right before the accumulated one.
  let first = lastAcc;
  while (first > 0 && !/Telling cores to stop|Accumulated forward statistics/.test(lines[first - 1] ?? '')) first--;
  const ports: TestpmdPortStats[] = [];
  let i = first;
  while (i < lastAcc) {
    const m = PORT_HEADER.exec(lines[i] ?? '');
    if (!m) {
      i++;
      continue;
    }
    const { counters, next } = readBlock(lines, i + 1, fail);
    const port = Number(m[1]);
    if (ports.some((p) => p.port === port)) throw fail(`port ${port} has two forward statistics blocks`, { lineNumber: i + 1, line: lines[i]! });
    ports.push({ port, ...counters });
    i = next;
  }
  const accumulated = readBlock(lines, lastAcc + 1, fail).counters;
  if (ports.length === 0) throw fail('expected a "Forward statistics for port N" block before the accumulated one, found none');
  if (options.expectedPorts !== undefined && ports.length !== options.expectedPorts) {
    throw fail(`expected forward statistics for ${options.expectedPorts} ports, found ${ports.length} (ports ${ports.map((p) => p.port).join(', ')})`);
  }
  for (const key of ['rxPackets', 'txPackets', 'rxDropped'] as const) {
    const sum = ports.reduce((s, p) => s + p[key], 0);
    if (sum !== accumulated[key]) throw fail(`accumulated ${key} ${accumulated[key]} is not the sum over the ports ${sum}`);
  }
  const banner = lines.map((l) => /^(\S+) packet forwarding - ports=\d+/.exec(l)).find((m) => m);
  const macs: Record<number, string> = {};
  for (const l of lines) {
    const mac = /^Port (\d+): ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\s*$/.exec(l);
    if (mac) macs[Number(mac[1])] = mac[2]!;
  }
  return { forwardMode: banner?.[1] ?? null, macs, ports: ports.sort((a, b) => a.port - b.port), accumulated, quitAtOnce: lines.some((l) => /^Press enter to exit/.test(l)) };
}

// The DPDK version testpmd prints with -v ("EAL: RTE Version: 'DPDK 22.11.11'"), or null.
export function parseTestpmdVersion(stderr: string): string | null {
  return /RTE Version: 'DPDK ([^']+)'/.exec(stderr)?.[1] ?? null;
}

function readBlock(
  lines: string[],
  start: number,
  fail: (message: string, at?: { lineNumber: number; line: string }) => ToolOutputParseError,
): { counters: TestpmdCounters; next: number } {
  const found: Partial<TestpmdCounters> = {};
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (FOOTER.test(line) || PORT_HEADER.test(line) || ACC_HEADER.test(line)) break;
    for (const m of line.matchAll(FIELD)) {
      const key = KEYS[m[1]!];
      if (!key) continue;
      if (!/^\d+$/.test(m[2]!)) throw fail(`${m[1]}: expected a count, found ${JSON.stringify(m[2])}`, { lineNumber: i + 1, line });
      const value = Number(m[2]);
      if (!Number.isSafeInteger(value)) throw fail(`${m[1]}: ${m[2]} is beyond the counts this parser can hold exactly`, { lineNumber: i + 1, line });
      found[key] = value;
    }
  }
  const missing = REQUIRED.filter((k) => found[k] === undefined);
  if (missing.length > 0) throw fail(`the statistics block starting at line ${start} lacks ${missing.join(', ')} (truncated output?)`, { lineNumber: start, line: lines[start - 1] ?? '' });
  const c = { rxErrors: 0, rxNoMbufs: 0, ...found } as TestpmdCounters;
  if (c.rxTotal !== c.rxPackets + c.rxDropped) throw fail(`RX-total ${c.rxTotal} is not RX-packets ${c.rxPackets} + RX-dropped ${c.rxDropped}`, { lineNumber: start, line: lines[start - 1] ?? '' });
  if (c.txTotal !== c.txPackets + c.txDropped) throw fail(`TX-total ${c.txTotal} is not TX-packets ${c.txPackets} + TX-dropped ${c.txDropped}`, { lineNumber: start, line: lines[start - 1] ?? '' });
  return { counters: c, next: i };
}

function findLastIndex<T>(items: T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}
