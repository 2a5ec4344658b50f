// Forwarding figures as tables, one row per frame size. The forwarding cases' details are
// still settling (regression's proposed `throughput[]`, the fixtures' `frames[]`, the traffic
// engine's TrialResult), so this reads every recorded spelling and shows only the columns
// some row has. Pure: details in, tables out.

export interface ForwardingRow {
  frameSize: string;
  ndrPps: number | null;
  pdrPps: number | null;
  /** The device may forward more: the generator, a calibrated ceiling or the iteration cap stopped the search. */
  ndrIsLowerBound: boolean;
  pdrIsLowerBound: boolean;
  /** Measured receive rate of the row's trial, when recorded instead of (or beside) NDR/PDR. */
  rxPps: number | null;
  lossPercent: number | null;
  latencyUs: { avg: number | null; p99: number | null; max: number | null; maxIsLowerBound: boolean } | null;
  /** e.g. `NDR limited by generator`: a rate that is only a lower bound says so. */
  notes: string[];
}

export interface ForwardingTable {
  /** Where in details, e.g. `throughput` or `ovs-dpdk.frames`. */
  source: string;
  /** Where the latency was taken, e.g. `90 % of NDR, both directions merged`, when recorded. */
  latencyWhere: string | null;
  rows: ForwardingRow[];
  columns: { ndr: boolean; pdr: boolean; rx: boolean; loss: boolean; latency: boolean };
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// `<target>Pps` (the forwarding cases' confirmed rate), `<target>Mpps`, or the search's own
// record under `<target>`, whose limitedBy and isLowerBound say whether the rate is a bound.
function rateOf(row: Obj, target: 'ndr' | 'pdr', notes: string[]): { pps: number | null; lowerBound: boolean } {
  const t = isObject(row[target]) ? (row[target] as Obj) : undefined;
  const mpps = num(row[`${target}Mpps`]);
  const pps = num(row[`${target}Pps`]) ?? (mpps === null ? null : mpps * 1e6) ?? (t ? num(t.ratePps) : num(row[target]));
  const name = target.toUpperCase();
  const limited = typeof t?.limitedBy === 'string' && t.limitedBy !== 'device-loss';
  const lowerBound = t?.isLowerBound === true || (t?.isLowerBound === undefined && limited);
  if (lowerBound) notes.push(`${name} only a lower bound${limited ? `: limited by ${String(t?.limitedBy)}` : ''}`);
  if (pps === null && t && typeof t.status === 'string') notes.push(`${name} not confirmed: ${t.status}`);
  return { pps, lowerBound };
}

function lossOf(row: Obj, notes: string[]): number | null {
  const percent = num(row.lossPercent);
  if (percent !== null) return percent;
  const ratio = num(row.lossRatio);
  if (ratio !== null) return ratio * 100;
  const atRate = isObject(row.lossAtRate) ? row.lossAtRate : undefined;
  if (!atRate || num(atRate.lossPercent) === null) return null;
  notes.push(`loss measured at ${formatRate(num(atRate.ratePps))}${atRate.valid === false ? ' (trial invalid)' : ''}`);
  return atRate.valid === false ? null : num(atRate.lossPercent);
}

function formatRate(pps: number | null): string {
  return pps === null ? 'an unrecorded rate' : `${Number((pps / 1e6).toFixed(3))} Mpps`;
}

function rxOf(row: Obj): number | null {
  const pps = num(row.rxPps) ?? num(row.throughputPps) ?? num(row.throughput_rx_fps);
  if (pps !== null) return pps;
  const mpps = num(row.rxMpps);
  return mpps === null ? null : mpps * 1e6;
}

// A LatencySummary, a `{where, summary}` pair, or the traffic engine's ns-valued TrialLatency.
function latencyOf(value: unknown): ForwardingRow['latencyUs'] {
  if (!isObject(value)) return null;
  if (isObject(value.summary)) return latencyOf(value.summary);
  if (value.unit === 'us' || value.unit === 'ns') {
    const k = value.unit === 'ns' ? 1e-3 : 1;
    const scale = (v: unknown) => (num(v) === null ? null : (v as number) * k);
    return { avg: scale(value.avg), p99: scale(value.p99), max: scale(value.max), maxIsLowerBound: value.maxIsLowerBound === true };
  }
  if ('avgNs' in value || 'maxNs' in value) {
    const us = (v: unknown) => (num(v) === null ? null : (v as number) / 1000);
    return { avg: us(value.avgNs), p99: us(value.p99Ns), max: us(value.maxNs), maxIsLowerBound: value.maxIsLowerBound === true };
  }
  return null;
}

function isFrameRow(v: unknown): v is Obj {
  return isObject(v) && (typeof v.frameSize === 'number' || typeof v.frameSize === 'string');
}

function buildRow(row: Obj): ForwardingRow {
  const notes: string[] = [];
  const ndr = rateOf(row, 'ndr', notes);
  const pdr = rateOf(row, 'pdr', notes);
  const out: ForwardingRow = {
    frameSize: typeof row.frameSize === 'number' ? `${row.frameSize}` : String(row.frameSize),
    ndrPps: ndr.pps,
    pdrPps: pdr.pps,
    ndrIsLowerBound: ndr.lowerBound,
    pdrIsLowerBound: pdr.lowerBound,
    rxPps: rxOf(row),
    lossPercent: lossOf(row, notes),
    latencyUs: latencyOf(row.latency),
    notes,
  };
  if (row.valid === false) notes.push('trial invalid: the generator, not the device, limited it');
  if (typeof row.note === 'string') notes.push(row.note);
  return out;
}

// Any list of objects with a frameSize, up to three levels into details, is a forwarding table.
export function findForwardingTables(details: Record<string, unknown>): ForwardingTable[] {
  const tables: ForwardingTable[] = [];
  const visit = (value: unknown, path: string[], depth: number) => {
    if (depth > 3) return;
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every(isFrameRow)) {
        const rows = value.map(buildRow);
        const any = (f: (r: ForwardingRow) => boolean) => rows.some(f);
        const where = value.map((r) => (isObject(r) && isObject(r.latency) ? r.latency.where : undefined)).find((w) => typeof w === 'string');
        tables.push({
          source: path.join('.'),
          latencyWhere: typeof where === 'string' ? where : null,
          rows,
          columns: {
            ndr: any((r) => r.ndrPps !== null),
            pdr: any((r) => r.pdrPps !== null),
            rx: any((r) => r.rxPps !== null),
            loss: any((r) => r.lossPercent !== null),
            latency: any((r) => r.latencyUs !== null),
          },
        });
      }
      return;
    }
    if (isObject(value)) for (const [k, v] of Object.entries(value)) visit(v, [...path, k], depth + 1);
  };
  visit(details, [], 0);
  return tables;
}
