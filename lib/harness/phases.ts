// Where a case's time goes, so that the harness's overhead beside the measurement is a
// figure in results.json and not a guess. Each instant of the case counts for one phase:
// the most recently entered phase still open then (so a read-back inside a measurement's
// span counts as collect), or `other` when none is open. The sum is the case's wall time.

import { CASE_PHASES, type CasePhase, type PhaseTimes } from '../results/phases.ts';

interface Span {
  phase: CasePhase;
  start: number;
  end: number | undefined;
  order: number;
}

export class PhaseClock {
  readonly #now: () => number;
  readonly #begin: number;
  readonly #spans: Span[] = [];

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#begin = this.#now();
  }

  /** Opens a phase; the returned function closes it (once). */
  enter(phase: CasePhase): () => void {
    const span: Span = { phase, start: this.#now(), end: undefined, order: this.#spans.length };
    this.#spans.push(span);
    return () => {
      span.end ??= this.#now();
    };
  }

  /** Runs fn inside the phase, closing it however fn ends. */
  async run<T>(phase: CasePhase, fn: () => Promise<T>): Promise<T> {
    const leave = this.enter(phase);
    try {
      return await fn();
    } finally {
      leave();
    }
  }

  /** Milliseconds per phase from the clock's creation until now (open phases count up to now). */
  totals(): PhaseTimes {
    const at = this.#now();
    const times = Object.fromEntries([...CASE_PHASES, 'other'].map((p) => [p, 0])) as PhaseTimes;
    const spans = this.#spans.map((s) => ({ ...s, end: Math.min(s.end ?? at, at) }));
    const cuts = [...new Set([this.#begin, at, ...spans.flatMap((s) => [s.start, s.end])])].filter((t) => t >= this.#begin && t <= at).sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const from = cuts[i] as number;
      const to = cuts[i + 1] as number;
      let winner: (typeof spans)[number] | undefined;
      for (const s of spans) {
        if (s.start <= from && s.end >= to && (!winner || s.start > winner.start || (s.start === winner.start && s.order > winner.order))) winner = s;
      }
      times[winner?.phase ?? 'other'] += to - from;
    }
    for (const key of Object.keys(times) as (keyof PhaseTimes)[]) times[key] = Math.round(times[key]);
    return times;
  }
}
