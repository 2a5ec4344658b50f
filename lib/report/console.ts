// The run as an operator reads it in a terminal or a Jenkins console: one line per
// testcase as each case ends, and a verdict table at the end.
import type { CaseResult, RunResult, Status } from '../results/model.ts';
import { overheadMs } from '../results/phases.ts';
import type { Reporter } from './reporter.ts';
import { formatComparisonTable } from './comparison.ts';

const MARK: Record<Status, string> = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR', skip: 'SKIP ' };

export function formatCaseLines(result: CaseResult): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  // The measuring time beside the harness's own: what the overhead budget is about.
  const split = result.phasesMs && result.phasesMs.measure > 0 ? `: measuring ${s(result.phasesMs.measure)}, overhead ${s(overheadMs(result.phasesMs))}` : '';
  const lines = [`${MARK[result.status]} kvmfornfv.${result.tier}.${result.caseName} (${s(result.durationMs)}${split})`];
  for (const tc of result.testcases) {
    // A failed advisory check passes, but the operator should still see it.
    const advisory = tc.status === 'pass' && tc.properties.severity === 'advisory' && tc.properties.outcome === 'fail';
    const why = tc.status === 'pass' ? '' : ` — ${tc.message ?? ''}`;
    lines.push(`  ${advisory ? 'ADVIS' : MARK[tc.status]} ${tc.title}${why}`);
  }
  for (const explanation of result.explanations ?? []) lines.push(`  why: ${explanation}`);
  return lines;
}

// The run's notes say what no testcase can: why it could not start, a lost lock, a
// failed push, nothing measured. A Jenkins console shows them beside the exit code.
export function formatRunSummary(run: RunResult, runDir: string): string[] {
  const count = (s: Status) => run.cases.flatMap((c) => c.testcases).filter((t) => t.status === s).length;
  return [
    '',
    ...run.notes.map((note) => `note: ${note}`),
    `run ${run.runId} on pod ${run.pod.name} (profile ${run.thresholds.profile}): ${run.status.toUpperCase()}`,
    `${count('pass')} passed, ${count('fail')} failed, ${count('error')} errors, ${count('skip')} skipped`,
    `results: ${runDir}/junit.xml, ${runDir}/results.json`,
    `exit code ${run.exitCode}`,
  ];
}

export function createConsoleReporter(runDir: string, write: (text: string) => void = (t) => process.stdout.write(t)): Reporter {
  return {
    name: 'console',
    onBegin: (run) => write(`run ${run.runId}: ${run.options.selection} on pod ${run.pod.name}${run.pod.lab ? ' (lab)' : ''}\n`),
    onCaseEnd: (result) => write(`${formatCaseLines(result).join('\n')}\n`),
    onEnd: (run) => {
      // The three forwarding paths side by side: what each virtualised path costs.
      const comparison = run.comparison;
      if (comparison) write(`\n${formatComparisonTable(comparison)}\n`);
      write(`${formatRunSummary(run, runDir).join('\n')}\n`);
    },
  };
}
