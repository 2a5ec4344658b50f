// Reads junit.xml the way Jenkins' JUnit plugin does, so tests check what Jenkins will show,
// not what we meant to write. Each rule names its source in jenkinsci/junit-plugin
// (src/main/java/hudson/tasks/junit/):
// - SuiteResult.parseSuite: nested <testsuite> elements are walked; a suite counts only when it
//   has a <testcase> or an <error> child. Suite name = `package` + '.' + name when package is set.
// - SuiteResult(File, Element, ...): a <testcase> without classname takes the suite's name.
// - CaseResult(SuiteResult, Element, ...): with no classname and a dotted name, the name is split
//   at its last dot. getPackageName/getSimpleName split className at its last dot ("(root)" when
//   there is none).
// - CaseResult.parseTime + TimeToFloat.parse: `time` in seconds as a float, commas removed, 0 when
//   it cannot be read.
// - CaseResult.getError/getErrorMessage: the <error> element is looked at before <failure>; its
//   text is the stack trace (an empty element still counts), its `message` the details.
// - CaseResult.isMarkedAsSkipped/getSkippedMessage: <skipped> and its `message` attribute.
// - CaseResult.possiblyTrimStdio/halfMaxSize: unless keepLongStdio, output longer than twice
//   500 characters (50000 for a failing case) keeps its first and last 500 with a
//   "...[truncated N chars]..." marker between.
// - SuiteResult(File, Element, ...): the suite's own <system-out> is read with the same rule
//   over all its cases (500 unless one of them failed); CaseResult.getStdout falls back to it
//   for a case without output of its own.
// - Timestamps: the suite's `timestamp` attribute; SuiteResult.parseTime (added in
//   jenkinsci/junit-plugin pull request 596) turns it into the start time. Its body could not be
//   read here; /work/shared/notes/formats.md records that a timestamp without a zone is read as
//   UTC, which is what `startTimeMs` does.
// The Measurement Plots plugin (jenkinsci/measurement-plots-plugin OutputParser and
// OutputOperationApplicator) reads CaseResult.getStdout(), i.e. the trimmed text, with the
// pattern `(<measurement>.+?</measurement>)`, where `.` does not cross a line break.
import { XMLParser } from 'fast-xml-parser';

export interface JenkinsCase {
  className: string;
  packageName: string;
  simpleClassName: string;
  name: string;
  duration: number;
  status: 'PASSED' | 'FAILED' | 'SKIPPED';
  /** Which element made the case fail: the plugin looks at <error> first. */
  failedBy?: 'error' | 'failure';
  errorStackTrace?: string;
  errorDetails?: string;
  skippedMessage?: string;
  stdout?: string;
  stderr?: string;
}

export interface JenkinsSuite {
  name: string;
  timestamp?: string;
  /** The timestamp as epoch ms; a timestamp without a zone is taken as UTC. */
  startTimeMs?: number;
  duration: number;
  properties: Record<string, string>;
  cases: JenkinsCase[];
  /** The suite's own <system-out>, trimmed as the plugin does. */
  stdout?: string;
}

type XmlElement = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (name) => ['testsuite', 'testcase', 'property', 'properties', 'error', 'failure', 'skipped', 'system-out', 'system-err'].includes(name),
});

export function readJenkinsJunit(xml: string, options: { keepLongStdio?: boolean } = {}): JenkinsSuite[] {
  const doc = parser.parse(xml) as XmlElement;
  const suites: JenkinsSuite[] = [];
  const roots = [...arrayOf(doc.testsuites), ...arrayOf(doc.testsuite).map((s) => ({ testsuite: [s] }))];
  for (const root of roots) walkSuite(root as XmlElement, suites, options.keepLongStdio ?? false);
  return suites;
}

function walkSuite(element: XmlElement, out: JenkinsSuite[], keepLongStdio: boolean): void {
  for (const nested of arrayOf(element.testsuite)) walkSuite(nested as XmlElement, out, keepLongStdio);
  if (arrayOf(element.testcase).length > 0 || arrayOf(element.error).length > 0) out.push(readSuite(element, keepLongStdio));
}

function readSuite(suite: XmlElement, keepLongStdio: boolean): JenkinsSuite {
  const rawName = attr(suite, 'name');
  const pkg = attr(suite, 'package');
  const name = rawName === undefined ? '(unnamed)' : pkg ? `${pkg}.${rawName}` : rawName;
  const timestamp = attr(suite, 'timestamp');
  const cases = arrayOf(suite.testcase).map((tc) => readCase(tc as XmlElement, attr(tc as XmlElement, 'classname') ?? rawName, keepLongStdio));
  const time = attr(suite, 'time');
  const properties: Record<string, string> = {};
  for (const block of arrayOf(suite.properties)) {
    for (const p of arrayOf((block as XmlElement).property)) properties[attr(p as XmlElement, 'name') ?? ''] = attr(p as XmlElement, 'value') ?? '';
  }
  const result: JenkinsSuite = { name, duration: time === undefined ? cases.reduce((s, c) => s + c.duration, 0) : timeToFloat(time), properties, cases };
  const stdout = firstOf(suite['system-out']);
  if (stdout !== undefined) result.stdout = trimStdio(textOf(stdout), cases.some((c) => c.failedBy !== undefined) ? 50_000 : 500, keepLongStdio);
  if (timestamp !== undefined) {
    result.timestamp = timestamp;
    const ms = parseTimestampAsJenkins(timestamp);
    if (ms !== undefined) result.startTimeMs = ms;
  }
  return result;
}

function readCase(tc: XmlElement, testClassName: string | undefined, keepLongStdio: boolean): JenkinsCase {
  let className = testClassName;
  let name = attr(tc, 'name') ?? '';
  if (className === undefined && name.includes('.')) {
    className = name.slice(0, name.lastIndexOf('.'));
    name = name.slice(name.lastIndexOf('.') + 1);
  }
  const cls = className ?? '';
  const dot = cls.lastIndexOf('.');
  const error = firstOf(tc.error);
  const failure = firstOf(tc.failure);
  const failing = error ?? failure;
  const skipped = firstOf(tc.skipped);
  const result: JenkinsCase = {
    className: cls,
    packageName: dot < 0 ? '(root)' : cls.slice(0, dot),
    simpleClassName: cls.slice(dot + 1),
    name,
    duration: timeToFloat(attr(tc, 'time')),
    status: skipped !== undefined ? 'SKIPPED' : failing !== undefined ? 'FAILED' : 'PASSED',
  };
  if (failing !== undefined) {
    result.failedBy = error !== undefined ? 'error' : 'failure';
    result.errorStackTrace = textOf(failing);
    const message = attr(failing, 'message');
    if (message !== undefined) result.errorDetails = message;
  }
  if (skipped !== undefined) {
    const message = attr(skipped, 'message');
    if (message !== undefined) result.skippedMessage = message;
  }
  const half = failing !== undefined ? 50_000 : 500;
  const stdout = firstOf(tc['system-out']);
  const stderr = firstOf(tc['system-err']);
  if (stdout !== undefined) result.stdout = trimStdio(textOf(stdout), half, keepLongStdio);
  if (stderr !== undefined) result.stderr = trimStdio(textOf(stderr), half, keepLongStdio);
  return result;
}

/** CaseResult.possiblyTrimStdio. */
export function trimStdio(text: string, halfMaxSize: number, keepLongStdio: boolean): string {
  if (keepLongStdio) return text;
  const middle = text.length - halfMaxSize * 2;
  if (middle <= 0) return text;
  return `${text.slice(0, halfMaxSize)}\n...[truncated ${middle} chars]...\n${text.slice(text.length - halfMaxSize)}`;
}

/** TimeToFloat.parse: commas removed, a float, 0 when unreadable. */
export function timeToFloat(time: string | undefined): number {
  if (time === undefined) return 0;
  const value = Number.parseFloat(time.replaceAll(',', ''));
  return Number.isFinite(value) ? value : 0;
}

/** ISO 8601 date-time; without a zone it is read as UTC. */
export function parseTimestampAsJenkins(timestamp: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(timestamp.trim());
  if (!m) return undefined;
  const zone = m[3] ?? 'Z';
  const ms = Date.parse(`${m[1]}T${m[2]}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The Measurement Plots plugin's reading of one output text: name → value, in order. */
export function readMeasurementTags(output: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of output.matchAll(/<measurement>.+?<\/measurement>/g)) {
    const inner = /^<measurement><name>(.*?)<\/name><value>(.*?)<\/value><\/measurement>$/.exec(match[0]);
    if (inner) found[unescapeXml(inner[1] as string)] = unescapeXml(inner[2] as string);
  }
  return found;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] as string);
}

function arrayOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function firstOf(value: unknown): XmlElement | undefined {
  const first = arrayOf(value)[0];
  if (first === undefined) return undefined;
  return typeof first === 'object' && first !== null ? (first as XmlElement) : { '#text': String(first) };
}

function attr(element: XmlElement, name: string): string | undefined {
  const value = element[`@_${name}`];
  return value === undefined ? undefined : String(value);
}

function textOf(element: XmlElement): string {
  const text = element['#text'];
  return text === undefined ? '' : Array.isArray(text) ? text.join('') : String(text);
}
