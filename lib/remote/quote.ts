// POSIX shell quoting. Every argument the harness sends to a node passes through here,
// so that a path, a password or a tool option can never be read as shell syntax.

/** Characters that need no quoting in any POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

// One argument as a single shell word that the remote shell turns back into exactly `arg`.
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new TypeError(`cannot pass a NUL byte in a shell argument: ${JSON.stringify(arg.slice(0, 80))}`);
  }
  if (arg === '') return "''";
  if (SAFE_WORD.test(arg)) return arg;
  // Inside single quotes nothing is special but the quote itself: close, escape it, reopen.
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Words the shell reads specially in command position even when they need no quoting. */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time', 'coproc']);

// An argv as one command line for `sh -c`, each element a separate word.
export function buildShellCommand(argv: readonly string[]): string {
  const [name, ...args] = argv;
  if (name === undefined) throw new TypeError('cannot build a shell command from an empty argv');
  // In command position `A=1` is an assignment and `if` a keyword: quote them so argv[0] is the program.
  const first = RESERVED.has(name) || name.includes('=') ? `'${name}'` : quoteArg(name);
  return [first, ...args.map(quoteArg)].join(' ');
}
