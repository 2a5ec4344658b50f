// Turns one mocha run into JUnit-ready testcases. Mocha reports a failed `before` hook as
// a made-up "before all" test and silently drops the tests it guarded; for a CI verdict
// each declared test must instead end as an error carrying the cause.
import type Mocha from 'mocha';
import type { TestcaseResult, Status } from '../results/model.ts';
import type { TestAnnotation } from './case-context.ts';
import { describeError } from '../errors.ts';
import { isThresholdFailure } from '../verdict/limits.ts';
import { isDryRunStop } from './dry-run.ts';

export interface RunEvents {
  testFailures: Map<Mocha.Test, unknown>;
  /** A failed hook, kept on the suite it belongs to. */
  hookFailures: Map<Mocha.Suite, { hook: string; error: unknown }>;
  annotations: Map<Mocha.Test, TestAnnotation>;
}

export function createRunEvents(): RunEvents {
  return { testFailures: new Map(), hookFailures: new Map(), annotations: new Map() };
}

// Mocha accepts a reporter constructor; this one only listens, the harness reports.
export function createCollectingReporter(events: RunEvents): new (runner: Mocha.Runner) => object {
  return class CollectingReporter {
    constructor(runner: Mocha.Runner) {
      runner.on('fail', (runnable: Mocha.Runnable, error: unknown) => {
        if ((runnable as Mocha.Runnable & { type?: string }).type === 'hook') {
          const suite = runnable.parent;
          if (suite && !events.hookFailures.has(suite)) events.hookFailures.set(suite, { hook: runnable.title, error });
        } else {
          events.testFailures.set(runnable as Mocha.Test, error);
        }
      });
    }
  };
}

export interface CollectOptions {
  classname: string;
  caseName: string;
  /** Why tests that never ran did not run, when no hook failure explains it. */
  notRunReason: string;
}

/** Walks the suite tree in declaration order so every declared test gets exactly one result. */
export function collectTestcases(root: Mocha.Suite, events: RunEvents, options: CollectOptions): TestcaseResult[] {
  const results: TestcaseResult[] = [];
  const visit = (suite: Mocha.Suite, inheritedCause?: { hook: string; error: unknown }) => {
    const cause = events.hookFailures.get(suite) ?? inheritedCause;
    for (const test of suite.tests) results.push(toTestcase(test, events, options, cause));
    for (const child of suite.suites) visit(child, cause);
  };
  visit(root);
  // after-hooks fail once the tests are done: that is a teardown error of its own, never hidden.
  for (const [suite, failure] of events.hookFailures) {
    if (/after/i.test(failure.hook)) {
      results.push({
        title: `${titleOf(suite.titlePath(), options.caseName) || options.caseName}: teardown`,
        classname: options.classname,
        status: 'error',
        message: `teardown failed: ${oneLine(describeError(failure.error))}`,
        details: describeError(failure.error),
        durationMs: 0,
        properties: {},
        measurements: {},
      });
    }
  }
  return results;
}

function toTestcase(
  test: Mocha.Test,
  events: RunEvents,
  options: CollectOptions,
  hookCause: { hook: string; error: unknown } | undefined,
): TestcaseResult {
  const annotation = events.annotations.get(test);
  const base = {
    title: titleOf(test.titlePath(), options.caseName),
    classname: options.classname,
    durationMs: test.duration ?? 0,
    properties: { ...(annotation?.properties ?? {}) },
    measurements: { ...(annotation?.measurements ?? {}) },
    ...(annotation && annotation.systemOut.length > 0 ? { systemOut: annotation.systemOut.join('\n') } : {}),
  };
  const failure = events.testFailures.get(test);
  if (test.state === 'passed') return { ...base, status: 'pass' };
  if (isDryRunStop(failure)) return { ...base, status: 'skip', message: describeError(failure) };
  if (test.state === 'failed' || failure !== undefined) {
    const status: Status = isThresholdFailure(failure) ? 'fail' : 'error';
    return { ...base, status, message: oneLine(describeError(failure)), details: detailsOf(failure) };
  }
  if (test.isPending() || test.state === 'pending') {
    return { ...base, status: 'skip', message: annotation?.skipReason ?? 'skipped' };
  }
  if (hookCause && isDryRunStop(hookCause.error)) {
    return { ...base, status: 'skip', message: describeError(hookCause.error) };
  }
  if (hookCause && !/after/i.test(hookCause.hook)) {
    const reason = oneLine(describeError(hookCause.error));
    return { ...base, status: 'error', message: `not measured: ${reason}`, details: detailsOf(hookCause.error) };
  }
  return { ...base, status: 'error', message: `not run: ${options.notRunReason}` };
}

function titleOf(path: string[], caseName: string): string {
  const parts = path[0] === caseName ? path.slice(1) : path;
  return parts.join(': ');
}

function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? text;
  return first.length > 500 ? `${first.slice(0, 497)}...` : first;
}

function detailsOf(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  const lines = [describeError(error)];
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause !== undefined && lines.length < 6) {
    lines.push(`caused by: ${describeError(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.join('\n');
}
