// The `regression:` section of a threshold profile: how much worse than the baseline a
// figure may get before it is a regression. The profile loader passes the section through
// unvalidated (profile.sections.regression); it is validated here, all issues at once.
//
//   regression:
//     compare_across: [kernel, qemu]   # optional: compare even when these changed (a gate that
//                                      # judges a kernel change); default: such figures are not compared
//     metrics:                         # optional: overrides the built-in defaults for every case
//       p99: { margin_percent: 20, action: assert, min_delta_us: 2 }
//     cases:                           # optional: per case and metric, over metrics:
//       timer:
//         max: { margin_percent: 100, action: monitor }
//
// margin_percent: throughput (ndr, pdr) regresses when it falls more than this below the
// baseline (10 = NFVbench's "at least 90 % of the previous run"); latency (p99, max) when it
// rises more than this above it. min_delta_us: a latency rise smaller than this is noise.
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { buildConfigIssues, formatIssuePath } from '../config/zod-issues.ts';
import { FIGURE_EXTRACTORS, REGRESSION_METRICS, type RegressionMetric } from './figures.ts';

export const COMPARE_ACROSS = ['kernel', 'qemu'] as const;
export type CompareAcross = (typeof COMPARE_ACROSS)[number];

export interface MetricRule {
  marginPercent: number;
  action: 'assert' | 'monitor';
  /** Latency only: rises below this many microseconds are never regressions. */
  minDeltaUs: number;
}

export interface RegressionPolicy {
  compareAcross: CompareAcross[];
  /** The rule for one figure: built-in default, then metrics:, then cases.<case>:. */
  ruleFor(caseName: string, metric: RegressionMetric): MetricRule;
}

/** NFVbench's gate for throughput; the latency margins are the test plan's defaults. */
export const DEFAULT_RULES: Readonly<Record<RegressionMetric, MetricRule>> = {
  ndr: { marginPercent: 10, action: 'assert', minDeltaUs: 0 },
  pdr: { marginPercent: 10, action: 'assert', minDeltaUs: 0 },
  p99: { marginPercent: 20, action: 'assert', minDeltaUs: 0 },
  max: { marginPercent: 50, action: 'assert', minDeltaUs: 0 },
};

const METRIC_NAMES = Object.keys(REGRESSION_METRICS) as RegressionMetric[];

const ruleShape = {
  margin_percent: z.number({ error: 'expected a number > 0 (percent)' }).gt(0, { error: 'expected a number > 0 (percent)' }).optional(),
  action: z.enum(['assert', 'monitor'], { error: 'expected assert or monitor' }).optional(),
  min_delta_us: z.number({ error: 'expected a number >= 0 (microseconds)' }).min(0, { error: 'expected a number >= 0 (microseconds)' }).optional(),
};
const ruleSchema = z.strictObject(ruleShape, {
  error: (iss) => (iss.code === 'unrecognized_keys' ? `expected one of ${Object.keys(ruleShape).join(', ')}` : 'expected a mapping such as { margin_percent: 20, action: assert }'),
});
const metricsSchema = z.record(z.string(), ruleSchema, { error: `expected a mapping of metric (${METRIC_NAMES.join(', ')}) to a rule` });
const sectionSchema = z.strictObject(
  {
    compare_across: z.array(z.enum(COMPARE_ACROSS, { error: `expected one of ${COMPARE_ACROSS.join(', ')}` }), { error: 'expected a list such as [kernel, qemu]' }).optional(),
    metrics: metricsSchema.optional(),
    cases: z.record(z.string(), metricsSchema, { error: 'expected a mapping of case name to metrics' }).optional(),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? 'expected one of compare_across, metrics, cases' : 'expected a mapping with compare_across, metrics or cases') },
);
type RuleInput = z.output<typeof ruleSchema>;

// Names are checked here, not by zod, so the message can list what is known.
function checkNames(metrics: Record<string, RuleInput>, at: PropertyKey[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [metric, rule] of Object.entries(metrics)) {
    const path = formatIssuePath([...at, metric]);
    if (!(METRIC_NAMES as string[]).includes(metric)) {
      issues.push({ path, message: `unknown metric "${metric}"; expected one of ${METRIC_NAMES.join(', ')}` });
      continue;
    }
    const direction = REGRESSION_METRICS[metric as RegressionMetric].direction;
    if (direction === 'higher-is-better' && rule.margin_percent !== undefined && rule.margin_percent >= 100) {
      issues.push({ path: `${path}.margin_percent`, message: `expected a number below 100 for throughput (a drop of 100 % or more can never happen), got ${rule.margin_percent}` });
    }
    if (direction === 'higher-is-better' && rule.min_delta_us !== undefined) {
      issues.push({ path: `${path}.min_delta_us`, message: `min_delta_us applies to latency metrics only (p99, max), not to ${metric}` });
    }
  }
  return issues;
}

function merge(base: MetricRule, input: RuleInput | undefined): MetricRule {
  if (!input) return base;
  return {
    marginPercent: input.margin_percent ?? base.marginPercent,
    action: input.action ?? base.action,
    minDeltaUs: input.min_delta_us ?? base.minDeltaUs,
  };
}

// The CLI calls this before touching a node, so a typo in the profile is exit 2, not a late surprise.
export function parseRegressionPolicy(section: unknown, file: string, knownCases: readonly string[] = Object.keys(FIGURE_EXTRACTORS)): RegressionPolicy {
  const raw = section ?? {};
  const parsed = sectionSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, buildConfigIssues(parsed.error.issues, { input: raw, pathPrefix: ['regression'] }));
  const data = parsed.data;
  const issues = checkNames(data.metrics ?? {}, ['regression', 'metrics']);
  for (const [caseName, metrics] of Object.entries(data.cases ?? {})) {
    if (!knownCases.includes(caseName)) {
      issues.push({ path: formatIssuePath(['regression', 'cases', caseName]), message: `unknown case "${caseName}"; regression figures exist for ${knownCases.join(', ')}` });
    } else issues.push(...checkNames(metrics, ['regression', 'cases', caseName]));
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  return {
    compareAcross: [...new Set(data.compare_across ?? [])],
    ruleFor: (caseName, metric) => merge(merge(DEFAULT_RULES[metric], data.metrics?.[metric]), data.cases?.[caseName]?.[metric]),
  };
}
