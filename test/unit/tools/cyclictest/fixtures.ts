// Reads the recorded cyclictest outputs under test/fixtures/cyclictest (see each *.source.md).
import { readFileSync } from 'node:fs';

const DIR = new URL('../../../fixtures/cyclictest/', import.meta.url);

export function readFixture(name: string): string {
  return readFileSync(new URL(name, DIR), 'utf8');
}

/** Replaces exactly one occurrence, so that a test's edit cannot silently miss. */
export function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from, 'g')) ?? []).length;
  if (count !== 1) throw new Error(`expected one ${String(from)} in the fixture, found ${count}`);
  return text.replace(from, to);
}
