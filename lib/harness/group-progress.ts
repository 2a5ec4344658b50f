// Progress of compute groups measured side by side: on a terminal, one line per group redrawn
// in place (its state and its running measurement); otherwise plain lines prefixed with the
// group, at a bounded rate per measurement, so that a Jenkins log stays readable.
import { bar, createProgress, formatSeconds, type Progress, type ProgressTask } from './progress.ts';

interface Sink {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface GroupBoard {
  /** The Progress a group's cases use: their measurements show on the group's line. */
  progressFor(group: string): Progress;
  /** The group's state, e.g. `timer: running` or `done: 2 passed`. */
  state(group: string, text: string): void;
  /** Takes the board off the screen while other output (a finished case's results) is written. */
  pause(): void;
  resume(): void;
  /** Leaves the board as it is drawn, for the lines that follow. */
  close(): void;
}

export function createGroupBoard(options: { groups: readonly string[]; stream?: Sink; plainEveryS?: number; quiet?: boolean }): GroupBoard {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { progressFor: () => createProgress({ quiet: true }), state() {}, pause() {}, resume() {}, close() {} };
  return stream.isTTY ? ttyBoard(options.groups, stream) : plainBoard(stream, options.plainEveryS ?? 10);
}

function plainBoard(stream: Sink, plainEveryS: number): GroupBoard {
  const prefixed = (group: string): Sink => ({ isTTY: false, write: (text: string) => stream.write(text.replace(/^(?=.)/gm, `[${group}] `)) });
  const progresses = new Map<string, Progress>();
  return {
    progressFor(group) {
      let p = progresses.get(group);
      if (!p) progresses.set(group, (p = createProgress({ stream: prefixed(group), plainEveryS })));
      return p;
    },
    state: (group, text) => void stream.write(`[${group}] ${text}\n`),
    pause() {},
    resume() {},
    close() {},
  };
}

interface Line {
  state: string;
  task?: { label: string; totalS: number; elapsedS: number };
}

function ttyBoard(groups: readonly string[], stream: Sink): GroupBoard {
  const lines = new Map<string, Line>(groups.map((g) => [g, { state: 'waiting' }]));
  const width = Math.max(...groups.map((g) => g.length));
  let drawn = 0;
  let closed = false;
  let paused = false;
  const render = (line: Line) => {
    const t = line.task;
    if (!t) return line.state;
    const pct = t.totalS > 0 ? Math.min(100, Math.floor((t.elapsedS / t.totalS) * 100)) : 0;
    return `${line.state}  ${t.label} ${bar(pct)} ${pct}% ${formatSeconds(t.elapsedS)}/${formatSeconds(t.totalS)}`;
  };
  const erase = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\r\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    if (closed || paused) return;
    erase();
    for (const [group, line] of lines) stream.write(`${group.padEnd(width)}  ${render(line)}\n`);
    drawn = lines.size;
  };
  const lineOf = (group: string): Line => {
    let line = lines.get(group);
    if (!line) lines.set(group, (line = { state: 'waiting' }));
    return line;
  };
  const progressFor = (group: string): Progress => ({
    note(text) {
      erase();
      stream.write(`[${group}] ${text}\n`);
      draw();
    },
    start(label, totalS): ProgressTask {
      const line = lineOf(group);
      line.task = { label, totalS, elapsedS: 0 };
      draw();
      return {
        update(elapsedS) {
          if (line.task) line.task.elapsedS = elapsedS;
          draw();
        },
        done(summary) {
          line.task = undefined;
          erase();
          stream.write(`[${group}] ${label}: done${summary ? `: ${summary}` : ''}\n`);
          draw();
        },
      };
    },
  });
  draw();
  return {
    progressFor,
    state(group, text) {
      lineOf(group).state = text;
      draw();
    },
    pause() {
      erase();
      paused = true;
    },
    resume() {
      paused = false;
      draw();
    },
    close() {
      paused = false;
      draw();
      closed = true;
    },
  };
}
