// Threshold profiles (testcases/thresholds/*.yaml): which figure of which case must
// stay under (max) or over (min) what, and whether missing it fails the run (assert)
// or is only reported (monitor). The format is described at the top of each profile.
import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { readYamlFile } from './yaml-file.ts';
import { buildConfigIssues, describeValue, formatIssuePath } from './zod-issues.ts';

export const LIMIT_UNITS = ['ns', 'us', 'ms', 's', 'pps', 'kpps', 'mpps', 'bps', 'gbps', 'percent', 'count'] as const;
export type LimitUnit = (typeof LIMIT_UNITS)[number];

/** Shaped like lib/verdict's LimitSpec, which it is passed to unchanged. */
export interface Limit {
  metric: string;
  /** The measured value must be ≤ max. Exactly one of max and min is set. */
  max?: number;
  /** The measured value must be ≥ min. */
  min?: number;
  unit: LimitUnit;
  action: 'assert' | 'monitor';
  /** Roles or node names the limit applies to; absent means every measured node. */
  nodes?: string[];
  description?: string;
  /** Where the limit came from, for reports; the loader always sets it. */
  origin?: 'profile' | 'pod_override';
}

export interface ThresholdProfile {
  name: string;
  file: string;
  description?: string;
  /** The pod whose override was applied, if one was. */
  podOverride?: string;
  limitsByCase: Record<string, Limit[]>;
  /** Top-level sections other than cases (e.g. preflight:, regression:), unvalidated here. */
  sections: Record<string, unknown>;
  /** The case's limits; an empty list when the profile has none for it. */
  limitsFor(caseName: string): Limit[];
}

export interface LoadThresholdsOptions {
  /** Applies `pod_overrides.<podName>` when the profile has it. */
  podName?: string;
  /** Where profile names are looked up; defaults to the repository's testcases/thresholds. */
  profilesDir?: string;
  /** Metric names each case reports; when given, anything else is an error. */
  knownMetrics?: Record<string, string[]>;
}

export const DEFAULT_PROFILES_DIR = fileURLToPath(new URL('../../testcases/thresholds/', import.meta.url));
const WHAT = 'a threshold profile: a mapping with cases: {<case>: [limits]}';
const KNOWN_TOP_KEYS = ['profile', 'description', 'cases', 'pod_overrides'];

// zod's number already refuses NaN and Infinity (YAML .nan, .inf).
const atLeastZero = z.number({ error: 'expected a number >= 0' }).min(0, { error: 'expected a number >= 0' });
const aboveZero = z.number({ error: 'expected a number > 0' }).gt(0, { error: 'expected a number > 0' });
const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

const unit = z.unknown().transform((input, ctx): LimitUnit => {
  if ((LIMIT_UNITS as readonly unknown[]).includes(input)) return input as LimitUnit;
  const message = input === undefined
    ? `missing; expected a unit, one of ${LIMIT_UNITS.join(', ')}`
    : `unit ${describeValue(input)} is not one of ${LIMIT_UNITS.join(', ')}`;
  ctx.addIssue({ code: 'custom', input, message });
  return z.NEVER;
});

const limitShape = {
  metric: text('a metric name such as max or p99'),
  // max: 0 is meaningful (no overflow, no loss); a min of 0 could never fail.
  max: atLeastZero.optional(),
  min: aboveZero.optional(),
  unit,
  action: z.enum(['assert', 'monitor'], { error: 'expected assert or monitor' }).default('assert'),
  nodes: z.array(text('a role or node name'), { error: 'expected a list of roles or node names' }).min(1, { error: 'expected a non-empty list' }).optional(),
  description: text('a description').optional(),
};
const limitSchema = z
  .strictObject(limitShape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `expected one of ${Object.keys(limitShape).join(', ')}` : 'expected a limit such as { metric: max, max: 1000, unit: us }'),
  })
  .superRefine((limit, ctx) => {
    if ((limit.max === undefined) === (limit.min === undefined)) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of max or min, got ${limit.max === undefined ? 'neither' : 'both'}` });
    }
  });
const caseLimits = z.record(z.string(), z.array(limitSchema, { error: 'expected a list of limits' }).min(1, { error: 'expected at least one limit' }), {
  error: 'expected a mapping of case name to a list of limits',
});
const profileSchema = z.looseObject(
  {
    profile: text('a profile name').optional(),
    description: text('a description').optional(),
    cases: caseLimits,
    pod_overrides: z.record(z.string(), caseLimits, { error: 'expected a mapping of pod name to cases' }).optional(),
  },
  { error: `expected ${WHAT}` },
);
type LimitInput = z.output<typeof limitSchema>;

// Profile names are what users type (-T lab); listing them makes a typo easy to fix.
export function listThresholdProfiles(dir: string = DEFAULT_PROFILES_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

// A bare name means a shipped profile; anything that looks like a path is a file.
export function resolveProfilePath(nameOrFile: string, dir: string = DEFAULT_PROFILES_DIR): { file: string; byName: boolean } {
  const byName = !nameOrFile.includes('/') && !/\.ya?ml$/i.test(nameOrFile);
  return { file: byName ? join(dir, `${nameOrFile}.yaml`) : nameOrFile, byName };
}

// The runner loads one profile per run, resolved for the pod it runs on.
export function loadThresholds(nameOrFile: string, options: LoadThresholdsOptions = {}): ThresholdProfile {
  const dir = options.profilesDir ?? DEFAULT_PROFILES_DIR;
  const { file, byName } = resolveProfilePath(nameOrFile, dir);
  if (byName && !listThresholdProfiles(dir).includes(nameOrFile)) {
    const available = listThresholdProfiles(dir);
    const list = available.length > 0 ? available.join(', ') : '(none)';
    throw new ConfigError(file, [{ path: '', message: `no threshold profile named "${nameOrFile}" in ${dir}; expected one of ${list}, or a path to a .yaml file` }]);
  }
  return buildThresholdProfile(readYamlFile(file, WHAT), { ...options, file });
}

function limitKey(limit: { metric: string; nodes?: string[] }): string {
  return `${limit.metric}\u0000${[...(limit.nodes ?? [])].sort().join(',')}`;
}

function toLimit(input: LimitInput, origin: NonNullable<Limit['origin']>): Limit {
  const out: Limit = { metric: input.metric, unit: input.unit, action: input.action, origin };
  if (input.max !== undefined) out.max = input.max;
  if (input.min !== undefined) out.min = input.min;
  if (input.nodes !== undefined) out.nodes = [...input.nodes];
  if (input.description !== undefined) out.description = input.description;
  return out;
}

// Checks that need the whole list (duplicates) or the caller's knowledge (metric names).
function checkCases(cases: Record<string, LimitInput[]>, at: PropertyKey[], known: Record<string, string[]> | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [caseName, limits] of Object.entries(cases)) {
    const metrics = known?.[caseName];
    if (known && !metrics) {
      issues.push({ path: formatIssuePath([...at, caseName]), message: `unknown case "${caseName}"; expected one of ${Object.keys(known).join(', ')}` });
      continue;
    }
    const seen = new Map<string, number>();
    limits.forEach((limit, i) => {
      if (metrics && !metrics.includes(limit.metric)) {
        issues.push({ path: formatIssuePath([...at, caseName, i, 'metric']), message: `expected one of ${metrics.join(', ')}, got "${limit.metric}"` });
      }
      const first = seen.get(limitKey(limit));
      if (first !== undefined) {
        issues.push({ path: formatIssuePath([...at, caseName, i]), message: `expected one limit per metric and nodes, got a second "${limit.metric}" limit (first at [${first}])` });
      } else seen.set(limitKey(limit), i);
    });
  }
  return issues;
}

// Split from loadThresholds so tests and generated profiles need no file.
export function buildThresholdProfile(raw: unknown, source: { file: string } & Omit<LoadThresholdsOptions, 'profilesDir'>): ThresholdProfile {
  const parsed = profileSchema.safeParse(raw);
  const issues: ConfigIssue[] = parsed.success ? [] : buildConfigIssues(parsed.error.issues, { input: raw });
  const sections: Record<string, unknown> = {};
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [key, value] of Object.entries(raw)) {
      if (KNOWN_TOP_KEYS.includes(key)) continue;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) sections[key] = value;
      else issues.push({ path: formatIssuePath([key]), message: `expected a mapping (a section such as preflight: or regression:, or one of ${KNOWN_TOP_KEYS.join(', ')}), got ${describeValue(value)}` });
    }
  }
  if (parsed.success) {
    issues.push(...checkCases(parsed.data.cases, ['cases'], source.knownMetrics));
    for (const [pod, cases] of Object.entries(parsed.data.pod_overrides ?? {})) {
      issues.push(...checkCases(cases, ['pod_overrides', pod], source.knownMetrics));
    }
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError(source.file, issues);

  const data = parsed.data;
  const limitsByCase: Record<string, Limit[]> = {};
  for (const [caseName, limits] of Object.entries(data.cases)) limitsByCase[caseName] = limits.map((l) => toLimit(l, 'profile'));
  const override = source.podName !== undefined ? data.pod_overrides?.[source.podName] : undefined;
  for (const [caseName, limits] of Object.entries(override ?? {})) {
    const merged = [...(limitsByCase[caseName] ?? [])];
    for (const input of limits) {
      const limit = toLimit(input, 'pod_override');
      const at = merged.findIndex((l) => limitKey(l) === limitKey(limit));
      if (at >= 0) merged[at] = limit;
      else merged.push(limit);
    }
    limitsByCase[caseName] = merged;
  }

  const profile: ThresholdProfile = {
    name: data.profile ?? basename(source.file, extname(source.file)),
    file: source.file,
    limitsByCase,
    sections,
    limitsFor: (caseName) => limitsByCase[caseName] ?? [],
  };
  if (data.description !== undefined) profile.description = data.description;
  if (override) profile.podOverride = source.podName;
  return profile;
}
