// Data whose shape the report does not know yet (run.comparison while lib/report/comparison.ts
// is being written, new detail kinds) is still shown, as tables of its own keys: a reader
// gets every figure, only less pretty. Pure.

export type GenericBlock =
  | { kind: 'table'; title: string; columns: string[]; rows: string[][] }
  | { kind: 'pairs'; title: string; pairs: [string, string][] }
  | { kind: 'text'; title: string; text: string };

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

// Scalars print as themselves; small nested values as compact JSON.
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toFixed(3))) : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return JSON.stringify(v);
}

function tableOf(title: string, list: Obj[]): GenericBlock {
  const columns = [...new Set(list.flatMap((o) => Object.keys(o)))];
  return { kind: 'table', title, columns, rows: list.map((o) => columns.map((c) => formatCell(o[c]))) };
}

// Lists of objects become tables, objects of scalars become key/value pairs, one level of
// nesting is followed, and anything deeper is shown as JSON text.
export function buildGenericBlocks(value: unknown, title = ''): GenericBlock[] {
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every(isObject)) return [tableOf(title, value)];
    return [{ kind: 'text', title, text: JSON.stringify(value, null, 2) }];
  }
  if (!isObject(value)) return [{ kind: 'text', title, text: formatCell(value) }];
  const blocks: GenericBlock[] = [];
  const pairs: [string, string][] = [];
  for (const [key, v] of Object.entries(value)) {
    const name = title ? `${title} · ${key}` : key;
    if (Array.isArray(v) && v.length > 0 && v.every(isObject)) blocks.push(tableOf(name, v));
    else if (isObject(v) && Object.values(v).every((x) => !isObject(x) && !Array.isArray(x))) blocks.push({ kind: 'pairs', title: name, pairs: Object.entries(v).map(([k, x]) => [k, formatCell(x)]) });
    else if (isObject(v) || Array.isArray(v)) blocks.push({ kind: 'text', title: name, text: JSON.stringify(v, null, 2) });
    else pairs.push([key, formatCell(v)]);
  }
  if (pairs.length > 0) blocks.unshift({ kind: 'pairs', title, pairs });
  return blocks;
}
