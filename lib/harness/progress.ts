// Long measurements show their progress: a redrawn line on a terminal, and plain
// lines at a bounded rate otherwise, so that Jenkins logs stay readable.

export interface Progress {
  /** Starts a task of known length; returns a handle to advance and finish it. */
  start(label: string, totalS: number): ProgressTask;
  /** A one-off line. */
  note(line: string): void;
}

export interface ProgressTask {
  update(elapsedS: number): void;
  done(summary?: string): void;
}

interface Sink {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function createProgress(options: { stream?: Sink; plainEveryS?: number; quiet?: boolean } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const plainEveryS = options.plainEveryS ?? 10;
  const tty = Boolean(stream.isTTY);
  if (options.quiet) return { start: () => ({ update() {}, done() {} }), note() {} };

  return {
    note(line) {
      stream.write(`${line}\n`);
    },
    start(label, totalS) {
      let lastPlain = -Infinity;
      stream.write(tty ? '' : `${label}: started (${formatSeconds(totalS)})\n`);
      return {
        update(elapsedS) {
          const pct = totalS > 0 ? Math.min(100, Math.floor((elapsedS / totalS) * 100)) : 0;
          if (tty) {
            stream.write(`\r\x1b[2K${label}: ${bar(pct)} ${pct}% ${formatSeconds(elapsedS)}/${formatSeconds(totalS)}`);
          } else if (elapsedS - lastPlain >= plainEveryS) {
            lastPlain = elapsedS;
            stream.write(`${label}: ${pct}% (${formatSeconds(elapsedS)} of ${formatSeconds(totalS)})\n`);
          }
        },
        done(summary) {
          const tail = summary ? `: ${summary}` : '';
          stream.write(tty ? `\r\x1b[2K${label}: done${tail}\n` : `${label}: done${tail}\n`);
        },
      };
    },
  };
}

// A 20-character bar for a share done, e.g. `[#####...............]`.
export function bar(pct: number): string {
  const width = 20;
  const full = Math.round((pct / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}
