// How much a failed preflight check matters is the threshold profile's call, not the
// check's: the same check list serves the lab (where PREEMPT_RT cannot be had) and an
// RT-KVM pod (where it must). This file reads a profile's `preflight:` section:
//
//   preflight:
//     blocking: true|false          a failed preflight case stops the run (default true)
//     default: blocking|advisory|off   severity of checks not named below (default blocking)
//     checks:
//       <check id>: blocking|advisory|off        e.g. kernel.preempt-rt: advisory
//       <category>.*: blocking|advisory|off      e.g. cmdline.*: advisory
//
// An exact id wins over its category, which wins over the default. With no section at
// all every check is blocking: an unprepared profile must not wave an untuned pod through.
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { buildConfigIssues, describeValue, formatIssuePath } from '../config/zod-issues.ts';
import { CHECK_CATEGORIES, CHECK_IDS } from './index.ts';

export const SEVERITIES = ['blocking', 'advisory', 'off'] as const;
/** blocking: a fail is a JUnit failure; advisory: reported, still a pass; off: not run. */
export type Severity = (typeof SEVERITIES)[number];

export interface PreflightPolicy {
  /** Whether a failed preflight case stops the run (the catalogue's `blocking`, per profile). */
  blocking: boolean;
  default: Severity;
  /** The section's `checks:` as written, keys validated. */
  checks: Readonly<Record<string, Severity>>;
}

export const DEFAULT_PREFLIGHT_POLICY: PreflightPolicy = Object.freeze({ blocking: true, default: 'blocking', checks: Object.freeze({}) });

const severity = z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` });
const sectionSchema = z.strictObject(
  {
    blocking: z.boolean({ error: 'expected true or false' }).default(true),
    default: severity.default('blocking'),
    checks: z.record(z.string(), severity, { error: 'expected a mapping of check id (or <category>.*) to blocking, advisory or off' }).default({}),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? 'expected one of blocking, default, checks' : 'expected a mapping such as { blocking: true, default: blocking, checks: {} }',
  },
);

function checkKeyIssue(key: string): ConfigIssue | undefined {
  if (CHECK_IDS.includes(key)) return undefined;
  const path = formatIssuePath(['preflight', 'checks', key]);
  const wildcard = /^(.+)\.\*$/.exec(key);
  if (wildcard) {
    if ((CHECK_CATEGORIES as readonly string[]).includes(wildcard[1] as string)) return undefined;
    return { path, message: `unknown check category ${describeValue(wildcard[1])}; expected one of ${CHECK_CATEGORIES.map((c) => `${c}.*`).join(', ')}` };
  }
  return { path, message: `unknown check id ${describeValue(key)}; expected one of ${CHECK_IDS.join(', ')}, or <category>.* for ${CHECK_CATEGORIES.join(', ')}` };
}

// Read once per run, before any node is touched, so a typo is exit 2 and not a silent default.
export function parsePreflightPolicy(section: unknown, file: string): PreflightPolicy {
  if (section === undefined) return DEFAULT_PREFLIGHT_POLICY;
  const parsed = sectionSchema.safeParse(section);
  if (!parsed.success) throw new ConfigError(file, buildConfigIssues(parsed.error.issues, { input: section, pathPrefix: ['preflight'] }));
  const issues = Object.keys(parsed.data.checks)
    .map(checkKeyIssue)
    .filter((i): i is ConfigIssue => i !== undefined);
  if (issues.length > 0) throw new ConfigError(file, issues);
  return Object.freeze({ blocking: parsed.data.blocking, default: parsed.data.default, checks: Object.freeze({ ...parsed.data.checks }) });
}

// The one rule for which setting applies to a check: its id, then its category, then the default.
export function resolveSeverity(policy: PreflightPolicy, check: { id: string; category: string }): Severity {
  return policy.checks[check.id] ?? policy.checks[`${check.category}.*`] ?? policy.default;
}
