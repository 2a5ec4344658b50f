// The layering of lib/, checked on every test run (as Playwright's DEPS.list is in lint):
// tools, measure and verdict stay pure; only lib/remote speaks SSH; reports read the
// result model, never SSH or mocha. A new import that breaks a rule fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import of a file, as the module it names: a package, `node:x`, or a path under lib/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => {
    const spec = m[1] as string;
    return spec.startsWith('.') ? relative(LIB, join(file, '..', spec)) : spec;
  });
}

const IO = /^(node:(fs|child_process|net|http|https|dgram)(\/.*)?|execa|ssh2|mocha)$/;

interface Rule {
  layer: string;
  why: string;
  forbidden: (spec: string) => boolean;
}

const RULES: Rule[] = [
  { layer: 'tools/', why: 'builders and parsers are pure: text in, values out', forbidden: (s) => IO.test(s) || /^(harness|cases|cli|lab)\//.test(s) || (/^remote\//.test(s) && !/^remote\/(quote|types|timeouts)\.ts$/.test(s)) },
  { layer: 'measure/', why: 'measurement maths is pure', forbidden: (s) => IO.test(s) || /^(remote|harness|cases|cli|report|tools)\//.test(s) },
  { layer: 'verdict/', why: 'verdicts see only figures and limits', forbidden: (s) => IO.test(s) || !/^(verdict\/|zod$)/.test(s) },
  { layer: 'audit/', why: 'checks read a snapshot and change nothing', forbidden: (s) => IO.test(s) || /^(remote|harness|cli|lab)\//.test(s) },
  { layer: 'report/', why: 'reports are views of the result model', forbidden: (s) => /^(ssh2|mocha|execa)$/.test(s) || /^(remote|harness|cli|lab|cases\/(?!latency-figures))/.test(s) },
  { layer: 'harness/', why: 'the runner serves the CLI and never reaches back into it', forbidden: (s) => /^(cli|lab)\//.test(s) },
  { layer: 'config/', why: 'configuration is loaded, validated and resolved, nothing else', forbidden: (s) => /^(ssh2|mocha|execa)$/.test(s) || /^(remote|harness|cli|lab|cases|report)\//.test(s) },
];

describe('architecture: what each layer of lib/ may import', () => {
  const files = filesUnder(LIB);

  for (const rule of RULES) {
    it(`lib/${rule.layer} (${rule.why})`, () => {
      const offending = files
        .filter((f) => relative(LIB, f).startsWith(rule.layer))
        .flatMap((f) => importsOf(f).filter(rule.forbidden).map((spec) => `${relative(LIB, f)} imports ${spec}`));
      expect(offending).to.deep.equal([]);
    });
  }

  it('only lib/remote uses ssh2', () => {
    const offending = files.filter((f) => !relative(LIB, f).startsWith('remote/') && importsOf(f).includes('ssh2'));
    expect(offending.map((f) => relative(LIB, f))).to.deep.equal([]);
  });

  it('the rules would catch a violation (the import reader sees relative and package imports)', () => {
    const timer = join(LIB, 'cases', 'timer.ts');
    expect(importsOf(timer)).to.include.members(['harness/case-context.ts', 'zod']);
  });
});
