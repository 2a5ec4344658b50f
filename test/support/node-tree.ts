// A NodeSnapshot kept as a directory tree, so that recorded nodes (test fixtures, or a
// pod's state saved for a bug report) can be audited exactly like a live one.
// This is the one file of lib/tools/node-snapshot that touches the local disk.
//
// Layout of <dir>:
//   proc/cmdline, sys/...          each snapshot file at its absolute path
//   _commands/<name>.stdout        command output; <name> is encodeURIComponent'd
//   _commands/<name>.exit          its exit status as a number
//   _meta/missing                  one missing path or unmatched glob per line
//   _meta/errors                   `<path>\t<message>` per line (message on one line)
//   _meta/links                    `<path>\t<target>` per line
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ToolOutputParseError } from '../../lib/errors.ts';
import { createEmptySnapshot, type NodeSnapshot } from '../../lib/tools/node-snapshot/parse.ts';

const COMMANDS_DIR = '_commands';
const META_DIR = '_meta';

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function parseTabLines(text: string | undefined, source: string): Array<[string, string]> {
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      const tab = line.indexOf('\t');
      if (tab <= 0) throw new ToolOutputParseError('node snapshot tree', 'expected "<path>\\t<text>"', { lineNumber: index + 1, line, source });
      return [line.slice(0, tab), line.slice(tab + 1)];
    });
}

// Test fixtures and saved pod states are trees on disk; the audit reads only NodeSnapshots.
export async function snapshotFromTree(dir: string): Promise<NodeSnapshot> {
  const snapshot = createEmptySnapshot();
  for (const file of await listFiles(dir)) {
    const rel = relative(dir, file).split(sep).join('/');
    if (rel.startsWith(`${COMMANDS_DIR}/`) || rel.startsWith(`${META_DIR}/`)) continue;
    snapshot.files.set(`/${rel}`, await readFile(file, 'utf8'));
  }
  const commandsDir = join(dir, COMMANDS_DIR);
  const commandFiles = await listFiles(commandsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const file of commandFiles.filter((f) => f.endsWith('.stdout'))) {
    const base = file.slice(0, -'.stdout'.length);
    const exitText = await readOptional(`${base}.exit`);
    const source = relative(dir, `${base}.exit`);
    if (exitText === undefined || !/^\d{1,3}\s*$/.test(exitText)) {
      throw new ToolOutputParseError('node snapshot tree', `expected an exit status number in ${source}`, { line: exitText ?? '(no file)', source: dir });
    }
    const name = decodeURIComponent(relative(commandsDir, base));
    snapshot.commands.set(name, { exitCode: Number(exitText.trim()), stdout: await readFile(file, 'utf8') });
  }
  const missing = await readOptional(join(dir, META_DIR, 'missing'));
  for (const line of (missing ?? '').split('\n')) if (line !== '') snapshot.missing.add(line);
  for (const [path, message] of parseTabLines(await readOptional(join(dir, META_DIR, 'errors')), `${dir}/_meta/errors`)) {
    snapshot.errors.set(path, message);
  }
  for (const [path, target] of parseTabLines(await readOptional(join(dir, META_DIR, 'links')), `${dir}/_meta/links`)) {
    snapshot.links.set(path, target);
  }
  return snapshot;
}

// Recording a node (the lab fixture, a pod's state for a bug report) writes the inverse of snapshotFromTree.
export async function writeSnapshotTree(snapshot: NodeSnapshot, dir: string): Promise<void> {
  const put = async (rel: string, content: string) => {
    const target = join(dir, rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  };
  for (const [path, content] of snapshot.files) {
    if (!path.startsWith('/') || path.split('/').includes('..')) throw new TypeError(`snapshot path must be absolute with no "..": ${path}`);
    await put(path.slice(1), content);
  }
  for (const [name, output] of snapshot.commands) {
    const base = `${COMMANDS_DIR}/${encodeURIComponent(name)}`;
    await put(`${base}.stdout`, output.stdout);
    await put(`${base}.exit`, `${output.exitCode}\n`);
  }
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
  const lines = (entries: Iterable<string>) => [...entries].sort().map((l) => `${l}\n`).join('');
  await put(`${META_DIR}/missing`, lines(snapshot.missing));
  await put(`${META_DIR}/errors`, lines([...snapshot.errors].map(([p, m]) => `${p}\t${oneLine(m)}`)));
  await put(`${META_DIR}/links`, lines([...snapshot.links].map(([p, t]) => `${p}\t${oneLine(t)}`)));
}
