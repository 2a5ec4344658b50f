// The run as an operator reads it in a terminal or a Jenkins console: the lines that need
// reading as each case ends (failures, errors, advisory findings with their fix), passed
// checks and skipped testcases folded into one line per reason, and a verdict at the end.
// The full detail of every testcase stays in junit.xml, results.json and report.html.
// Each case's line gives its measuring time beside the harness's own overhead.
import type { CaseResult, RunResult, TestcaseResult } from '../results/model.ts';
import { overheadMs } from '../results/phases.ts';
import type { Reporter } from './reporter.ts';
import { formatComparisonTable } from './comparison.ts';
import { collectAdvisoryFindings, collectCaseFindings, describeFinding, displayStatusOf, type DisplayStatus } from './findings.ts';

const MARK: Record<DisplayStatus, string> = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR', skip: 'SKIP ', advisory: 'ADVIS' };
/** A skip reason or a finding's part longer than this is cut in the console (whole in junit.xml). */
const CONSOLE_TEXT_MAX = 160;

const cut = (text: string, max = CONSOLE_TEXT_MAX) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// `host: a, b; guest: c` for checks (their node, then their check ids), titles otherwise.
function listNames(tcs: readonly TestcaseResult[]): string {
  const groups: { node: string | null; names: string[] }[] = [];
  for (const tc of tcs) {
    const check = typeof tc.properties.check === 'string' ? tc.properties.check : undefined;
    const colon = tc.title.indexOf(': ');
    const isCheck = check !== undefined && colon > 0 && tc.title.slice(colon + 2).startsWith(check);
    const node = isCheck ? tc.title.slice(0, colon) : null;
    const last = groups.at(-1);
    if (last && node !== null && last.node === node) last.names.push(check as string);
    else groups.push({ node, names: [isCheck ? (check as string) : tc.title] });
  }
  return groups.map((g) => (g.node === null ? g.names.join(', ') : `${g.node}: ${g.names.join(', ')}`)).join('; ');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// `10 passed, 26 advisory, 30 skipped`: the nonzero counts of one case's testcases.
function countsOf(testcases: readonly TestcaseResult[]): string {
  const order: [DisplayStatus, string][] = [['pass', 'passed'], ['advisory', 'advisory'], ['fail', 'failed'], ['error', 'errors'], ['skip', 'skipped']];
  return order.map(([s, word]) => [testcases.filter((t) => displayStatusOf(t) === s).length, word] as const).filter(([n]) => n > 0).map(([n, word]) => `${n} ${word}`).join(', ');
}

export function formatCaseLines(result: CaseResult): string[] {
  const counts = countsOf(result.testcases);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  // The measuring time beside the harness's own: what the overhead budget is about.
  const split = result.phasesMs && result.phasesMs.measure > 0 ? `: measuring ${s(result.phasesMs.measure)}, overhead ${s(overheadMs(result.phasesMs))}` : '';
  const lines = [`${MARK[result.status]} kvmfornfv.${result.tier}.${result.caseName} (${s(result.durationMs)}${split})${counts ? `: ${counts}` : ''}`];
  const findings = new Map(collectCaseFindings(result).map((f) => [f.title, f]));
  const checksPassed: TestcaseResult[] = [];
  const skipped = new Map<string, TestcaseResult[]>();
  for (const tc of result.testcases) {
    const finding = findings.get(tc.title);
    if (finding) {
      lines.push(`  ${MARK.advisory} ${tc.title} — ${describeFinding(finding, 100)}`);
    } else if (tc.status === 'skip') {
      const reason = tc.message ?? 'skipped';
      skipped.set(reason, [...(skipped.get(reason) ?? []), tc]);
    } else if (tc.status === 'pass' && typeof tc.properties.check === 'string') {
      checksPassed.push(tc);
    } else {
      lines.push(`  ${MARK[tc.status]} ${tc.title}${tc.status === 'pass' ? '' : ` — ${tc.message ?? ''}`}`);
    }
  }
  // Several testcases on one line: their names, how many, then what they share.
  const group = (tcs: readonly TestcaseResult[]) => (tcs.length === 1 ? tcs[0]!.title : `${listNames(tcs)} (${tcs.length})`);
  if (checksPassed.length > 0) lines.push(`  ${MARK.pass} ${group(checksPassed)}`);
  for (const [reason, tcs] of skipped) lines.push(`  ${MARK.skip} ${group(tcs)} — ${cut(reason)}`);
  for (const explanation of result.explanations ?? []) lines.push(`  why: ${explanation}`);
  return lines;
}

// The run's notes say what no testcase can: why it could not start, a lost lock, a
// failed push, nothing measured. A Jenkins console shows them beside the exit code.
export function formatRunSummary(run: RunResult, runDir: string): string[] {
  const all = run.cases.flatMap((c) => c.testcases);
  const count = (s: DisplayStatus) => all.filter((t) => displayStatusOf(t) === s).length;
  const advisory = collectAdvisoryFindings(run).length;
  return [
    '',
    ...run.notes.map((note) => `note: ${note}`),
    `run ${run.runId} on pod ${run.pod.name} (profile ${run.thresholds.profile}): ${run.status.toUpperCase()}`,
    `${count('pass')} passed, ${count('advisory')} advisory, ${count('fail')} failed, ${count('error')} errors, ${count('skip')} skipped`,
    ...(advisory > 0 ? [`${plural(advisory, 'advisory finding')} (ADVIS above): checks the threshold profile makes advisory failed; they do not fail the run, and each names its fix`] : []),
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
