// Sorting the keys and roles of a pod file into: ours, Yardstick's (accepted, unused), a
// misspelling of ours (bad input, with the right name), or unknown (kept with a note).
// The lists of "ours" are passed in from the schema, so a key added there is covered here.
import { findYardstickKey, type YardstickNodeKey } from './pod-yardstick.ts';

export type KeyClass =
  | { kind: 'suite' }
  | { kind: 'yardstick'; entry: YardstickNodeKey }
  | { kind: 'misspelt'; suggestion: string }
  | { kind: 'unknown'; nearYardstick?: string };

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
// two neighbours each cost one, so "rt_cpu" is 1 from "rt_cpus" and "hots" 1 from "host".
export function measureEditDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

// How far a name may be from one of ours and still be read as a slip of the keyboard:
// none for names of up to 3 characters (ip), one up to 5 (user, ports), two beyond.
export function maxSlipDistance(length: number): number {
  if (length <= 3) return 0;
  return length <= 5 ? 1 : 2;
}

const normalize = (name: string) => name.trim().toLowerCase().replaceAll('-', '_');

// The candidate a name is a slip of (case, "-" for "_", or a small edit), if any; the closest wins.
export function findCloseName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = measureEditDistance(wanted, normalize(candidate));
    if (distance > maxSlipDistance(candidate.length)) continue;
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best?.name;
}

// Sort one key of a pod file; suite keys come from the schema, Yardstick's from pod-yardstick.ts.
export function classifyKey(key: string, suiteKeys: readonly string[], yardstickKeys: readonly YardstickNodeKey[]): KeyClass {
  if (suiteKeys.includes(key)) return { kind: 'suite' };
  const entry = findYardstickKey(key, yardstickKeys);
  if (entry) return { kind: 'yardstick', entry };
  const suggestion = findCloseName(key, suiteKeys);
  if (suggestion) return { kind: 'misspelt', suggestion };
  const nearYardstick = findCloseName(
    key,
    yardstickKeys.map((k) => k.key),
  );
  return nearYardstick ? { kind: 'unknown', nearYardstick } : { kind: 'unknown' };
}

/** Key names that hold secrets, wherever they sit in a pod file's Yardstick or unknown keys. */
const SECRET_KEY = /pass(word|wd|phrase)?$|pwd$|secret|token|pkey|private_key|license/i;

// Every string under a secret-looking key of a value the suite does not read, so that the
// redactor hides them even though the suite never prints them on purpose.
export function collectNestedSecrets(value: unknown, underSecretKey = false): string[] {
  if (typeof value === 'string' || typeof value === 'number') return underSecretKey && String(value) !== '' ? [String(value)] : [];
  if (Array.isArray(value)) return value.flatMap((v) => collectNestedSecrets(v, underSecretKey));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => collectNestedSecrets(v, underSecretKey || SECRET_KEY.test(k)));
  }
  return [];
}
