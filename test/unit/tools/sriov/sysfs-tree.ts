// Lays out a sysfs-like tree from a `.tree` fixture (dir / file / link lines) under a fresh
// temporary root, so the SR-IOV scripts run unchanged against a documented layout.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function buildSysfsTree(fixture: string): string {
  const root = mkdtempSync(join(tmpdir(), 'kfn-sysfs-'));
  const text = readFileSync(new URL(`../../../fixtures/sriov/${fixture}`, import.meta.url), 'utf8');
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^(dir|file|link) (\S+)(?: (=|->) ?(.*))?$/.exec(line);
    if (!m) throw new Error(`${fixture}:${i + 1}: cannot read ${JSON.stringify(line)}`);
    const [, kind, path, , value] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const full = join(root, path);
    mkdirSync(kind === 'dir' ? full : dirname(full), { recursive: true });
    if (kind === 'file') writeFileSync(full, value ? `${value}\n` : '');
    if (kind === 'link') symlinkSync(value as string, full);
  }
  return root;
}
