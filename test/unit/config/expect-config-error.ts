// Shared by the config specs: a bad input must give a ConfigError whose message
// names the file, the field path and what was expected, and never a secret.
import { expect } from 'chai';
import type { ConfigError } from '../../../lib/errors.ts';
import { catchConfigError } from '../../support/catch-error.ts';

export interface ExpectedIssue {
  /** Exact issue path, e.g. `nodes[1].ssh_port`; '' for the whole file. */
  path: string;
  /** Fragments the issue's message must contain. */
  includes: string[];
}

export { catchConfigError };

export function expectConfigError(run: () => unknown, want: { file: string; issue: ExpectedIssue; secret?: string }): ConfigError {
  const error = catchConfigError(run);
  expect(error.file).to.equal(want.file);
  const issue = error.issues.find((i) => i.path === want.issue.path);
  expect(issue, `no issue at "${want.issue.path}" in:\n${error.message}`).to.not.equal(undefined);
  for (const fragment of want.issue.includes) expect(issue?.message).to.include(fragment);
  // The user-facing text carries file, path and message on one line.
  expect(error.message).to.include(`${want.file}: ${want.issue.path || '(top level)'}: ${issue?.message}`);
  if (want.secret !== undefined) {
    const cause = error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack ?? ''}` : String(error.cause ?? '');
    for (const text of [error.message, error.shortMessage, JSON.stringify(error.issues), String(error.stack), cause]) {
      expect(text).not.to.include(want.secret);
    }
  }
  return error;
}
