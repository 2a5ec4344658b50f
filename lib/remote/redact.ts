// Secrets from pod.yaml (passwords, referenced passphrases) must never reach a log line, an
// error message or a report. One Redactor per pod is applied to every such string.
import { quoteArg } from './quote.ts';

export const REDACTED = '***';

/** How many levels of single-quote escaping a secret may be wrapped in (argv, sh -c, sudo sh -c). */
const QUOTE_LEVELS = 3;

export class Redactor {
  readonly #pattern: RegExp | undefined;
  readonly #count: number;

  constructor(secrets: readonly string[]) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      // A secret placed in a command is quoted, maybe several times over: redact those forms too.
      let form = secret;
      for (let level = 0; level <= QUOTE_LEVELS; level++) {
        forms.add(form);
        form = form.replaceAll("'", `'\\''`);
      }
      forms.add(quoteArg(secret));
    }
    // Longest first, so that a secret containing another one is replaced whole.
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.#count = secrets.filter((s) => s).length;
    this.#pattern = sorted.length === 0 ? undefined : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  /** Number of non-empty secrets this redactor hides. */
  get size(): number {
    return this.#count;
  }

  redact(text: string): string {
    return this.#pattern ? text.replace(this.#pattern, REDACTED) : text;
  }
}

// A redactor for code paths that have no secrets (tests, dry runs without a pod).
export function buildNoopRedactor(): Redactor {
  return new Redactor([]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
