// What the report reads beside results.json: the timer's raw cyclictest JSON (for its
// histograms) and the earlier runs of the results history (for trends). Nothing here throws
// for a missing or bad file: each problem becomes a line the report shows.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { HISTORY_FILE, loadRunResult, parseHistory } from '../../regression/history.ts';
import type { RunResult } from '../../results/model.ts';
import { parseCyclictestHistograms } from './histograms.ts';
import { MAX_TREND_RUNS } from './trends.ts';
import type { RawHistograms } from './view-model.ts';

const describe = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/**
 * cyclictest's JSON is kept as `<case>/<node>/cyclictest.json`; its thread histograms are the
 * only full distribution the timer records (its details hold summaries). Files that are absent
 * or not cyclictest output are reported, and that node simply has no chart.
 */
export async function readRawHistograms(run: RunResult, runDir: string): Promise<{ histograms: RawHistograms; problems: string[] }> {
  const histograms: RawHistograms = {};
  const problems: string[] = [];
  for (const c of run.cases) {
    for (const rel of c.rawOutputs.filter((p) => posix.basename(p) === 'cyclictest.json')) {
      const parts = rel.split('/');
      const node = parts.length >= 2 ? (parts[parts.length - 2] as string) : c.caseName;
      if (parts.includes('..') || isAbsolute(rel)) {
        problems.push(`${c.caseName}: raw output ${rel} is outside the run folder; not read`);
        continue;
      }
      let text: string;
      try {
        text = await readFile(join(runDir, rel), 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problems.push(`${c.caseName}: cannot read ${rel} (${code === 'ENOENT' ? 'no such file' : (code ?? describe(error))}): no histogram for ${node}`);
        continue;
      }
      const parsed = parseCyclictestHistograms(text);
      if ('problem' in parsed) {
        problems.push(`${c.caseName}: ${rel} is not cyclictest JSON (${parsed.problem}): no histogram for ${node}`);
        continue;
      }
      (histograms[c.caseName] ??= {})[node] = { threads: parsed.threads, source: rel };
    }
  }
  return { histograms, problems };
}

/**
 * Earlier runs of this pod and profile from `<resultsRoot>/history.jsonl`, most recent first,
 * at most twice the trend's length (the duration filter comes after loading). No history is
 * not a problem: a first run has none.
 */
export async function loadHistoryRuns(resultsRoot: string, current: RunResult): Promise<{ runs: RunResult[]; problems: string[] }> {
  let text: string;
  try {
    text = await readFile(join(resultsRoot, HISTORY_FILE), 'utf8');
  } catch {
    return { runs: [], problems: [] };
  }
  const { entries, problems } = parseHistory(text);
  const started = Date.parse(current.startedAt);
  const candidates = entries
    .filter((e) => e.runId !== current.runId && e.pod === current.pod.name && e.profile === current.thresholds.profile && Date.parse(e.startedAt) < started)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
    .slice(0, MAX_TREND_RUNS * 2);
  const runs: RunResult[] = [];
  for (const entry of candidates) {
    const file = isAbsolute(entry.resultsFile) ? entry.resultsFile : join(resultsRoot, entry.resultsFile);
    try {
      runs.push(await loadRunResult(file));
    } catch (error) {
      problems.push(`history run ${entry.runId} left out of the trends: ${describe(error)}`);
    }
  }
  return { runs, problems };
}
