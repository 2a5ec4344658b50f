// Tool output as numbered lines, and the one way a line parser refuses one: a
// ToolOutputParseError that quotes the line and its number.
import { ToolOutputParseError } from '../errors.ts';

export interface TextLine {
  /** 1-based. */
  n: number;
  text: string;
}

export function splitTextLines(text: string): TextLine[] {
  return text.split('\n').map((line, i) => ({ n: i + 1, text: line.replace(/\r$/, '') }));
}

/** A reject function for one tool's stream (`stdout`, `trace`, ...). */
export function lineRejecter(tool: string, source: string): (message: string, line?: TextLine) => never {
  return (message, line) => {
    throw new ToolOutputParseError(tool, message, line ? { lineNumber: line.n, line: line.text, source } : { source });
  };
}
