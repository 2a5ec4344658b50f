// The Xtesting-style catalogue (testcases/testcases.yaml): tiers, cases, and which
// suite runs each. `-t` resolves against it exactly as Xtesting's run_tests does.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { readYamlFile } from './yaml-file.ts';
import { buildConfigIssues } from './zod-issues.ts';

export const DEFAULT_CATALOGUE = fileURLToPath(new URL('../../testcases/testcases.yaml', import.meta.url));

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

// Xtesting's criteria is the pass threshold of a numeric result: a case passes when
// result >= criteria (opnfv/functest-xtesting xtesting/core/testcase.py at 4884e75b, __init__
// line 67 defaults it to 100, is_successful lines 131-151 compares). A case of this suite has no
// percentage to compare: its result is one verdict, pass only when every assert limit of the
// profile holds and every figure was measured. Any other value would pass a case with failed
// limits, or be silently ignored, so it is refused.
const CRITERIA_ONLY_100 =
  'expected 100 (or no criteria): in Xtesting a case passes when its result reaches criteria percent, but a case of this suite has one verdict, pass only when every assert limit of its threshold profile holds and every figure was measured; a lower criteria would pass a case with failed limits. To let a limit fail without failing the case, give it action: monitor in the threshold profile';

const caseSchema = z.object({
  case_name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a lower-case name of letters, digits and _'),
  project_name: z.literal('kvmfornfv'),
  criteria: z.number().refine((v) => v === 100, CRITERIA_ONLY_100).default(100),
  blocking: z.boolean().default(true),
  enabled: z.boolean().default(true),
  description: z.string().default(''),
  busy_polls: z.boolean().default(false),
  dependencies: z
    .array(z.record(z.string(), z.string().refine(isRegExp, 'expected a regular expression the variable must match, e.g. "^os-.*-ha$"')))
    .nullish()
    .transform((d) => d ?? []),
  run: z.object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a suite name of lower-case letters, digits and -'),
    args: z.record(z.string(), z.unknown()).nullish().transform((a) => a ?? {}),
  }),
});

const catalogueSchema = z.object({
  tiers: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z][a-z0-9_]*$/),
        description: z.string().default(''),
        testcases: z.array(caseSchema).default([]),
      }),
    )
    .min(1, 'expected at least one tier'),
});

export interface CatalogueCase {
  caseName: string;
  tier: string;
  blocking: boolean;
  enabled: boolean;
  description: string;
  dependencies: Array<Record<string, string>>;
  /**
   * The case's tool keeps its CPUs busy (oslat polls them at a real-time priority). Compute
   * groups whose nodes share one machine (the lab pod) then run it in turns: side by side they
   * would starve each other, and figures measured so say nothing of a compute.
   */
  busyPolls?: boolean;
  suite: string;
  args: Record<string, unknown>;
}

export interface Catalogue {
  file: string;
  tiers: Array<{ name: string; description: string; cases: CatalogueCase[] }>;
}

// Parsed once and validated whole, so a bad catalogue names every bad field at once.
export function loadCatalogue(file: string = DEFAULT_CATALOGUE): Catalogue {
  const raw = readYamlFile(file, 'an Xtesting catalogue: a mapping with tiers: [{name, testcases: [...]}]');
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, buildConfigIssues(parsed.error.issues, { input: raw }));
  // Tier and case names may coincide (tier preflight holds case preflight): -t tries tiers
  // first, as run_tests does. Two tiers, or two cases, of one name could not be told apart.
  const tiers = new Set<string>();
  const cases = new Set<string>();
  const issues = [];
  for (const [t, tier] of parsed.data.tiers.entries()) {
    if (tiers.has(tier.name)) issues.push({ path: `tiers[${t}].name`, message: `duplicate tier name "${tier.name}"` });
    tiers.add(tier.name);
    for (const [c, tc] of tier.testcases.entries()) {
      if (cases.has(tc.case_name)) issues.push({ path: `tiers[${t}].testcases[${c}].case_name`, message: `duplicate case name "${tc.case_name}"` });
      cases.add(tc.case_name);
    }
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  return {
    file,
    tiers: parsed.data.tiers.map((tier) => ({
      name: tier.name,
      description: tier.description,
      cases: tier.testcases.map((tc) => ({
        caseName: tc.case_name,
        tier: tier.name,
        blocking: tc.blocking,
        enabled: tc.enabled,
        description: tc.description,
        dependencies: tc.dependencies,
        busyPolls: tc.busy_polls,
        suite: tc.run.name,
        args: tc.run.args,
      })),
    })),
  };
}

/** Cases selected by `-t`: a case name, a tier name or `all`, in catalogue order. */
export function selectCases(catalogue: Catalogue, selection: string): CatalogueCase[] {
  const all = catalogue.tiers.flatMap((t) => t.cases);
  if (selection === 'all') return all;
  const tier = catalogue.tiers.find((t) => t.name === selection);
  if (tier) return tier.cases;
  const found = all.find((c) => c.caseName === selection);
  if (found) return [found];
  const names = ['all', ...catalogue.tiers.map((t) => t.name), ...all.map((c) => c.caseName)];
  throw new ConfigError('command line', [{ path: '-t', message: `"${selection}" is not a case, a tier or all; expected one of: ${names.join(', ')}` }]);
}

/** The first unmet dependency, as Xtesting reports it, or undefined when the case may run. */
export function unmetDependency(testCase: CatalogueCase, env: NodeJS.ProcessEnv): string | undefined {
  for (const dependency of testCase.dependencies) {
    for (const [variable, pattern] of Object.entries(dependency)) {
      const value = env[variable] ?? '';
      if (!isRegExp(pattern)) throw new ConfigError('testcases.yaml', [{ path: `${testCase.caseName}.dependencies.${variable}`, message: `expected a regular expression, found ${JSON.stringify(pattern)}` }]);
      if (!new RegExp(pattern).test(value)) return `${variable}="${value}" does not match /${pattern}/`;
    }
  }
  return undefined;
}
