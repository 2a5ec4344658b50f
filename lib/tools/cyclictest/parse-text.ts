// The stdout of `cyclictest -q -h N`: a `# Histogram` table, then summary lines. The only place
// the overflow counts are printed, so it is parsed strictly: anything unexpected is an error.
import { ToolOutputParseError } from '../../errors.ts';
import type { HistogramBucket } from '../../measure/histogram.ts';

const TOOL = 'cyclictest';
const SOURCE = 'stdout';

export interface CyclictestOverflowCycles {
  /** Cycle numbers printed for the first overflows. */
  listed: number[];
  /** The `# NNNNN others` tail: overflows not listed. */
  others: number;
}

export interface CyclictestHistogramText {
  /** '2.4': `# Total:` present and every row printed; '2.7+': no `# Total:`, zero rows omitted. */
  format: '2.4' | '2.7+';
  threads: number;
  /** Per thread, the non-zero buckets. */
  buckets: HistogramBucket[][];
  /** Number of histogram rows printed (2.4 prints one per bucket, so it equals -h). */
  rowCount: number;
  /** Value of the last row printed, null when none. */
  highestRow: number | null;
  /** `# Total:` per thread (2.4 only): samples inside the histogram. */
  totals: number[] | null;
  min: number[];
  /** Truncated to whole units by cyclictest. */
  avg: number[];
  max: number[];
  overflows: number[];
  overflowCycles: CyclictestOverflowCycles[];
  /** `# Thread Ids:` (printed with -b). */
  threadIds: number[] | null;
  /** `# Break thread:` is a thread id (TID); breakThread is its index, via threadIds. */
  breakThreadId: number | null;
  breakThread: number | null;
  breakValue: number | null;
}

// Cursor movement of the live screen (`ESC[4A`) and colour codes.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const ROW = /^(\d{6,})((?:[ \t]+\d+)+)$/;

interface Line {
  n: number;
  text: string;
}

function reject(message: string, at?: Line): never {
  throw new ToolOutputParseError(TOOL, message, { source: SOURCE, lineNumber: at?.n, line: at?.text });
}

function numbers(rest: string, at: Line): number[] {
  const parts = rest.trim() === '' ? [] : rest.trim().split(/\s+/);
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : reject(`expected whole numbers, found ${JSON.stringify(p)}`, at)));
}

// Lines cyclictest prints before `# Histogram`: comments, the live screen without -q.
function isPreamble(text: string): boolean {
  return text === '' || text.startsWith('#') || /^T:\s*\d+ /.test(text) || text.startsWith('policy:');
}

interface Footer {
  totals?: number[];
  min?: number[];
  avg?: number[];
  max?: number[];
  overflows?: number[];
  cyclesHeader?: boolean;
  overflowCycles: CyclictestOverflowCycles[];
  threadIds?: number[];
  breakThreadId?: number;
  breakValue?: number;
}

const FOOTER_ARRAYS: ReadonlyArray<[string, 'totals' | 'min' | 'avg' | 'max' | 'overflows']> = [
  ['# Total:', 'totals'],
  ['# Min Latencies:', 'min'],
  ['# Avg Latencies:', 'avg'],
  ['# Max Latencies:', 'max'],
  ['# Histogram Overflows:', 'overflows'],
];

function readFooterLine(footer: Footer, line: Line): void {
  const t = line.text;
  for (const [prefix, key] of FOOTER_ARRAYS) {
    if (!t.startsWith(prefix)) continue;
    if (footer[key] !== undefined) reject(`"${prefix}" appears twice`, line);
    footer[key] = numbers(t.slice(prefix.length), line);
    return;
  }
  if (t === '# Histogram Overflow at cycle number:') {
    footer.cyclesHeader = true;
    return;
  }
  const thread = /^# Thread (\d+):(.*)$/.exec(t);
  if (thread) {
    if (!footer.cyclesHeader) reject('"# Thread N:" before "# Histogram Overflow at cycle number:"', line);
    if (Number(thread[1]) !== footer.overflowCycles.length) reject(`expected "# Thread ${footer.overflowCycles.length}:"`, line);
    const [listedText, othersText] = (thread[2] as string).split('#');
    const others = othersText === undefined ? 0 : /^\s*(\d+) others\s*$/.exec(othersText)?.[1];
    if (others === undefined) reject('expected "# NNNNN others" after the cycle numbers', line);
    footer.overflowCycles.push({ listed: numbers(listedText ?? '', line), others: Number(others) });
    return;
  }
  const ids = /^# Thread Ids:(.*)$/.exec(t);
  if (ids) {
    footer.threadIds = numbers(ids[1] as string, line);
    return;
  }
  const brk = /^# Break (thread|value):\s*(\d+)\s*$/.exec(t);
  if (brk) {
    if (brk[1] === 'thread') footer.breakThreadId = Number(brk[2]);
    else footer.breakValue = Number(brk[2]);
    return;
  }
  if (t === '' || t.startsWith('#')) return; // blank line, or a comment a newer version added
  reject('unexpected line after the histogram', line);
}

function requireArray(footer: Footer, key: 'min' | 'avg' | 'max' | 'overflows', label: string): number[] {
  const v = footer[key];
  if (v === undefined) reject(`no "${label}" line (output truncated, or cyclictest failed before printing its summary)`);
  return v;
}

// Both 2.4 (every row, `# Total:`) and 2.7+ (non-zero rows only, no `# Total:`) layouts;
// also the screen output without -q, whose ANSI codes and `T:` lines are skipped.
export function parseCyclictestHistogramText(input: string): CyclictestHistogramText {
  const lines: Line[] = input
    .replace(ANSI, '')
    .split('\n')
    .map((text, i) => ({ n: i + 1, text: text.replace(/\r$/, '').trimEnd() }));
  if (lines.every((l) => l.text === '')) reject('the output is empty');
  const start = lines.findIndex((l) => l.text === '# Histogram');
  if (start < 0) reject('no "# Histogram" line: cyclictest was not run with -h, or it failed');
  for (const line of lines.slice(0, start)) if (!isPreamble(line.text)) reject('unexpected line before "# Histogram"', line);

  const rows: { value: number; counts: number[]; line: Line }[] = [];
  let i = start + 1;
  for (; i < lines.length; i++) {
    const line = lines[i] as Line;
    if (line.text.startsWith('#')) break;
    const m = ROW.exec(line.text);
    if (!m) reject('expected a histogram row: a bucket number and one count per thread', line);
    const value = Number(m[1]);
    const prev = rows[rows.length - 1];
    if (prev && value <= prev.value) reject(`bucket ${value} follows bucket ${prev.value}`, line);
    rows.push({ value, counts: numbers(m[2] as string, line), line });
  }

  const footer: Footer = { overflowCycles: [] };
  for (; i < lines.length; i++) readFooterLine(footer, lines[i] as Line);
  const min = requireArray(footer, 'min', '# Min Latencies:');
  const avg = requireArray(footer, 'avg', '# Avg Latencies:');
  const max = requireArray(footer, 'max', '# Max Latencies:');
  const overflows = requireArray(footer, 'overflows', '# Histogram Overflows:');
  const threads = footer.overflowCycles.length;
  if (!footer.cyclesHeader || threads === 0) reject('no "# Thread N:" overflow lines (output truncated?)');
  const perThread: Array<[string, number[] | undefined]> = [
    ['# Total:', footer.totals],
    ['# Min Latencies:', min],
    ['# Avg Latencies:', avg],
    ['# Max Latencies:', max],
    ['# Histogram Overflows:', overflows],
    ['# Thread Ids:', footer.threadIds],
  ];
  for (const [label, values] of perThread) {
    if (values !== undefined && values.length !== threads) {
      reject(`"${label}" has ${values.length} values for ${threads} threads (-H summary columns are not supported)`);
    }
  }
  for (const row of rows) {
    if (row.counts.length !== threads) {
      reject(`histogram row has ${row.counts.length} count columns, expected ${threads} (one per thread)`, row.line);
    }
  }

  const buckets: HistogramBucket[][] = Array.from({ length: threads }, () => []);
  for (const row of rows) row.counts.forEach((c, t) => c > 0 && buckets[t]?.push({ value: row.value, count: c }));
  const totals = footer.totals ?? null;
  totals?.forEach((total, t) => {
    const sum = (buckets[t] ?? []).reduce((s, b) => s + b.count, 0);
    if (sum !== total) reject(`"# Total:" says ${total} for thread ${t}, but its histogram rows add up to ${sum}`);
  });
  footer.overflowCycles.forEach((oc, t) => {
    if (oc.listed.length + oc.others !== overflows[t]) {
      reject(`thread ${t}: ${oc.listed.length} overflow cycles listed + ${oc.others} others ≠ ${overflows[t]} overflows`);
    }
  });

  let breakThread: number | null = null;
  const breakThreadId = footer.breakThreadId ?? null;
  if (breakThreadId !== null && footer.threadIds !== undefined) {
    breakThread = footer.threadIds.indexOf(breakThreadId);
    if (breakThread < 0) reject(`"# Break thread: ${breakThreadId}" is not among "# Thread Ids:" ${footer.threadIds.join(' ')}`);
  }
  return {
    format: totals === null ? '2.7+' : '2.4',
    threads,
    buckets,
    rowCount: rows.length,
    highestRow: rows[rows.length - 1]?.value ?? null,
    totals,
    min,
    avg,
    max,
    overflows,
    overflowCycles: footer.overflowCycles,
    threadIds: footer.threadIds ?? null,
    breakThreadId,
    breakThread,
    breakValue: footer.breakValue ?? null,
  };
}
