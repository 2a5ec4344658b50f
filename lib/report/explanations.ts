// Turns "max 3 ms > 40 µs" into "and here is why": a failed latency or forwarding case
// lists the preflight checks that failed on the nodes it measured. Reads only the result
// model, so results.json, the console and the HTML report all show the same lines.
import type { CaseResult, RunResult } from '../results/model.ts';
import { readNodeRecord, type NodeRecord } from './findings.ts';

/** Tiers whose failures a node's tuning can explain. */
export const EXPLAINED_TIERS: readonly string[] = ['latency', 'forwarding'];
const PREFLIGHT_TIER = 'preflight';

function collectPreflight(run: RunResult): Map<string, NodeRecord> {
  const byNode = new Map<string, NodeRecord>();
  for (const c of run.cases.filter((c) => c.tier === PREFLIGHT_TIER)) {
    for (const [node, value] of Object.entries(c.details)) {
      const record = readNodeRecord(value);
      if (record) byNode.set(node, record);
    }
  }
  return byNode;
}

// A case names its nodes twice: details keyed by node, and titles "<node>: ..." or "<gen> -> <node>: ...".
function measuredNodes(c: CaseResult, known: ReadonlySet<string>): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    if (known.has(name) && !names.includes(name)) names.push(name);
  };
  for (const key of Object.keys(c.details)) add(key);
  for (const t of c.testcases) {
    const colon = t.title.indexOf(': ');
    if (colon > 0) for (const part of t.title.slice(0, colon).split(' -> ')) add(part.trim());
  }
  return names;
}

function explainNode(node: string, record: NodeRecord): string[] {
  if (record.error !== undefined) return [`${node}: not audited by preflight: ${record.error.split('\n')[0]}`];
  return record.checks
    .filter((c) => c.outcome === 'fail' && c.severity !== 'off')
    .map((c) => `${node}: ${c.id} failed: expected ${c.expected ?? '(not recorded)'}, found ${c.found ?? '(not recorded)'}; fix: ${c.fix ?? '(not recorded)'}`);
}

// Called once the cases have run and before the reporters' onEnd, so every view carries the lines.
/** Adds to `explanations` of each failed latency or forwarding case; existing lines are kept. */
export function explainFailures(run: RunResult): void {
  const preflight = collectPreflight(run);
  if (preflight.size === 0) return;
  const known = new Set(preflight.keys());
  for (const c of run.cases) {
    if (!EXPLAINED_TIERS.includes(c.tier) || c.status !== 'fail') continue;
    const lines = measuredNodes(c, known).flatMap((node) => explainNode(node, preflight.get(node) as NodeRecord));
    // A case may carry its own explanations; ours are added once, however often this runs.
    const existing = c.explanations ?? [];
    const added = lines.filter((l) => !existing.includes(l));
    if (added.length > 0) c.explanations = [...existing, ...added];
  }
}
