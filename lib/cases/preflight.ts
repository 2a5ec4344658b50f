// The preflight tier's procedure: which checks run on which node at what severity, one
// read-only snapshot per node, and each check's outcome turned into the JUnit status the
// suite replays. The suite file only declares nodes and checks; the audit itself is the
// pure lib/audit.
import { AssertionError } from 'chai';
import { z } from 'zod';
import { ALL_CHECKS, auditNode, buildNodeContext, type AuditEntry, type CheckDefinition, type NodeContext, type NodeContextOptions } from '../audit/index.ts';
import { parsePreflightPolicy, resolveSeverity, type PreflightPolicy, type Severity } from '../audit/severity.ts';
import { tryParseCpuList } from '../config/cpu-list.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import { buildConfigIssues } from '../config/zod-issues.ts';
import { ConfigError, describeError } from '../errors.ts';
import { parseCaseArgs } from './case-args.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { RemoteCommandError } from '../remote/errors.ts';
import type { PropertyValue } from '../results/model.ts';
import { buildSnapshotScript } from '../tools/node-snapshot/command.ts';
import { parseNodeSnapshot, type NodeSnapshot } from '../tools/node-snapshot/parse.ts';

const argsSchema = z.strictObject({
  /** Free hugepages each NUMA node with rt CPUs must still have. */
  min_free_hugepages: z.number().int().min(1).default(1),
  /** Count only pages of this size (kB), e.g. 1048576 for 1 GB pages. */
  hugepage_size_kb: z.number().int().positive().optional(),
});
export type PreflightArgs = z.output<typeof argsSchema>;

// run.args are input like any other: a typo must be exit 2, not a default.
export function parsePreflightArgs(args: unknown): PreflightArgs {
  return parseCaseArgs(argsSchema, args, 'preflight');
}

// SR-IOV physical functions are hardware facts of one pod, so pod.yaml names them: extra.sriov_pfs.
const sriovPfsSchema = z.array(z.strictObject({ port: z.string().min(1), min_vfs: z.number().int().min(1) }), {
  error: 'expected a list of { port: <data port name>, min_vfs: <n> }',
});

function readSriovPfs(pod: Pod, node: PodNode): Array<{ port: string; minVfs: number }> {
  const raw = node.extra.sriov_pfs;
  if (raw === undefined) return [];
  const at = ['nodes', node.name, 'extra', 'sriov_pfs'];
  const parsed = sriovPfsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(pod.file, buildConfigIssues(parsed.error.issues, { input: raw, pathPrefix: at }));
  const names = node.ports.map((p) => p.name);
  const unknown = parsed.data.filter((pf) => !names.includes(pf.port));
  if (unknown.length > 0) {
    throw new ConfigError(pod.file, unknown.map((pf) => ({ path: `${at.join('.')}`, message: `port "${pf.port}" is not a data port of ${node.name}; expected one of ${names.join(', ') || '(none)'}` })));
  }
  return parsed.data.map((pf) => ({ port: pf.port, minVfs: pf.min_vfs }));
}

export interface PlannedCheck {
  check: CheckDefinition;
  severity: Exclude<Severity, 'off'>;
}

export interface PlannedNode {
  node: PodNode;
  context: NodeContext;
  /** Declared as JUnit tests, in ALL_CHECKS order. */
  checks: PlannedCheck[];
  /** Turned off by the profile: not declared, not evaluated. */
  off: CheckDefinition[];
}

/** Host and guest nodes are what the test plan tunes: they list every check, applicable or not. */
const AUDITED_ROLES = ['host', 'guest'];

// Pure: the nodes and checks the suite declares, decided before any snapshot exists.
export function planPreflight(options: { pod: Pod; policy: PreflightPolicy; args: PreflightArgs; checks?: readonly CheckDefinition[] }): PlannedNode[] {
  const all = options.checks ?? ALL_CHECKS;
  const planned: PlannedNode[] = [];
  for (const node of options.pod.nodes) {
    // Other roles (a traffic generator) list only the checks written for them.
    const relevant = AUDITED_ROLES.includes(node.role) ? all : all.filter((c) => c.appliesTo.includes(node.role));
    if (relevant.length === 0) continue;
    const context = buildNodeContext({
      node,
      ...readVmForwarding(options.pod, node),
      sriovPfs: readSriovPfs(options.pod, node),
      minFreeHugepages: options.args.min_free_hugepages,
      ...(options.args.hugepage_size_kb === undefined ? {} : { hugepageSizeKb: options.args.hugepage_size_kb }),
    });
    const checks: PlannedCheck[] = [];
    const off: CheckDefinition[] = [];
    for (const check of relevant) {
      const severity = resolveSeverity(options.policy, check);
      if (severity === 'off') off.push(check);
      else checks.push({ check, severity });
    }
    planned.push({ node, context, checks, off });
  }
  return planned;
}

// The guests the harness launches on a host, and the PMD CPUs pod.yaml gives it, for the VM forwarding checks.
function readVmForwarding(pod: Pod, node: PodNode): Pick<NodeContextOptions, 'launchedGuests' | 'ovsPmdCpus'> {
  const launchedGuests = pod.nodes
    .filter((g) => g.launch && g.hostNode === node.name)
    .map((g) => ({ name: g.name, rtVcpus: g.launch!.rtVcpus, vcpuPins: [...g.launch!.vcpuPins].sort((a, b) => a - b), vhostUser: g.launch!.nics.some((n) => n.kind === 'vhost-user') }));
  const raw = node.extra.ovs_pmd_cpus;
  const parsed = raw === undefined ? undefined : tryParseCpuList(raw);
  return { launchedGuests, ...(parsed?.ok ? { ovsPmdCpus: parsed.cpus } : {}) };
}

// The suite sees only the profile's name; its preflight: section is read here from that name.
export function loadPreflightPolicy(ctx: Pick<CaseContext, 'thresholds'>): PreflightPolicy {
  const profile = ctx.thresholds;
  return parsePreflightPolicy(profile.sections.preflight, profile.file);
}

/** The JUnit ending of one check on one node, decided once and replayed by its test. */
export interface CheckVerdict {
  status: 'pass' | 'fail' | 'skip';
  /** Failure or skip message, one line. */
  message?: string;
  properties: Record<string, PropertyValue>;
  systemOut?: string;
  /** For a failure: the finding, as the JUnit failure's body. */
  details?: string;
}

function describeFinding(check: CheckDefinition, result: { expected: string; found: string; fix?: string; reason?: string }): string {
  return [
    `expected: ${result.expected}`,
    `found: ${result.found}`,
    ...(result.fix ? [`fix: ${result.fix}`] : []),
    ...(result.reason ? [`reason: ${result.reason}`] : []),
    `why: ${check.why}`,
  ].join('\n');
}

// Pure: blocking fail → failure; advisory fail → a pass that says so; unknown or not applicable → skip.
export function judgeCheck(entry: AuditEntry, severity: Exclude<Severity, 'off'>): CheckVerdict {
  const { check, result } = entry;
  const base = { check: check.id, category: check.category, severity };
  if (!result) return { status: 'skip', message: `does not apply: ${entry.skipped ?? 'not applicable'}`, properties: { ...base, outcome: 'not-applicable' } };
  const properties = { ...base, outcome: result.outcome };
  if (result.outcome === 'unknown') {
    return { status: 'skip', message: `could not be decided: ${result.reason ?? 'no reason given'} (found: ${result.found})`, properties, systemOut: describeFinding(check, result) };
  }
  if (result.outcome === 'pass') return { status: 'pass', properties, systemOut: describeFinding(check, result) };
  const summary = `${check.id} failed: expected ${result.expected}, found ${result.found}; fix: ${result.fix ?? check.howToFix}`;
  if (severity === 'advisory') return { status: 'pass', properties, systemOut: `advisory: ${summary}\n${describeFinding(check, result)}` };
  return { status: 'fail', message: summary, properties, details: describeFinding(check, result) };
}

/** A blocking check that failed: the collector maps an AssertionError to a JUnit <failure>. */
export function buildCheckFailure(verdict: CheckVerdict): Error {
  const message = verdict.message ?? 'preflight check failed';
  return new AssertionError(verdict.details ? `${message}\n${verdict.details}` : message);
}

/** One check's record in results.json, whatever its ending. */
export interface CheckRecord {
  id: string;
  title: string;
  category: string;
  severity: Severity;
  /** The audit's outcome; `not-applicable` and `off` were not evaluated. */
  outcome: 'pass' | 'fail' | 'unknown' | 'not-applicable' | 'off';
  /** The JUnit status its testcase got (absent for off). */
  status?: CheckVerdict['status'];
  expected?: string;
  found?: string;
  fix?: string;
  reason?: string;
}

export interface NodeAudit {
  node: string;
  verdicts: Map<string, CheckVerdict>;
  records: CheckRecord[];
}

function buildRecord(entry: AuditEntry, severity: Exclude<Severity, 'off'>, verdict: CheckVerdict): CheckRecord {
  const { check, result } = entry;
  const head = { id: check.id, title: check.title, category: check.category, severity, status: verdict.status };
  if (!result) return { ...head, outcome: 'not-applicable', reason: entry.skipped ?? 'not applicable' };
  return {
    ...head,
    outcome: result.outcome,
    expected: result.expected,
    found: result.found,
    ...(result.fix ? { fix: result.fix } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
  };
}

function readKernelRelease(snapshot: NodeSnapshot): string | null {
  const uname = snapshot.commands.get('uname-r');
  return uname && uname.exitCode === 0 ? uname.stdout.trim() : null;
}

/**
 * Takes one node's snapshot (read-only, one SSH round trip), keeps it raw, judges every
 * planned check and records the outcomes. A node that cannot be read throws, so all its
 * checks become JUnit errors; its record says why.
 */
export async function auditPreflightNode(ctx: CaseContext, planned: PlannedNode): Promise<NodeAudit> {
  const { node } = planned;
  const { script, boundary } = buildSnapshotScript({
    pciAddresses: node.ports.flatMap((p) => (p.pci ? [p.pci] : [])),
    interfaces: node.ports.flatMap((p) => (p.interface ? [p.interface] : [])),
  });
  try {
    const session = await ctx.session(node);
    const result = await session.exec({ script }, { privileged: true, reject: false, timeoutMs: 120_000, label: 'node snapshot' });
    if (ctx.dryRun) throw new DryRunStop();
    await ctx.writeRaw(`${node.name}/snapshot.sh`, script);
    await ctx.writeRaw(`${node.name}/snapshot.txt`, result.stdout);
    if (result.stderr.trim() !== '') await ctx.writeRaw(`${node.name}/snapshot.stderr`, result.stderr);
    if (result.failed) throw new RemoteCommandError(result, { label: 'node snapshot' });
    const snapshot = parseNodeSnapshot(result.stdout, boundary);
    const entries = auditNode({ snapshot, context: planned.context, checks: planned.checks.map((c) => c.check) });
    const verdicts = new Map<string, CheckVerdict>();
    const records: CheckRecord[] = entries.map((entry, i) => {
      const severity = (planned.checks[i] as PlannedCheck).severity;
      const verdict = judgeCheck(entry, severity);
      verdicts.set(entry.check.id, verdict);
      return buildRecord(entry, severity, verdict);
    });
    for (const check of planned.off) records.push({ id: check.id, title: check.title, category: check.category, severity: 'off', outcome: 'off' });
    ctx.recordDetails(node.name, { role: node.role, profile: ctx.thresholdProfile, kernelRelease: readKernelRelease(snapshot), snapshot: `${ctx.caseName}/${node.name}/snapshot.txt`, checks: records });
    return { node: node.name, verdicts, records };
  } catch (error) {
    if (error instanceof DryRunStop) throw error;
    ctx.recordDetails(node.name, { role: node.role, profile: ctx.thresholdProfile, error: describeError(error) });
    throw error;
  }
}
