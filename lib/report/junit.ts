// junit.xml for Jenkins' JUnit plugin: classname kvmfornfv.<tier>.<case> (the plugin
// splits it at the last dot), one testcase per assertion, <failure> for a missed
// threshold, <error> for anything that could not be measured, timestamps with a zone.
//
// The file must also pass the JUnit XSD (the Jenkins xUnit plugin validates against it),
// and no JUnit schema allows <properties> inside <testcase>. So, as pytest does for its
// schema-valid xunit2 family, a testcase's properties go to its suite's <properties>,
// each named `<testcase name> :: <key>`.
import { join } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import type { CaseResult, RunResult, TestcaseResult } from '../results/model.ts';
import type { Reporter } from './reporter.ts';
import { buildRegressionTestcases } from '../regression/testcases.ts';
import type { RegressionReport } from '../regression/evaluate.ts';
import { collectCaseFindings } from './findings.ts';
import { writeFileAtomic } from './write-file-atomic.ts';
import { isUnfinished } from '../results/status.ts';

const TESTCASE_PROPERTY_SEPARATOR = ' :: ';

/** The suite property that carries one property of one testcase. */
export function testcasePropertyName(testcaseName: string, key: string): string {
  return `${testcaseName}${TESTCASE_PROPERTY_SEPARATOR}${key}`;
}

/** The inverse of testcasePropertyName over a suite's properties: key → value for one testcase. */
export function testcaseProperties(suiteProperties: Record<string, string>, testcaseName: string): Record<string, string> {
  const prefix = testcasePropertyName(testcaseName, '');
  return Object.fromEntries(Object.entries(suiteProperties).filter(([name]) => name.startsWith(prefix)).map(([name, value]) => [name.slice(prefix.length), value]));
}

/** The Jenkins Measurement Plots plugin reads these tags from system-out. */
export function measurementTags(measurements: Record<string, number>): string {
  return Object.entries(measurements)
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, value]) => `<measurement><name>${name}</name><value>${value}</value></measurement>`)
    .join('\n');
}

// The package is CommonJS whose module.exports is the builder, while its types describe
// an ES default export; this is the one place that bridges the two.
const junitBuilder = junitModule as unknown as Builder;
type SuiteBuilder = ReturnType<Builder['testSuite']>;
type BuilderTestCase = ReturnType<SuiteBuilder['testCase']>;

// Pure: the same run always gives the same XML, which the tests read back as Jenkins would.
export function buildJunitXml(run: RunResult): string {
  const builder = junitBuilder.newBuilder();
  for (const result of run.cases) addSuite(builder, run, result);
  if (run.regression) addRegressionSuite(builder, run, run.regression);
  if (isUnfinished(run)) addUnfinishedSuite(builder, run);
  // junit-report-builder puts a `skipped` count on <testsuites>, which the JUnit XSD does
  // not allow and no reader needs (each <testsuite> carries its own).
  return builder.build().replace(/(<testsuites\b[^>]*?) skipped="\d+"/, '$1');
}

function addSuite(builder: Builder, run: RunResult, result: CaseResult): void {
  const suite = builder
    .testSuite()
    .name(`kvmfornfv.${result.tier}.${result.caseName}`)
    .timestamp(result.startedAt)
    .time(result.durationMs / 1000)
    .property('pod_name', run.pod.name)
    .property('installer', run.environment.installerType)
    .property('scenario', run.environment.deployScenario)
    .property('build_tag', run.environment.buildTag)
    .property('threshold_profile', run.thresholds.profile)
    .property('run_id', run.runId);
  const testcases = result.testcases.length > 0 ? result.testcases : [wholeCase(result)];
  addTestcases(suite, testcases);
  const out = buildSuiteOutput(result);
  if (out) appendSystemOut(suite, out);
}

/**
 * The suite's system-out names its advisory findings: their testcases pass (so that they do
 * not fail the job) and a Jenkins user would otherwise have to open each one to find them.
 * Kept within what Jenkins shows of a passing suite; each testcase's output has the detail.
 */
export function buildSuiteOutput(result: CaseResult): string | undefined {
  const findings = collectCaseFindings(result);
  if (findings.length === 0) return undefined;
  const byNode = new Map<string, string[]>();
  for (const f of findings) byNode.set(f.node ?? '', [...(byNode.get(f.node ?? '') ?? []), f.check]);
  const text = [
    `${findings.length} advisory finding${findings.length === 1 ? '' : 's'} in ${result.caseName}: checks that failed under severity advisory. Their testcases pass (severity=advisory, outcome=fail) so that they do not fail the job; each one's output says what was expected, what was found and the fix.`,
    ...[...byNode].map(([node, checks]) => (node ? `${node}: ${checks.join(', ')}` : checks.join(', '))),
  ].join('\n');
  return buildPassingOutput('', text);
}

// junit-report-builder gives a suite no system-out; the XSD allows one anywhere in a testsuite.
function appendSystemOut(suite: SuiteBuilder, text: string): void {
  const build = suite.build.bind(suite);
  suite.build = (parent: Parameters<typeof build>[0]) => {
    const element = build(parent) as unknown as XmlNode;
    element.ele('system-out').cdata(text);
    return element as unknown as ReturnType<typeof build>;
  };
}

function addTestcases(suite: SuiteBuilder, testcases: TestcaseResult[]): void {
  for (const tc of testcases) {
    for (const [key, value] of Object.entries(tc.properties)) suite.property(testcasePropertyName(tc.title, key), String(value));
  }
  for (const tc of testcases) addTestcase(suite, tc);
}

function addTestcase(suite: SuiteBuilder, tc: TestcaseResult): void {
  const testCase = suite.testCase().className(tc.classname).name(tc.title).time(tc.durationMs / 1000);
  const tags = measurementTags(tc.measurements);
  const text = tc.systemOut ?? '';
  const out = tc.status === 'pass' || tc.status === 'skip' ? buildPassingOutput(tags, text) : [tags, text].filter(Boolean).join('\n');
  if (out) testCase.standardOutput(out);
  if (tc.status === 'fail') testCase.failure(tc.message ?? 'threshold missed', 'ThresholdFailure');
  if (tc.status === 'error') testCase.error(tc.message ?? 'error', 'MeasurementError', tc.details);
  if (tc.status === 'skip') skipWithReason(testCase, tc.message ?? 'skipped');
}

/**
 * Jenkins keeps 500 characters at each end of a passing test's output (unless the job sets
 * keepLongStdio), so up to 1000 survive whole: passing output is kept within that, the
 * Measurement Plots tags first and never cut, then the text with its middle cut out (as
 * Jenkins would, but saying where the whole of it is), so a finding's fix at the end stays.
 */
export const PASSING_OUTPUT_MAX = 1000;
const CUT_NOTE = '\n… (cut: the whole output is in results.json and the case log) …\n';

export function buildPassingOutput(tags: string, text: string): string {
  const whole = [tags, text].filter(Boolean).join('\n');
  if (whole.length <= PASSING_OUTPUT_MAX) return whole;
  const room = PASSING_OUTPUT_MAX - (tags ? tags.length + 1 : 0) - CUT_NOTE.length;
  if (room <= 0) return tags;
  const head = text.slice(0, Math.ceil(room / 2));
  const tail = text.slice(text.length - Math.floor(room / 2));
  return [tags, `${head}${CUT_NOTE}${tail}`].filter(Boolean).join('\n');
}

// Written after each case, junit.xml must not read as green when the harness dies before the
// verdict: until then it carries one error saying the run has not finished.
function addUnfinishedSuite(builder: Builder, run: RunResult): void {
  const suite = builder.testSuite().name('kvmfornfv.run').timestamp(run.startedAt).time(0).property('run_id', run.runId);
  const message = `run ${run.runId} has not reached its verdict (status running): it is still running, or its harness was killed; cases not listed here did not run`;
  addTestcases(suite, [{ title: 'the run reached its verdict', classname: 'kvmfornfv.run', status: 'error', message, durationMs: 0, properties: {}, measurements: {} }]);
}

// Regressions are judged apart from thresholds, so Jenkins shows them as their own suite.
function addRegressionSuite(builder: Builder, run: RunResult, report: RegressionReport): void {
  const testcases = buildRegressionTestcases(report);
  if (testcases.length === 0) return;
  const suite = builder.testSuite().name('kvmfornfv.regression').timestamp(run.stoppedAt).time(0).property('baseline_run', report.baseline?.runId ?? 'none');
  addTestcases(suite, testcases);
}

function wholeCase(result: CaseResult): TestcaseResult {
  return {
    title: result.caseName,
    classname: `kvmfornfv.${result.tier}.${result.caseName}`,
    status: result.status,
    message: result.reason ?? result.status,
    durationMs: result.durationMs,
    properties: {},
    measurements: {},
  };
}

interface XmlNode {
  name?: string;
  children?: XmlNode[];
  att(name: string, value: string): XmlNode;
  ele(name: string): XmlNode;
  cdata(text: string): XmlNode;
}

// junit-report-builder writes a bare <skipped/>; Jenkins shows the message attribute,
// so the reason is added to this one element when it is built.
function skipWithReason(testCase: BuilderTestCase, reason: string): void {
  testCase.skipped();
  const build = testCase.build.bind(testCase);
  testCase.build = (parent: Parameters<typeof build>[0]) => {
    const element = build(parent) as unknown as XmlNode;
    element.children?.find((c) => c.name === 'skipped')?.att('message', reason);
    return element as unknown as ReturnType<typeof build>;
  };
}

export function createJunitReporter(runDir: string): Reporter {
  const write = (run: RunResult) => writeFileAtomic(join(runDir, 'junit.xml'), buildJunitXml(run));
  return { name: 'junit', onCaseEnd: (_c, run) => write(run), onEnd: write };
}
