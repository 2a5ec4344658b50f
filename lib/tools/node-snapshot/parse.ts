// Turns the snapshot script's output into a NodeSnapshot. The audit judges a node from
// this object alone, so a truncated or foreign output must be rejected here rather than
// read as "the file was empty", which could turn into a false pass.
import { ToolOutputParseError } from '../../errors.ts';

export interface CommandOutput {
  exitCode: number;
  /** stdout and stderr together, exactly as printed. */
  stdout: string;
}

/** What one node showed at one moment. Paths are absolute, as on the node. */
export interface NodeSnapshot {
  /** Files (and glob matches) read successfully, content exactly as read. */
  files: Map<string, string>;
  /** Symbolic links read with readlink, e.g. a NIC's `device/driver`. */
  links: Map<string, string>;
  /** Paths that did not exist, and glob patterns that matched nothing. */
  missing: Set<string>;
  /** Paths that existed but could not be read, with the reader's message. */
  errors: Map<string, string>;
  /** Command outputs by name, e.g. `uname-v`, `virsh-dumpxml.guest1`. */
  commands: Map<string, CommandOutput>;
}

const TOOL = 'node snapshot';
const BOUNDARY_SHAPE = /^[A-Za-z0-9-]{8,80}$/;

// Parsers, tree readers and tests all start from the same empty shape.
export function createEmptySnapshot(): NodeSnapshot {
  return { files: new Map(), links: new Map(), missing: new Set(), errors: new Map(), commands: new Map() };
}

type OpenItem = { kind: 'file' | 'link' | 'cmd'; name: string; startLine: number; body: string[] };

// Item headers look like `==> <boundary> <kind> <name> <==`; only our boundary counts,
// so a file that happens to contain `==> x <==` lines stays content.
function matchHeader(line: string, boundary: string): { kind: string; arg: string } | undefined {
  const prefix = `==> ${boundary} `;
  if (!line.startsWith(prefix) || !line.endsWith(' <==')) return undefined;
  const rest = line.slice(prefix.length, -' <=='.length);
  const space = rest.indexOf(' ');
  return space < 0 ? { kind: rest, arg: '' } : { kind: rest.slice(0, space), arg: rest.slice(space + 1) };
}

function store(snapshot: NodeSnapshot, item: OpenItem, status: number): void {
  // The script prints one newline after every item so that the end line starts a line;
  // joining the body lines gives back the content exactly, trailing newline or not.
  const content = item.body.join('\n');
  if (item.kind === 'cmd') {
    snapshot.commands.set(item.name, { exitCode: status, stdout: content });
  } else if (status !== 0) {
    snapshot.errors.set(item.name, content.trim() || `read failed with exit status ${status}`);
  } else if (item.kind === 'link') {
    snapshot.links.set(item.name, content.trim());
  } else {
    snapshot.files.set(item.name, content);
  }
}

// Pure: the text printed by buildSnapshotScript's script, and the boundary it was built with.
export function parseNodeSnapshot(text: string, boundary: string): NodeSnapshot {
  if (!BOUNDARY_SHAPE.test(boundary)) {
    throw new ToolOutputParseError(TOOL, `expected a boundary of 8-80 letters, digits or dashes, got ${JSON.stringify(boundary)}`);
  }
  const lines = text.split('\n');
  const fail = (message: string, index: number): never => {
    throw new ToolOutputParseError(TOOL, message, { lineNumber: index + 1, line: lines[index] ?? '' });
  };
  const begin = lines.findIndex((l) => matchHeader(l, boundary)?.kind === 'begin');
  if (begin < 0) {
    throw new ToolOutputParseError(TOOL, `no "==> ${boundary} begin" line: not the snapshot script's output, or another run's`, {
      lineNumber: 1,
      line: lines[0] ?? '',
    });
  }
  const snapshot = createEmptySnapshot();
  let open: OpenItem | undefined;
  for (let i = begin + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = matchHeader(line, boundary);
    if (open) {
      if (!header) {
        open.body.push(line);
        continue;
      }
      if (header.kind !== 'end') fail(`expected the end of ${open.kind} ${open.name} (opened at line ${open.startLine}), found another header`, i);
      if (!/^\d{1,3}$/.test(header.arg)) fail(`expected an exit status after "end", got ${JSON.stringify(header.arg)}`, i);
      store(snapshot, open, Number(header.arg));
      open = undefined;
      continue;
    }
    if (!header) fail('expected an item header between items, found text', i);
    const h = header as { kind: string; arg: string };
    if (h.kind === 'done') {
      const trailing = lines.slice(i + 1).findIndex((l) => l.trim() !== '');
      if (trailing >= 0) fail('expected nothing after the done line', i + 1 + trailing);
      return snapshot;
    }
    if (h.arg === '') fail(`expected a path or name after "${h.kind}"`, i);
    if (h.kind === 'missing') snapshot.missing.add(h.arg);
    else if (h.kind === 'file' || h.kind === 'link' || h.kind === 'cmd') open = { kind: h.kind, name: h.arg, startLine: i + 1, body: [] };
    else fail(`unknown item kind ${JSON.stringify(h.kind)}`, i);
  }
  const where = open ? `inside ${open.kind} ${open.name} (opened at line ${open.startLine})` : 'between items';
  throw new ToolOutputParseError(TOOL, `output ends ${where} with no done line: truncated`, {
    lineNumber: lines.length,
    line: lines[lines.length - 1] ?? '',
  });
}
