// The run's side of the undo logs on its nodes (scripts.ts): opened on each node once its pod
// lock is taken, an entry written before each change is made and removed once the harness has
// undone it, the log removed at the end when nothing is left in it. What the harness could not
// undo stays on the node for the next run or `kvmfornfv-test cleanup` to try again.
import { describeError, TopologyError } from '../errors.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildCloseJournalScript, buildEntryContent, buildEntryDoneScript, buildJournalPaths, buildOpenJournalScript, buildRecordEntryScript, DEFAULT_UNDO_ROOT, type JournalPaths } from './scripts.ts';

/** One recorded undo command; done() once the harness has run it itself. */
export interface UndoRecord {
  done(): Promise<void>;
}

/** What the harness hands a case: record an undo command on a node before changing it. */
export type RecordUndo = (session: NodeSession, label: string, command: string) => Promise<UndoRecord>;

const EXEC = { reject: false, timeoutMs: 30_000, label: 'undo log' } as const;

export class UndoLogs {
  readonly #runId: string;
  readonly #root: string;
  readonly #log: (line: string) => void;
  readonly #open = new Map<string, { session: NodeSession; paths: Promise<JournalPaths>; seq: number }>();

  constructor(options: { runId: string; root?: string; log?: (line: string) => void }) {
    this.#runId = options.runId;
    this.#root = options.root ?? DEFAULT_UNDO_ROOT;
    this.#log = options.log ?? (() => {});
  }

  // Creates the node's log; a node whose log cannot be written must not be changed, so this throws.
  open(session: NodeSession): Promise<JournalPaths> {
    const node = session.node.name;
    let entry = this.#open.get(node);
    if (!entry) {
      const paths = buildJournalPaths(this.#root, this.#runId, node);
      const opening = session.exec({ script: buildOpenJournalScript(paths, session.runDir) }, EXEC).then((r) => {
        if (r.failed) throw new TopologyError(`cannot open the undo log ${paths.dir} on ${node}: ${(r.stderr.trim() || `exit code ${r.exitCode}`).slice(0, 300)}`);
        return paths;
      });
      entry = { session, paths: opening, seq: 0 };
      this.#open.set(node, entry);
      // Reported by whoever awaits it; a failed open is tried again by the next caller.
      opening.catch(() => this.#open.delete(node));
    }
    return entry.paths;
  }

  /** Writes the undo command on the node first; the change may be made once this resolves. */
  readonly record: RecordUndo = async (session, label, command) => {
    const paths = await this.open(session);
    const entry = this.#open.get(session.node.name)!;
    const seq = (entry.seq += 1);
    const r = await session.exec({ script: buildRecordEntryScript(paths, seq) }, { ...EXEC, input: buildEntryContent(label, command) });
    if (r.failed) throw new TopologyError(`cannot record "${label}" in the undo log on ${session.node.name}, so the change is not made: ${(r.stderr.trim() || `exit code ${r.exitCode}`).slice(0, 300)}`);
    return {
      done: async () => {
        const gone = await session.exec({ script: buildEntryDoneScript(paths, seq) }, EXEC).catch((e: unknown) => ({ failed: true, stderr: describeError(e) }));
        // The next run then repeats an undo that was done: every undo command is safe to repeat.
        if (gone.failed) this.#log(`undo log on ${session.node.name}: entry ${seq} (${label}) could not be removed: ${gone.stderr.trim()}`);
      },
    };
  };

  /** Nodes with a log, for the forced exit that replays them. */
  sessions(): NodeSession[] {
    return [...this.#open.values()].map((e) => e.session);
  }

  // Removes every log with nothing left in it; never throws.
  async closeAll(): Promise<void> {
    for (const { session, paths } of this.#open.values()) {
      try {
        const r = await session.exec({ script: buildCloseJournalScript(await paths) }, EXEC);
        const kept = /KFN-UNDO kept \S+ (\d+)/.exec(r.stdout);
        if (kept) this.#log(`undo log on ${session.node.name}: ${kept[1]} change(s) could not be undone and stay recorded for the next run or kvmfornfv-test cleanup`);
        else if (r.failed) this.#log(`undo log on ${session.node.name} not removed: ${r.stderr.trim()}`);
      } catch (error) {
        this.#log(`undo log on ${session.node.name} not removed: ${describeError(error)}`);
      }
    }
    this.#open.clear();
  }
}
