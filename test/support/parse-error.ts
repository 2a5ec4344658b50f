// The error a parser threw for an input it must refuse, checked to be a ToolOutputParseError.
import { expect } from 'chai';
import { ToolOutputParseError } from '../../lib/errors.ts';

export function catchParseError(parse: () => unknown): ToolOutputParseError {
  try {
    parse();
  } catch (error) {
    expect(error).to.be.instanceOf(ToolOutputParseError);
    return error as ToolOutputParseError;
  }
  throw new Error('expected a ToolOutputParseError');
}
