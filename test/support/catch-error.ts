// The error a call threw for an input it must refuse, checked to be of the expected class; a
// call that throws nothing fails the test.
import { expect } from 'chai';
import { ConfigError, ToolOutputParseError } from '../../lib/errors.ts';

export function catchError<E extends Error>(run: () => unknown, expected: new (...args: never[]) => E): E {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(expected);
    return error as E;
  }
  return expect.fail(`expected a ${expected.name}, but nothing was thrown`);
}

/** A parser's refusal of its input. */
export const catchParseError = (parse: () => unknown): ToolOutputParseError => catchError(parse, ToolOutputParseError);

/** A config reader's refusal: the file, the field and what was expected. */
export const catchConfigError = (run: () => unknown): ConfigError => catchError(run, ConfigError);
