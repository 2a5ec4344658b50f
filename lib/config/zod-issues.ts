// Turns zod issues into ConfigIssue[] that read "nodes[1].ssh_port: expected an
// integer 1-65535, got "abc"", for every config loader (pod, thresholds, catalogue).
//
// Convention for schema authors: a custom `error` message that starts with
// "expected " is kept and gets ", got <value>" appended; zod's own messages are
// rebuilt from the issue's structure; issues with code 'custom' are used verbatim.
import type { core } from 'zod';
import type { ConfigIssue } from '../errors.ts';

export type IssuePath = readonly PropertyKey[];

export interface IssueFormatOptions {
  /** The raw document, so a message can say what was found at the path. */
  input?: unknown;
  /** Prepended to every issue path, for schemas applied to a part of a document. */
  pathPrefix?: IssuePath;
  /** Paths whose values must never be printed; defaults to isSecretPath. */
  isSecret?: (path: IssuePath) => boolean;
}

// Passwords must never reach a log, so the formatter prints their type only.
export function isSecretPath(path: IssuePath): boolean {
  return path.some((p) => typeof p === 'string' && /password|passphrase|secret|token|pwd|pkey|private_key/i.test(p) && !/_env$/i.test(p));
}

// One path syntax for every config error, so users can search their file for it.
export function formatIssuePath(path: IssuePath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

// Messages show what was found, short enough for one line.
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value instanceof Date) return `a date (${value.toISOString().slice(0, 10)}); quote it to make it text`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

// The type of a secret value is safe to print; the value is not.
export function describeValueType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

// Walks the raw document, so messages can quote what the user wrote.
export function valueAtPath(input: unknown, path: IssuePath): unknown {
  let cur: unknown = input;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part as PropertyKey];
  }
  return cur;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  null: 'null',
};

function expectedFromStructure(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? (issue as core.$ZodIssueTooSmall).minimum : (issue as core.$ZodIssueTooBig).maximum;
      const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.origin === 'string') return small && Number(bound) === 1 ? 'expected a non-empty string' : `expected a string of length ${op} ${bound}`;
      if (issue.origin === 'array') return small && Number(bound) === 1 ? 'expected a non-empty list' : `expected a list with ${op} ${bound} items`;
      return `expected a number ${op} ${bound}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern ? `expected text matching ${issue.pattern}` : `expected ${issue.format}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    default:
      return 'invalid value';
  }
}

function withFound(expected: string, value: unknown, secret: boolean): string {
  if (value === undefined) return `missing; ${expected}`;
  return `${expected}, got ${secret ? describeValueType(value) : describeValue(value)}`;
}

// Shared by every loader, so all config errors read the same way.
export function buildConfigIssues(issues: readonly core.$ZodIssue[], options: IssueFormatOptions = {}): ConfigIssue[] {
  const prefix = options.pathPrefix ?? [];
  const secret = options.isSecret ?? isSecretPath;
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const value = valueAtPath(options.input, issue.path);
    if (issue.code === 'unrecognized_keys') {
      const hint = issue.message.startsWith('expected ') ? `; ${issue.message}` : '';
      for (const key of issue.keys) out.push({ path: formatIssuePath([...path, key]), message: `unknown key${hint}` });
    } else if (issue.code === 'custom') {
      out.push({ path: formatIssuePath(path), message: issue.message });
    } else if (issue.code === 'invalid_union' || issue.code === 'invalid_key' || issue.code === 'invalid_element') {
      // Nested issues carry the real reasons; report the first alternative's.
      const nested = issue.code === 'invalid_union' ? (issue.errors[0] ?? []) : issue.issues;
      const inner = buildConfigIssues(nested, { ...options, input: value, pathPrefix: path });
      out.push(...(inner.length > 0 ? inner : [{ path: formatIssuePath(path), message: withFound('invalid value', value, secret(path)) }]));
    } else {
      const expected = issue.message.startsWith('expected ') ? issue.message : expectedFromStructure(issue);
      out.push({ path: formatIssuePath(path), message: withFound(expected, value, secret(path)) });
    }
  }
  return out;
}

