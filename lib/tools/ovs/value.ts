// Parsers for the values ovs-vsctl prints (`get`, `list`): OVSDB atoms, sets and maps in
// the syntax of ovs-vsctl(8) "Database Values". Strings come bare when unambiguous
// (`netdev`, `client`) and double-quoted with C escapes otherwise (`"0x2"`, `"DPDK 22.11.11"`),
// so a naive split on commas or `=` reads a quoted `--file-prefix=x` wrongly.
import { ToolOutputParseError } from '../../errors.ts';

const TOOL = 'ovs-vsctl';

// One atom: the unquoted text of a quoted string, or the bare word as printed.
export function parseOvsdbAtom(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new ToolOutputParseError(TOOL, 'expected a value, found an empty string');
  if (trimmed.startsWith('"')) {
    const { value, end } = readQuoted(trimmed, 0);
    if (end !== trimmed.length) throw new ToolOutputParseError(TOOL, 'expected one quoted string, found text after its closing quote', { line: trimmed });
    return value;
  }
  if (/[\s,{}[\]="]/.test(trimmed)) throw new ToolOutputParseError(TOOL, 'expected a bare word or a quoted string', { line: trimmed });
  return trimmed;
}

// A set column: `[]`, `[a, b]`, or a single atom printed without brackets (min 0, max 1 columns).
export function parseOvsdbSet(text: string): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return [parseOvsdbAtom(trimmed)];
  if (!trimmed.endsWith(']')) throw new ToolOutputParseError(TOOL, 'expected a set ending in "]"', { line: trimmed });
  return splitTopLevel(trimmed.slice(1, -1)).map(parseOvsdbAtom);
}

// A map column such as other_config: `{}` or `{key=value, "k 2"="v 2"}`, keys and values unquoted.
export function parseOvsdbMap(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    throw new ToolOutputParseError(TOOL, 'expected a map in braces like {key=value}', { line: trimmed });
  }
  const out: Record<string, string> = {};
  for (const pair of splitTopLevel(trimmed.slice(1, -1))) {
    const eq = findTopLevel(pair, '=');
    if (eq < 0) throw new ToolOutputParseError(TOOL, 'expected key=value in a map', { line: pair });
    const key = parseOvsdbAtom(pair.slice(0, eq));
    if (key in out) throw new ToolOutputParseError(TOOL, `map key ${JSON.stringify(key)} appears twice`, { line: trimmed });
    out[key] = parseOvsdbAtom(pair.slice(eq + 1));
  }
  return out;
}

// An integer column (ofport, cur_cfg); `[]` (not yet assigned) is null, anything else an error.
export function parseOvsdbInteger(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '[]') return null;
  if (!/^-?\d+$/.test(trimmed)) throw new ToolOutputParseError(TOOL, 'expected an integer or []', { line: trimmed });
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) throw new ToolOutputParseError(TOOL, 'integer out of the safe range', { line: trimmed });
  return value;
}

// `ovs-vsctl list` and `--columns=... list`: records separated by blank lines, `column : value`.
// Values stay raw text; callers parse the columns they read with the functions above.
export function parseVsctlRecords(text: string): Array<Record<string, string>> {
  const records: Array<Record<string, string>> = [];
  let current: Record<string, string> | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    // The column is padded to 20 characters, and longer names run straight into the colon.
    const m = /^([a-z_][a-z0-9_]*)\s*:\s?(.*)$/.exec(line);
    if (!m) throw new ToolOutputParseError(TOOL, 'expected "column : value" in a record listing', { lineNumber: i + 1, line });
    if (!current) {
      current = {};
      records.push(current);
    }
    const [, column, value] = m as unknown as [string, string, string];
    if (column in current) throw new ToolOutputParseError(TOOL, `column ${column} appears twice in one record`, { lineNumber: i + 1, line });
    current[column] = value.trim();
  }
  return records;
}

// `ovs-vsctl get TABLE RECORD col1 col2 ...` prints one value per line, in the order asked.
export function parseVsctlGet(text: string, columns: readonly string[]): Record<string, string> {
  const lines = text.replace(/\n$/, '').split('\n');
  if (text.trim() === '' || lines.length !== columns.length) {
    throw new ToolOutputParseError(TOOL, `expected ${columns.length} line(s) for ${columns.join(', ')}, found ${text.trim() === '' ? 0 : lines.length}`);
  }
  return Object.fromEntries(columns.map((c, i) => [c, (lines[i] as string).trim()]));
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') return { value, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/' };
    if (next !== undefined && next in simple) {
      value += simple[next];
      i += 2;
    } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      throw new ToolOutputParseError(TOOL, `unknown escape \\${next ?? ''} in a quoted string`, { line: text });
    }
  }
  throw new ToolOutputParseError(TOOL, 'a quoted string has no closing quote', { line: text });
}

/** Index of `target` outside quotes, or -1. */
function findTopLevel(text: string, target: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      i = readQuoted(text, i).end - 1;
      continue;
    }
    if (text[i] === target) return i;
  }
  return -1;
}

/** Splits on commas outside quotes; an empty body is an empty list. */
function splitTopLevel(body: string): string[] {
  if (body.trim() === '') return [];
  const parts: string[] = [];
  let rest = body;
  for (;;) {
    const comma = findTopLevel(rest, ',');
    if (comma < 0) {
      parts.push(rest.trim());
      break;
    }
    parts.push(rest.slice(0, comma).trim());
    rest = rest.slice(comma + 1);
  }
  if (parts.some((p) => p === '')) throw new ToolOutputParseError(TOOL, 'empty element in a set or map', { line: body });
  return parts;
}
