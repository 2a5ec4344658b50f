// The trace_on_breach: section of a threshold profile: which latency cases explain a broken max
// limit with a kernel trace, and how long the diagnostic pass may look for the breach again.
// --trace-on-breach switches it on for every case that supports it, whatever the profile says.
//
//   trace_on_breach:
//     cases: [timer, oslat]     # default: none
//     pass_s: 60                # bound on one diagnostic pass (default 60 s)
//     host_trace: true          # a guest's breach also traces its vCPU's host CPU (default true)
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { buildConfigIssues } from './zod-issues.ts';

/** The cases whose procedure can run a traced diagnostic pass. */
export const TRACEABLE_CASES = ['timer', 'oslat'] as const;

export interface TraceOnBreachPolicy {
  cases: readonly string[];
  passS: number;
  hostTrace: boolean;
}

export const DEFAULT_TRACE_ON_BREACH: TraceOnBreachPolicy = Object.freeze({ cases: [], passS: 60, hostTrace: true });

const sectionSchema = z.strictObject({
  cases: z.array(z.enum(TRACEABLE_CASES, { error: `expected one of ${TRACEABLE_CASES.join(', ')}` })).default([]),
  pass_s: z.number().int().min(1).max(3600).default(60),
  host_trace: z.boolean().default(true),
});

// Read once at input validation, so a typo is exit 2 before any node is touched.
export function parseTraceOnBreachPolicy(section: unknown, file: string): TraceOnBreachPolicy {
  if (section === undefined) return DEFAULT_TRACE_ON_BREACH;
  const parsed = sectionSchema.safeParse(section);
  if (!parsed.success) throw new ConfigError(file, buildConfigIssues(parsed.error.issues, { input: section, pathPrefix: ['trace_on_breach'] }));
  return Object.freeze({ cases: Object.freeze([...parsed.data.cases]), passS: parsed.data.pass_s, hostTrace: parsed.data.host_trace });
}

/** Whether a case traces its breaches in this run: the command line's switch, else the profile. */
export function isTraceOnBreach(policy: TraceOnBreachPolicy, caseName: string, commandLine: boolean | undefined): boolean {
  if (!(TRACEABLE_CASES as readonly string[]).includes(caseName)) return false;
  return commandLine === true || policy.cases.includes(caseName);
}
