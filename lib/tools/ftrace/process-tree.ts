// Who started whom, and when, from the kernel's process events: enough to answer "which
// processes did the harness start on a node during a measurement", and on which CPUs they ran.
// Threads are tasks too (their fork events name the creating task as parent).
import type { ProcessEvent } from './process-trace.ts';

export interface TaskLife {
  pid: number;
  parent: number | undefined;
  /** Time of the fork that made it, when the trace saw it. */
  forkedAt: number | undefined;
  /** Its name when forked (the parent's), before any exec. */
  comm: string | undefined;
  exitedAt: number | undefined;
  /** Every exec, in order. */
  execs: Array<{ at: number; filename: string }>;
  /** Every CPU an event of this task was recorded on, with the time. */
  seenOn: Array<{ at: number; cpu: number }>;
}

export class ProcessTree {
  readonly tasks = new Map<number, TaskLife>();

  constructor(events: readonly ProcessEvent[]) {
    for (const e of [...events].sort((a, b) => a.at - b.at)) {
      this.#task(e.pid).seenOn.push({ at: e.at, cpu: e.cpu });
      if (e.kind === 'fork') {
        const child = this.#task(e.childPid);
        child.parent = e.pid;
        child.forkedAt = e.at;
        child.comm = e.childComm;
      } else if (e.kind === 'exec') {
        this.#task(e.pid).execs.push({ at: e.at, filename: e.filename });
      } else {
        this.#task(e.pid).exitedAt = e.at;
      }
    }
  }

  /** The task's ancestors seen in the trace, nearest first. */
  ancestors(pid: number): number[] {
    const out: number[] = [];
    for (let p = this.tasks.get(pid)?.parent; p !== undefined && !out.includes(p); p = this.tasks.get(p)?.parent) out.push(p);
    return out;
  }

  /** True when one of `roots` is the task itself or one of its ancestors. */
  isUnder(pid: number, roots: ReadonlySet<number>): boolean {
    return roots.has(pid) || this.ancestors(pid).some((a) => roots.has(a));
  }

  /** Tasks forked within [from, to] under one of `roots` and under none of `except`. */
  forkedDuring(window: { from: number; to: number }, roots: ReadonlySet<number>, except: ReadonlySet<number> = new Set()): TaskLife[] {
    return [...this.tasks.values()].filter(
      (t) => t.forkedAt !== undefined && t.forkedAt >= window.from && t.forkedAt <= window.to && this.isUnder(t.pid, roots) && !this.isUnder(t.pid, except),
    );
  }

  /** Tasks under `roots` that exec'd a file matching `name`, longest-lived first. */
  execsOf(name: RegExp, roots: ReadonlySet<number>): Array<TaskLife & { execAt: number }> {
    const found: Array<TaskLife & { execAt: number }> = [];
    for (const t of this.tasks.values()) {
      const exec = t.execs.find((x) => name.test(x.filename));
      if (exec && this.isUnder(t.pid, roots)) found.push({ ...t, execAt: exec.at });
    }
    const life = (t: TaskLife & { execAt: number }) => (t.exitedAt ?? Number.POSITIVE_INFINITY) - t.execAt;
    return found.sort((a, b) => life(b) - life(a));
  }

  /** The ancestor of `pid` whose parent is one of `parents` (the command an sshd started), or undefined. */
  commandRoot(pid: number, parents: ReadonlySet<number>): number | undefined {
    const chain = [pid, ...this.ancestors(pid)];
    return chain.find((p) => {
      const parent = this.tasks.get(p)?.parent;
      return parent !== undefined && parents.has(parent);
    });
  }

  /** What the task finally ran: the base name of its last exec, or its name when forked. */
  image(pid: number): string | undefined {
    const t = this.tasks.get(pid);
    const last = t?.execs.at(-1)?.filename;
    return last ? last.slice(last.lastIndexOf('/') + 1) : t?.comm;
  }

  #task(pid: number): TaskLife {
    let t = this.tasks.get(pid);
    if (!t) {
      t = { pid, parent: undefined, forkedAt: undefined, comm: undefined, exitedAt: undefined, execs: [], seenOn: [] };
      this.tasks.set(pid, t);
    }
    return t;
  }
}
