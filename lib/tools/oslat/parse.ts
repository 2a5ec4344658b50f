// oslat's stdout (rt-tests src/oslat/oslat.c, write_summary): one column per thread, rows printed
// as printf("%12s:\t", label) followed by " <value>" per thread. Two formats are read:
// - rt-tests ≤ 2.6 ("Counter Freq: ... (Mhz)"): 2.4 (Debian 12) counts a gap of floor(µs) in
//   bucket floor(µs) and reports it as floor(µs)+1 (min, max and the row label alike); 2.5 and
//   2.6 round up (ceil);
// - rt-tests ≥ 2.7 ("(MHz)", commit "oslat: convert to nanoseconds correctly"): a gap of
//   floor(µs) is reported as floor(µs), in the row labelled floor(µs)+1.
// Either way the row labelled L (width w) holds gaps from L−w up to L, and the last row holds
// every gap too large for the others ("(including overflows)"): oslat prints no separate count.
import { lineRejecter, splitTextLines, type TextLine as Line } from '../text-lines.ts';

const TOOL = 'oslat';

export type OslatRounding = 'floor-plus-one' | 'ceil' | 'floor';

export interface OslatThreadOutput {
  thread: number;
  cpu: number;
  counterMhz: number;
  /** Printed rows, zero rows omitted by --zero-omit left out; the last is the overflow row. */
  rows: Array<{ labelUs: number; count: number }>;
  minUs: number;
  /** oslat's own average, computed from the row labels (upper bounds). */
  avgUs: number;
  maxUs: number;
  durationS: number;
}

export interface OslatOutput {
  /** As printed: "2.40" for rt-tests 2.4, "2.10" for 2.10 (and for 2.1: see release). */
  versionText: string;
  /** The rt-tests release, told apart by the output format where the printed number is ambiguous. */
  release: string;
  rounding: OslatRounding;
  threads: OslatThreadOutput[];
  /** The label of the last row, i.e. bucket size × width. */
  lastLabelUs: number;
  /** Header lines, absent under --quiet. */
  header: { runtimeS?: number; priority?: number | 'default'; cpuList?: string; mainCpu?: number };
  warnings: string[];
}


// Typed here: TypeScript narrows after a never-returning call only through an annotated const.
const reject: (message: string, line?: Line) => never = lineRejecter(TOOL, 'stdout');

// "2.40" → 2.4 before the MHz spelling (≤ 2.6, VERSION printed with %1.2f); after it, "2.70",
// "2.80", "2.90" are 2.7 to 2.9 and "2.10" is 2.10 (2.1 printed "(Mhz)").
function releaseOf(versionText: string, mhzSpelling: boolean): { release: string; rounding: OslatRounding } {
  const [major = '0', minor = '00'] = versionText.split('.');
  const dropZero = `${major}.${minor.replace(/0$/, '') || '0'}`;
  if (!mhzSpelling) {
    const release = dropZero;
    const [maj, min] = release.split('.').map(Number) as [number, number];
    return { release, rounding: maj > 2 || (maj === 2 && min >= 5) ? 'ceil' : 'floor-plus-one' };
  }
  const first = Number(minor[0] ?? '0');
  const release = minor.endsWith('0') && major === '2' && first >= 7 ? dropZero : versionText;
  return { release, rounding: 'floor' };
}

function numbers(line: Line, label: string, threads: number | undefined, pattern: RegExp): number[] {
  const values = line.text.slice(line.text.indexOf(':\t') + 2).trim();
  const m = pattern.exec(values);
  if (!m) reject(`"${label}" row is not in oslat's format`, line);
  const list = (m[1] ?? '').trim().split(/\s+/).map(Number);
  if (list.some((v) => !Number.isFinite(v) || v < 0)) reject(`"${label}" row holds a value that is not a number ≥ 0`, line);
  if (threads !== undefined && list.length !== threads) reject(`"${label}" has ${list.length} values for ${threads} threads`, line);
  return list;
}

function parseHeader(lines: Line[], out: OslatOutput['header']): void {
  for (const line of lines) {
    const m = /^(Total runtime|Thread priority|CPU list|CPU for main thread):\s*(.*)$/.exec(line.text);
    if (!m) continue;
    const value = (m[2] ?? '').trim();
    if (m[1] === 'Total runtime') out.runtimeS = Number(/^(\d+) seconds$/.exec(value)?.[1] ?? NaN);
    if (m[1] === 'Thread priority') out.priority = value === 'default' ? 'default' : Number(/^SCHED_FIFO:(\d+)$/.exec(value)?.[1] ?? NaN);
    if (m[1] === 'CPU list') out.cpuList = value;
    if (m[1] === 'CPU for main thread') out.mainCpu = Number(value);
  }
}

/** Parses one run's stdout; anything that does not fit oslat's own printing is refused. */
export function parseOslatOutput(stdout: string): OslatOutput {
  const lines = splitTextLines(stdout);
  const first = lines.find((l) => l.text.trim() !== '');
  const version = first && /^oslat V (\d+\.\d+)$/.exec(first.text.trim());
  if (!first || !version) reject('expected "oslat V <x.yz>" as the first line', first);
  for (const line of lines) {
    if (/^(ERROR|Accumulated overflow too much|Bucket \d+ overflowed)/.test(line.text)) reject('oslat reported an error', line);
  }
  const header: OslatOutput['header'] = {};
  parseHeader(lines, header);
  const warnings = lines.filter((l) => /^WARNING:/.test(l.text)).map((l) => l.text);

  const coreAt = lines.findIndex((l) => /^\s*Core:\t/.test(l.text));
  if (coreAt < 0) reject('no "Core:" row: the run printed no summary (killed, or failed before the end)');
  const rowsText = lines.slice(coreAt);
  const cores = numbers(rowsText[0] as Line, 'Core', undefined, /^((?:\d+\s*)+)$/);
  const n = cores.length;
  const freqLine = rowsText[1];
  const freq = freqLine && /^\s*Counter Freq:\t((?:\s+\d+)+) \((Mhz|MHz)\)$/.exec(freqLine.text);
  if (!freqLine || !freq) reject('expected "Counter Freq: ... (MHz)" after "Core:"', freqLine);
  const mhz = (freq[1] ?? '').trim().split(/\s+/).map(Number);
  if (mhz.length !== n) reject(`"Counter Freq" has ${mhz.length} values for ${n} threads`, freqLine);
  const { release, rounding } = releaseOf(version[1] as string, freq[2] === 'MHz');

  const rows: Array<{ labelUs: number; counts: number[]; overflow: boolean; line: Line }> = [];
  let at = 2;
  for (; at < rowsText.length; at++) {
    const line = rowsText[at] as Line;
    if (/^\s*\.\.\.$/.test(line.text)) continue;
    const m = /^\s*(\d+(?:\.\d+)?) \(us\):\t((?:\s+\d+)+)( \(including overflows\))?$/.exec(line.text);
    if (!m) break;
    if ((m[1] ?? '').includes('.')) reject('a ns-precision histogram (--bucket-width not a multiple of 1000 ns) is not read by this suite', line);
    if (rows.at(-1)?.overflow) reject('a histogram row follows the "(including overflows)" row', line);
    const labelUs = Number(m[1]);
    if (rows.length > 0 && labelUs <= (rows.at(-1) as { labelUs: number }).labelUs) reject('histogram rows are not in increasing order', line);
    const counts = numbers(line, `${m[1]} (us)`, n, /^((?:\d+\s*)+)(?:\(including overflows\))?$/);
    rows.push({ labelUs, counts, overflow: m[3] !== undefined, line });
  }
  const last = rows.at(-1);
  if (!last?.overflow) reject('the histogram has no "(including overflows)" row, which oslat always prints last', rowsText[at]);

  const stat = (label: string, unit: string): number[] => {
    const line = rowsText[at];
    if (!line || !new RegExp(`^\\s*${label}:\\t`).test(line.text)) reject(`expected the "${label}" row`, line);
    at += 1;
    return numbers(line, label, n, new RegExp(`^((?:\\d+(?:\\.\\d+)?\\s*)+)\\(${unit}\\)$`));
  };
  const min = stat('Minimum', 'us');
  const avg = stat('Average', 'us');
  const max = stat('Maximum', 'us');
  const spread = stat('Max-Min', 'us');
  const duration = stat('Duration', 'sec');

  const threads = cores.map((cpu, i): OslatThreadOutput => {
    const t = { thread: i, cpu, counterMhz: mhz[i] as number, minUs: min[i] as number, avgUs: avg[i] as number, maxUs: max[i] as number, durationS: duration[i] as number };
    if (t.minUs > t.maxUs) reject(`thread ${i}: Minimum ${t.minUs} is above Maximum ${t.maxUs}`);
    if (Math.abs(t.maxUs - t.minUs - (spread[i] as number)) > 1e-6) reject(`thread ${i}: Max-Min ${spread[i]} is not Maximum − Minimum`);
    return { ...t, rows: rows.map((r) => ({ labelUs: r.labelUs, count: r.counts[i] as number })) };
  });
  return { versionText: version[1] as string, release, rounding, threads, lastLabelUs: last.labelUs, header, warnings };
}
