// Reads one YAML config file and turns every way that can fail into a ConfigError
// naming the file: missing, unreadable, empty, or a syntax error with line and column.
import { readFileSync } from 'node:fs';
import { load, YAMLException } from 'js-yaml';
import { ConfigError } from '../errors.ts';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
};

// Config loaders share one reader, so file errors read the same for every file.
export function readYamlFile(file: string, what = 'a YAML mapping'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? `read failed (${code || 'unknown error'})`;
    throw new ConfigError(file, [{ path: '', message: `cannot read the file (${reason}); expected ${what}` }], { cause: error });
  }
  return parseYamlText(text, { file, what });
}

// Split from the reader so tests and generated files (the lab pod) can parse text.
export function parseYamlText(text: string, source: { file: string; what: string }): unknown {
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) {
    throw new ConfigError(source.file, [{ path: '', message: `the file is empty; expected ${source.what}` }]);
  }
  try {
    return load(text, { filename: source.file });
  } catch (error) {
    // Only the reason and position are shown: js-yaml's snippet quotes the source
    // line, which may hold a password.
    if (error instanceof YAMLException) {
      const at = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : '';
      throw new ConfigError(source.file, [{ path: '', message: `YAML syntax error${at}: ${error.reason}; expected ${source.what}` }]);
    }
    const reason = error instanceof Error ? `${error.name}` : 'unknown error';
    throw new ConfigError(source.file, [{ path: '', message: `cannot parse YAML (${reason}); expected ${source.what}` }]);
  }
}
