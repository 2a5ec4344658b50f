// The preflight audit and the latency tier, per compute group: each group (a host, then its
// guests) runs the cases one after another, and the groups run side by side, up to a limit.
// A group sees only its own nodes and the shared ones (the traffic generator), and takes
// turns with the other groups on every shared node it reaches. A blocking failure stops that
// group's later cases only. Each case's results from every group are joined into one case
// result, emitted in catalogue order as soon as every group has finished it.
import type { CatalogueCase } from '../config/catalogue.ts';
import type { PodGroups } from '../config/pod-groups.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import { describeError } from '../errors.ts';
import type { CaseResult } from '../results/model.ts';
import type { GroupBoard } from './group-progress.ts';
import { errorTestcase, runCase, type RunScope } from './run-case.ts';
import { mergeGroupResults, wholeCaseResult, type GroupCaseResult } from './merge-cases.ts';
import { Turns, type TurnHolder } from './turns.ts';

/** The tiers measured per compute group; the others (forwarding) run once, on the whole pod. */
export const GROUPED_TIERS: readonly string[] = ['preflight', 'latency'];
/** The tier that audits each node once: shared nodes are audited on their own, not in every group. */
const AUDIT_TIER = 'preflight';
/** The turn a busy-polling case takes on a pod whose nodes are one machine (no node has this name: it has a space). */
const ONE_MACHINE_CPUS = 'the CPUs of the one machine';

interface Unit {
  name: string;
  /** The group's name; undefined for the shared nodes' own audit. */
  compute: string | undefined;
  own: readonly PodNode[];
  /** Nodes reached only by turns. */
  shared: readonly PodNode[];
  auditOnly: boolean;
}

export interface FanOutInput {
  scope: RunScope;
  /** Consecutive cases of GROUPED_TIERS, in catalogue order. */
  cases: readonly CatalogueCase[];
  groups: PodGroups;
  /** Groups at once; default all. */
  parallel?: number | undefined;
  board: GroupBoard;
  /** A case decided for the whole pod before it runs (disabled, unmet, blocked earlier). */
  decide(testCase: CatalogueCase): CaseResult | undefined;
  isBlocking(testCase: CatalogueCase): boolean;
  emit(result: CaseResult): Promise<void>;
}

function buildUnits(groups: PodGroups): Unit[] {
  const units: Unit[] = groups.groups.map((g) => ({ name: g.name, compute: g.name, own: g.nodes, shared: groups.shared, auditOnly: false }));
  if (groups.shared.length > 0) units.push({ name: groups.shared.map((n) => n.name).join('+'), compute: undefined, own: groups.shared, shared: groups.shared, auditOnly: true });
  return units;
}

const participates = (u: Unit, c: CatalogueCase) => c.tier === AUDIT_TIER || !u.auditOnly;

// The pod a group's run of a case sees: its own nodes for the audit, and the shared ones besides to measure.
function viewOf(pod: Pod, u: Unit, c: CatalogueCase): Pod {
  const visible = c.tier === AUDIT_TIER ? u.own : [...u.own, ...u.shared];
  return { ...pod, nodes: pod.nodes.filter((n) => visible.includes(n)) };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class Slots {
  #free: number;
  #queue: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((r) => this.#queue.push(r));
  }
  release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#free += 1;
  }
}

const failed = (r: CaseResult) => r.status === 'fail' || r.status === 'error';

export async function runFanOut(input: FanOutInput): Promise<{ blockedBy: string | undefined }> {
  const { scope, cases, board } = input;
  const units = buildUnits(input.groups);
  const sharedUnit = units.find((u) => u.auditOnly);
  const turns = new Turns();
  // The shared nodes' audit takes no slot: groups may wait on its blocking checks.
  const slots = new Slots(Math.max(1, input.parallel ?? units.length));
  const pre = cases.map((c) => input.decide(c));
  const results = cases.map((c, k) => new Map(units.filter((u) => pre[k] === undefined && participates(u, c)).map((u) => [u, deferred<CaseResult>()])));
  let blockedBy: string | undefined;

  const scopeFor = (u: Unit, c: CatalogueCase, holder: TurnHolder): RunScope => ({
    ...scope,
    pod: viewOf(scope.pod, u, c),
    progress: board.progressFor(u.name),
    log: (line) => scope.log(`[${u.name}] ${line}`),
    // A group may wait its turn on the generator behind every other group.
    hookTimeoutMs: scope.hookTimeoutMs * units.length,
    session: async (node) => {
      if (u.shared.includes(node)) await turns.take(node.name, holder, scope.signal);
      return scope.session(node);
    },
  });

  const runIn = async (u: Unit, c: CatalogueCase): Promise<CaseResult> => {
    const holder = { id: `${c.caseName} on ${u.name}` };
    try {
      // The lab's groups are namespaces on one machine: busy pollers there take turns on its CPUs.
      if (c.busyPolls && scope.pod.lab) await turns.take(ONE_MACHINE_CPUS, holder, scope.signal);
      return await runCase(scopeFor(u, c, holder), c);
    } catch (error) {
      // runCase never throws; should it, the group's case is an error, never a hang of the run.
      return { ...wholeCaseResult(c, 'error', describeError(error)), testcases: [errorTestcase(`kvmfornfv.${c.tier}.${c.caseName}`, `${u.name}: ${c.caseName}`, describeError(error))] };
    } finally {
      turns.release(holder);
    }
  };

  // A group waits for the shared nodes' blocking checks before it measures beyond them.
  const sharedGate = async (u: Unit, k: number): Promise<string | undefined> => {
    if (u.auditOnly || !sharedUnit) return undefined;
    for (let j = 0; j < k; j++) {
      const d = results[j]?.get(sharedUnit);
      const c = cases[j] as CatalogueCase;
      if (d && input.isBlocking(c) && failed(await d.promise)) return `not run on ${u.name}: blocking case ${c.caseName} did not pass on the shared nodes ${sharedUnit.name}`;
    }
    return undefined;
  };

  const pipeline = async (u: Unit) => {
    const mine = cases.map((_, k) => k).filter((k) => results[k]?.has(u));
    if (mine.length === 0) return;
    if (!u.auditOnly) await slots.acquire();
    let blocked: string | undefined;
    try {
      for (const k of mine) {
        const c = cases[k] as CatalogueCase;
        blocked ??= await sharedGate(u, k);
        let r: CaseResult;
        if (scope.signal.aborted) r = wholeCaseResult(c, 'skip', 'the run was aborted before this case started', `${u.name}: ${c.caseName}`);
        else if (blocked) r = wholeCaseResult(c, 'skip', blocked, `${u.name}: ${c.caseName}`);
        else {
          board.state(u.name, `${c.caseName}: running`);
          r = await runIn(u, c);
          board.state(u.name, `${c.caseName}: ${r.status}`);
          if (input.isBlocking(c) && failed(r)) {
            blocked = `not run on ${u.name}: blocking case ${c.caseName} did not pass there`;
            blockedBy ??= `${c.caseName} on ${u.name}`;
          }
        }
        results[k]?.get(u)?.resolve(r);
      }
      board.state(u.name, blocked ? `stopped: ${blocked.replace(/^not run on [^:]+: /, '')}` : 'done');
    } finally {
      if (!u.auditOnly) slots.release();
    }
  };

  // The board steps aside while a finished case's results are printed.
  const emit = async (result: CaseResult) => {
    board.pause();
    try {
      await input.emit(result);
    } finally {
      board.resume();
    }
  };
  const emitter = async () => {
    for (const [k, c] of cases.entries()) {
      const decided = pre[k];
      if (decided) {
        await emit(decided);
        continue;
      }
      const parts: GroupCaseResult[] = await Promise.all([...(results[k] ?? new Map<Unit, Deferred<CaseResult>>())].map(async ([u, d]) => ({ compute: u.compute, label: u.name, result: await d.promise })));
      await emit(parts.length > 0 ? mergeGroupResults(c, parts) : wholeCaseResult(c, 'error', 'no compute group of the pod could run it'));
    }
  };

  await Promise.all([...units.map(pipeline), emitter()]);
  board.close();
  return { blockedBy };
}
