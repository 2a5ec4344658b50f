// cyclictest's --json file (rt-tests 2.x). It is not always valid JSON: `avg` is printed as
// `nan`/`-nan` for a thread with 0 cycles, and two keys carry a trailing colon. This module
// repairs exactly those quirks, then checks every field it hands on.
import { ToolOutputParseError } from '../../errors.ts';

const TOOL = 'cyclictest';

export interface CyclictestSysinfo {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  realtime: boolean;
}

export interface CyclictestJsonThread {
  thread: number;
  cpu: number;
  node: number;
  cycles: number;
  min: number;
  max: number;
  /** null where the file said nan (0 cycles). */
  avg: number | null;
  /** Bucket value → count. null when the key is absent (2.7+ without -h); empty for `{}`. */
  histogram: Map<number, number> | null;
}

export interface CyclictestJsonReport {
  fileVersion: number;
  cmdline: string;
  /** e.g. "2.40" */
  version: string;
  startTime: string;
  endTime: string;
  returnCode: number;
  sysinfo: CyclictestSysinfo | null;
  numThreads: number;
  /** The JSON calls it `resolution_in_ns`, but it is the -N flag: figures are in ns. */
  nsResolution: boolean;
  threads: CyclictestJsonThread[];
  /** The -h/-H argument found in `cmdline`, null when none was found. */
  histogramArg: number | null;
}

type Json = Record<string, unknown>;

// Why a scanner and not a regex: a `: nan` inside a string (the command line) must stay text.
// Only a bare nan/inf token in a value position (after a colon) becomes null.
export function repairNonFiniteNumbers(text: string): string {
  const out: string[] = [];
  let inString = false;
  let lastSignificant = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      lastSignificant = ch;
      continue;
    }
    if (lastSignificant === ':' && (ch === 'n' || ch === 'N' || ch === '-' || ch === 'i' || ch === 'I')) {
      const m = /^-?(?:nan|inf(?:inity)?)(?![A-Za-z0-9_])/i.exec(text.slice(i, i + 10));
      if (m) {
        out.push(text.slice(start, i), 'null');
        i += m[0].length - 1;
        start = i + 1;
        lastSignificant = 'l';
        continue;
      }
    }
    if (!/\s/.test(ch)) lastSignificant = ch;
  }
  out.push(text.slice(start));
  return out.join('');
}

function lineOf(text: string, message: string): { lineNumber?: number; line?: string } {
  const pos = /position (\d+)/.exec(message);
  const lc = /line (\d+)/.exec(message);
  let lineNumber: number | undefined;
  if (lc) lineNumber = Number(lc[1]);
  else if (pos) lineNumber = text.slice(0, Number(pos[1])).split('\n').length;
  else if (/end of (JSON )?input/i.test(message)) lineNumber = text.split('\n').length;
  if (lineNumber === undefined) return {};
  return { lineNumber, line: text.split('\n')[lineNumber - 1] ?? '' };
}

function bad(path: string, problem: { expected: string; found: unknown }): never {
  const shown = problem.found === undefined ? 'nothing' : JSON.stringify(problem.found);
  throw new ToolOutputParseError(TOOL, `${path}: expected ${problem.expected}, found ${shown}`, { source: '--json file' });
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function asObject(v: unknown, path: string): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : bad(path, { expected: 'an object', found: v });
}

/** Typed reads of one JSON object; every failure names the dotted path of the field. */
function reader(v: unknown, path: string) {
  const obj = asObject(v, path);
  const at = (key: string): string => (path === '' ? key : `${path}.${key}`);
  const field = (key: string): unknown => (key in obj ? obj[key] : bad(at(key), { expected: 'the key to be present', found: undefined }));
  return {
    obj,
    at,
    field,
    text: (key: string): string => {
      const f = field(key);
      return typeof f === 'string' ? f : bad(at(key), { expected: 'a string', found: f });
    },
    count: (key: string): number => {
      const f = field(key);
      return isCount(f) ? f : bad(at(key), { expected: 'a whole number ≥ 0', found: f });
    },
  };
}

function parseHistogram(v: unknown, path: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const [key, c] of Object.entries(asObject(v, path))) {
    if (!/^\d+$/.test(key)) bad(path, { expected: 'bucket keys that are whole numbers', found: key });
    if (!isCount(c)) bad(`${path}.${key}`, { expected: 'a whole count ≥ 0', found: c });
    map.set(Number(key), c);
  }
  return map;
}

function parseThread(v: unknown, index: number): CyclictestJsonThread {
  const t = reader(v, `thread.${index}`);
  const avg = t.field('avg');
  if (avg !== null && !(typeof avg === 'number' && Number.isFinite(avg))) bad(t.at('avg'), { expected: 'a number or nan', found: avg });
  const cpu = t.field('cpu');
  if (!(typeof cpu === 'number' && Number.isSafeInteger(cpu) && cpu >= -1)) bad(t.at('cpu'), { expected: 'a CPU number', found: cpu });
  const node = t.obj['node'];
  return {
    thread: index,
    cpu,
    node: typeof node === 'number' ? node : -1,
    cycles: t.count('cycles'),
    min: t.count('min'),
    max: t.count('max'),
    avg,
    histogram: 'histogram' in t.obj ? parseHistogram(t.obj['histogram'], t.at('histogram')) : null,
  };
}

function parseSysinfo(v: unknown): CyclictestSysinfo | null {
  if (v === undefined) return null;
  const s = reader(v, 'sysinfo');
  const realtime = s.field('realtime');
  if (realtime !== 0 && realtime !== 1) bad(s.at('realtime'), { expected: '0 or 1', found: realtime });
  return {
    sysname: s.text('sysname'),
    nodename: s.text('nodename'),
    release: s.text('release'),
    version: s.text('version'),
    machine: s.text('machine'),
    realtime: realtime === 1,
  };
}

// cmdline is argv joined with spaces; getopt also takes `-h50`, `--histogram=50`, `-H 50`.
export function findHistogramArg(cmdline: string): number | null {
  const tokens = cmdline.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const glued = /^(?:-[hH]|--histogram=|--histofall=)(\d+)$/.exec(t);
    if (glued) return Number(glued[1]);
    if (/^(?:-[hH]|--histogram|--histofall)$/.test(t) && /^\d+$/.test(tokens[i + 1] ?? '')) return Number(tokens[i + 1]);
  }
  return null;
}

// The figures of one run as written by `cyclictest --json=FILE`; the histogram's overflow
// count is not in the file (combineCyclictest derives it).
export function parseCyclictestJson(input: string): CyclictestJsonReport {
  if (input.trim() === '') throw new ToolOutputParseError(TOOL, 'the --json file is empty', { source: '--json file' });
  const repaired = repairNonFiniteNumbers(input);
  let raw: unknown;
  try {
    raw = JSON.parse(repaired);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ToolOutputParseError(TOOL, `invalid JSON (truncated file?): ${message}`, {
      source: '--json file',
      ...lineOf(repaired, message),
    });
  }
  const doc = reader(raw, '');
  // 2.x writes these two keys with a trailing colon; accept the plain spelling too.
  const cmdline = 'cmdline:' in doc.obj ? doc.text('cmdline:') : doc.text('cmdline');
  const version = 'rt_test_version:' in doc.obj ? doc.text('rt_test_version:') : doc.text('rt_test_version');
  const numThreads = doc.count('num_threads');
  const threadsObj = asObject(doc.field('thread'), 'thread');
  const keys = Object.keys(threadsObj);
  const expectedKeys = Array.from({ length: numThreads }, (_, i) => String(i));
  if (keys.length !== numThreads || expectedKeys.some((k) => !(k in threadsObj))) {
    bad('thread', { expected: `keys 0..${numThreads - 1} (num_threads is ${numThreads})`, found: keys });
  }
  const resolution = doc.field('resolution_in_ns');
  if (resolution !== 0 && resolution !== 1) bad('resolution_in_ns', { expected: '0 or 1 (the -N flag)', found: resolution });
  const returnCode = doc.field('return_code');
  if (!(typeof returnCode === 'number' && Number.isInteger(returnCode))) bad('return_code', { expected: 'a whole number', found: returnCode });
  return {
    fileVersion: doc.count('file_version'),
    cmdline,
    version,
    startTime: doc.text('start_time'),
    endTime: doc.text('end_time'),
    returnCode,
    sysinfo: parseSysinfo(doc.obj['sysinfo']),
    numThreads,
    nsResolution: resolution === 1,
    threads: expectedKeys.map((k, i) => parseThread(threadsObj[k], i)),
    histogramArg: findHistogramArg(cmdline),
  };
}
