// The per-frame-size table of a forwarding case, as text for the raw outputs and the JUnit
// output: NDR, PDR, the ceiling they were searched under, loss at the fixed rate, and latency
// at the highest load next to the generator's own (its loopback), so the device's share shows.
// Reads the results.json shape structurally: lib/report sees the result model, not lib/cases.

interface Summary {
  unit: 'us' | 'ns';
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** What the table reads of one details.throughput entry. */
export interface ForwardingTableEntry {
  frameSize: number | string;
  direction: string;
  ndrPps: number | null;
  pdrPps: number | null;
  ndr: { isLowerBound: boolean; limitedBy: string; confirmedBy: string | null };
  ceilingPps: number;
  ceilingSource: string;
  lossAtRate: { ratePps: number; lossPercent: number; valid: boolean } | null;
  latency: { where: string; summary: Summary } | null;
  calibration: { maxTxPps: number; latency: Array<{ summary: Summary }> } | null;
}

const HEADER = ['frame', 'NDR pps', 'PDR pps', 'ceiling pps', 'loss at rate', 'p50 us', 'p99 us', 'max us', 'gen p99 us'];

// One line per frame size; `*` marks a rate that is only a lower bound, `?` one not confirmed.
export function formatForwardingTable(entries: readonly ForwardingTableEntry[]): string {
  const rows = entries.map((e) => {
    const gen = e.calibration?.latency.map((l) => toUs(l.summary, 'p99')).filter((v): v is number => v !== null) ?? [];
    return [
      `${e.frameSize} B`,
      rate(e.ndrPps, e.ndr.isLowerBound),
      rate(e.pdrPps, false),
      `${Math.round(e.ceilingPps)} (${e.ceilingSource === 'line-rate' ? 'line' : 'gen'})`,
      e.lossAtRate ? (e.lossAtRate.valid ? `${fmt(e.lossAtRate.lossPercent)} % @${Math.round(e.lossAtRate.ratePps)}` : 'invalid') : '-',
      num(e.latency ? toUs(e.latency.summary, 'p50') : null),
      num(e.latency ? toUs(e.latency.summary, 'p99') : null),
      num(e.latency ? toUs(e.latency.summary, 'max') : null),
      gen.length > 0 ? num(Math.max(...gen)) : '-',
    ];
  });
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const legend = [
    'NDR/PDR: all directions together; * only a lower bound (generator, calibrated ceiling or iteration cap), ? not confirmed by a verification trial.',
    `latency: ${entries.find((e) => e.latency)?.latency?.where ?? 'none measured'}; gen p99: the generator on its own loopback at light load.`,
  ];
  return [line(HEADER), ...rows.map(line), '', ...legend, ''].join('\n');
}

function rate(pps: number | null, lowerBound: boolean): string {
  return pps === null ? '?' : `${Math.round(pps)}${lowerBound ? '*' : ''}`;
}

function toUs(s: Summary, key: 'p50' | 'p99' | 'max'): number | null {
  const v = s[key];
  return v === null ? null : s.unit === 'ns' ? v / 1000 : v;
}

function num(v: number | null): string {
  return v === null ? '-' : fmt(v);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}
