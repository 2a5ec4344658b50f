// A small TypeScript tokenizer for the read-only scan: it returns the text of every string
// and template literal, skipping comments and regular expression literals, so that
// `x => y` and `a > b` in code are not mistaken for shell redirections.

const REGEX_PRECEDERS = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);

export function extractStringLiterals(source: string): string[] {
  const literals: string[] = [];
  let i = 0;

  const readQuoted = (quote: string): void => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== quote) {
      if (source[i] === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else {
        text += source[i];
        i++;
      }
    }
    i++;
    literals.push(text);
  };

  const readRegex = (): void => {
    let inClass = false;
    i++;
    while (i < source.length) {
      const ch = source[i];
      if (ch === '\\') i += 2;
      else {
        if (ch === '[') inClass = true;
        else if (ch === ']') inClass = false;
        else if (ch === '/' && !inClass) break;
        i++;
      }
    }
    i++;
    while (i < source.length && /[a-z]/.test(source[i] as string)) i++;
  };

  // Code until the `}` that closes a template substitution (or the end of the file).
  const readCode = (inSubstitution: boolean): void => {
    let depth = 0;
    let previous = '';
    while (i < source.length) {
      const ch = source[i] as string;
      const next = source[i + 1];
      if (ch === '/' && next === '/') {
        while (i < source.length && source[i] !== '\n') i++;
      } else if (ch === '/' && next === '*') {
        const end = source.indexOf('*/', i + 2);
        i = end < 0 ? source.length : end + 2;
      } else if (ch === "'" || ch === '"') {
        readQuoted(ch);
        previous = 'a';
      } else if (ch === '`') {
        readTemplate();
        previous = 'a';
      } else if (ch === '/' && REGEX_PRECEDERS.has(previous)) {
        readRegex();
        previous = 'a';
      } else {
        if (ch === '{') depth++;
        if (ch === '}') {
          if (depth === 0 && inSubstitution) {
            i++;
            return;
          }
          depth--;
        }
        if (!/\s/.test(ch)) previous = /[\w$)\].]/.test(ch) ? 'a' : ch;
        i++;
      }
    }
  };

  const readTemplate = (): void => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (source[i] === '$' && source[i + 1] === '{') {
        i += 2;
        readCode(true);
        text += '${…}';
      } else {
        text += source[i];
        i++;
      }
    }
    i++;
    literals.push(text);
  };

  readCode(false);
  return literals;
}

/** Shell constructs that write or change state, as the brief lists them. */
export const WRITE_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['output redirection', /(^|[\s;&|(])\d*>>?\s*[\w/&$"'~.-]/m],
  ['tee', /\btee\b/],
  ['echo into a file', /\becho\b[^\n]*>/],
  ['sysctl -w', /\bsysctl\s+-\w*w/],
  ['mount', /\b(u?mount)\b/],
  ['modprobe', /\bmodprobe\b/],
];

// The script may discard stderr or merge it into stdout, and prints `==> … <==` item
// headers with one printf format; nothing else may contain `>`.
export const ALLOWED_REDIRECTIONS = /2>&1|>\/dev\/null|printf '==> %s %s %s <==\\n'/g;

export function findWritePatterns(text: string, patterns: ReadonlyArray<[string, RegExp]> = WRITE_PATTERNS): string[] {
  return patterns.filter(([, re]) => re.test(text)).map(([name]) => name);
}
