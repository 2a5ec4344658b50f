// Turns on shared nodes: compute groups measured side by side still share a traffic generator,
// and two groups must never drive it at once. A holder (one group's run of one case) takes the
// turn on a node the first time it reaches it and keeps it until the case ends; others wait.
// A wait that could never end (two holders each waiting for the other's node) is refused at
// once, and so is a wait after the run was aborted: a run never hangs on a turn.

export class TurnRefused extends Error {}

/** One group's run of one case: the unit that holds turns, released together. */
export interface TurnHolder {
  readonly id: string;
}

export class Turns {
  readonly #holders = new Map<string, TurnHolder>();
  readonly #waitingFor = new Map<TurnHolder, string>();
  readonly #closed = new WeakSet<TurnHolder>();
  #wakers: Array<() => void> = [];

  /** Resolves once `holder` has the turn on `node` (at once when it has it already). */
  async take(node: string, holder: TurnHolder, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#closed.has(holder)) throw new TurnRefused(`${holder.id} has ended: it takes no more turns (on ${node})`);
      if (signal?.aborted) throw new TurnRefused(`the run was aborted while ${holder.id} waited for its turn on ${node}`);
      const current = this.#holders.get(node);
      if (current === undefined || current === holder) {
        this.#holders.set(node, holder);
        return;
      }
      const cycle = this.#cycleThrough(holder, node);
      if (cycle) throw new TurnRefused(`${holder.id} and ${cycle} would wait for each other's turn (on ${node}): refused rather than hang`);
      this.#waitingFor.set(holder, node);
      try {
        await this.#nextChange(signal);
      } finally {
        this.#waitingFor.delete(holder);
      }
    }
  }

  /** Who holds the turn on a node now. */
  holderOf(node: string): string | undefined {
    return this.#holders.get(node)?.id;
  }

  /** Gives back every turn the holder has, and closes it: a late take() by it is refused. */
  release(holder: TurnHolder): void {
    this.#closed.add(holder);
    for (const [node, h] of this.#holders) if (h === holder) this.#holders.delete(node);
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }

  // Following "holder of the node I want, and the node it waits for" back to me is a cycle.
  #cycleThrough(holder: TurnHolder, node: string): string | undefined {
    const seen = new Set<TurnHolder>();
    let current = this.#holders.get(node);
    while (current && !seen.has(current)) {
      if (current === holder) return undefined;
      seen.add(current);
      const wanted = this.#waitingFor.get(current);
      const next = wanted === undefined ? undefined : this.#holders.get(wanted);
      if (next === holder) return current.id;
      current = next;
    }
    return undefined;
  }

  #nextChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#wakers.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
