// One case measured in several compute groups is still one case for JUnit, results.json,
// TestAPI and InfluxDB: its groups' results are joined into one, every testcase, figure, raw
// output and window kept, each marked with the group it came from.
import type { CatalogueCase } from '../config/catalogue.ts';
import type { CaseResult, TestcaseResult } from '../results/model.ts';
import { combineStatuses } from '../results/status.ts';

export interface GroupCaseResult {
  /** The group's name; undefined for the nodes no group owns (their audit). */
  compute: string | undefined;
  /** Shown in titles and reasons: the group's name, or the shared nodes. */
  label: string;
  result: CaseResult;
}

/** A case decided as a whole, before or instead of running (in one group: its title names the group). */
export function wholeCaseResult(testCase: CatalogueCase, status: 'skip' | 'error', reason: string, title = testCase.caseName): CaseResult {
  const now = new Date().toISOString();
  return {
    caseName: testCase.caseName,
    tier: testCase.tier,
    projectName: 'kvmfornfv',
    status,
    startedAt: now,
    stoppedAt: now,
    durationMs: 0,
    reason,
    testcases: [{ title, classname: `kvmfornfv.${testCase.tier}.${testCase.caseName}`, status, message: reason, durationMs: 0, properties: {}, measurements: {} }],
    details: {},
    rawOutputs: [],
  };
}

// Titles name their node, so they differ across groups; a title two groups share (a case-level
// error, a teardown) gets its group in front, so that Jenkins shows each once.
function uniqueTitles(parts: readonly GroupCaseResult[]): TestcaseResult[][] {
  const count = new Map<string, number>();
  for (const p of parts) for (const t of p.result.testcases) count.set(t.title, (count.get(t.title) ?? 0) + 1);
  return parts.map((p) =>
    p.result.testcases.map((t) => ({
      ...t,
      ...((count.get(t.title) ?? 0) > 1 ? { title: `${p.label}: ${t.title}` } : {}),
      ...(p.compute === undefined ? {} : { compute: p.compute }),
    })),
  );
}

export function mergeGroupResults(testCase: CatalogueCase, parts: readonly GroupCaseResult[]): CaseResult {
  if (parts.length === 0) throw new Error(`mergeGroupResults: no group ran ${testCase.caseName}`);
  const started = Math.min(...parts.map((p) => Date.parse(p.result.startedAt)));
  const stopped = Math.max(...parts.map((p) => Date.parse(p.result.stoppedAt)));
  const details: Record<string, unknown> = {};
  for (const p of parts) {
    for (const [key, value] of Object.entries(p.result.details)) {
      // Details are keyed by node, which one group owns; a key two groups share keeps both.
      details[key in details ? `${key} (${p.label})` : key] = value;
    }
  }
  const reasons = parts.filter((p) => p.result.reason !== undefined);
  const sameReason = reasons.length === parts.length && reasons.every((p) => p.result.reason === reasons[0]?.result.reason);
  const reason = sameReason ? reasons[0]?.result.reason : reasons.map((p) => `${p.label}: ${p.result.reason}`).join('; ');
  const windows = parts.flatMap((p) => (p.result.windows ?? []).map((w) => ({ ...w, ...(p.compute === undefined ? {} : { compute: p.compute }) })));
  const explanations = parts.flatMap((p) => p.result.explanations ?? []);
  return {
    caseName: testCase.caseName,
    tier: testCase.tier,
    projectName: 'kvmfornfv',
    status: combineStatuses(parts.map((p) => p.result.status)),
    startedAt: new Date(started).toISOString(),
    stoppedAt: new Date(stopped).toISOString(),
    durationMs: stopped - started,
    ...(reason ? { reason } : {}),
    testcases: uniqueTitles(parts).flat(),
    details,
    rawOutputs: [...new Set(parts.flatMap((p) => p.result.rawOutputs))],
    ...(explanations.length > 0 ? { explanations } : {}),
    ...(windows.length > 0 ? { windows } : {}),
  };
}
