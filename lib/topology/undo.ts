// The undo registry every change to a pod goes through (topologies today, a launched guest
// tomorrow): the command that puts a thing back is recorded in the node's undo log
// (lib/undo) and registered on ctx.cleanup BEFORE the change is made, and it restores what
// was read beforehand, never a default. The harness runs it when the case ends; if the harness
// is killed first, the next run or `kvmfornfv-test cleanup` runs it from the node's log.
// Also here: the link flags of kernel interfaces, which DPDK's af_packet driver changes and
// leaves changed (it sets PROMISC on its interfaces and does not clear it on exit).
import { z } from 'zod';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';

export interface NodeUndo {
  /** What is put back, e.g. `restore hugepages on host`. */
  label: string;
  /** The node the change is made on. */
  session: NodeSession;
  /**
   * A shell script that puts the change back on that node without the harness: safe to run
   * when the change failed halfway, never ran, or was already undone.
   */
  script: string;
  /** Runs in the harness after the script, e.g. to check that the state is back. */
  verify?: () => Promise<void>;
}

// Records the undo on the node, then registers it on the case: the change may be made after this.
export async function registerUndo(ctx: Pick<CaseContext, 'cleanup' | 'recordUndo'>, undo: NodeUndo): Promise<void> {
  const record = await ctx.recordUndo?.(undo.session, undo.label, undo.script);
  ctx.cleanup.push(undo.label, async () => {
    await runScript(undo.session, undo.script, undo.label);
    await undo.verify?.();
    await record?.done();
  });
}

export interface UndoableChange {
  /** What is changed, e.g. `hugepages on host`; the undo step is labelled `restore <label>`. */
  label: string;
  session: NodeSession;
  apply: () => Promise<void>;
  /** See NodeUndo.script. */
  undoScript: string;
}

// Registers the undo, then applies: a change that throws halfway is still undone.
export async function applyWithUndo(ctx: Pick<CaseContext, 'cleanup' | 'recordUndo'>, change: UndoableChange): Promise<void> {
  await registerUndo(ctx, { label: `restore ${change.label}`, session: change.session, script: change.undoScript });
  await change.apply();
}

// Runs a script whose failure means the pod may be left changed: the error names node and step.
export async function runScript(session: NodeSession, script: string, label: string, timeoutMs = 60_000): Promise<string> {
  const r = await session.exec({ script }, { reject: false, label, timeoutMs });
  if (r.failed) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ') || `exit code ${r.exitCode}`;
    throw new TopologyError(`${label} on ${session.node.name} failed: ${why}`);
  }
  return r.stdout;
}

/** What is put back on an interface: the flags a forwarder may change. */
export interface LinkState {
  ifname: string;
  up: boolean;
  promisc: boolean;
  allmulti: boolean;
  mtu: number;
}

const linkList = z.array(z.looseObject({ ifname: z.string(), flags: z.array(z.string()), mtu: z.number().int().positive() }));

// The argv that prints every interface as JSON (iproute2 `ip -j link show`).
export function buildLinkProbeCommand(): string[] {
  return ['ip', '-j', 'link', 'show'];
}

// Reads the interfaces asked for from `ip -j link show`; a missing one is an error, not a default.
export function parseLinkStates(json: string, ifnames: readonly string[]): LinkState[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (e) {
    throw new TopologyError(`ip -j link show: expected a JSON list of interfaces, found ${JSON.stringify(json.slice(0, 80))} (${(e as Error).message})`);
  }
  const parsed = linkList.safeParse(data);
  if (!parsed.success) throw new TopologyError(`ip -j link show: expected [{ifname, flags, mtu}], found ${parsed.error.issues[0]?.message ?? 'another shape'}`);
  return ifnames.map((ifname) => {
    const link = parsed.data.find((l) => l.ifname === ifname);
    if (!link) throw new TopologyError(`interface ${ifname} not found (known: ${parsed.data.map((l) => l.ifname).join(', ') || 'none'})`);
    return { ifname, up: link.flags.includes('UP'), promisc: link.flags.includes('PROMISC'), allmulti: link.flags.includes('ALLMULTI'), mtu: link.mtu };
  });
}

// Sets each interface back to the flags it had; runs on the node, one `ip link set` per interface.
export function buildLinkRestoreScript(saved: readonly LinkState[]): string {
  const lines = saved.map((s) => {
    const dev = quoteArg(s.ifname);
    return `ip link set dev ${dev} promisc ${s.promisc ? 'on' : 'off'} allmulticast ${s.allmulti ? 'on' : 'off'} mtu ${s.mtu} ${s.up ? 'up' : 'down'} || rc=1`;
  });
  return ['rc=0', ...lines, 'exit $rc'].join('\n');
}

// Differences between two readings, one line each; empty when the links are as they were.
export function describeLinkChanges(before: readonly LinkState[], after: readonly LinkState[]): string[] {
  const out: string[] = [];
  for (const b of before) {
    const a = after.find((x) => x.ifname === b.ifname);
    if (!a) {
      out.push(`${b.ifname}: gone`);
      continue;
    }
    for (const key of ['up', 'promisc', 'allmulti', 'mtu'] as const) {
      if (a[key] !== b[key]) out.push(`${b.ifname}: ${key} ${b[key]} -> ${a[key]}`);
    }
  }
  return out;
}

// Reads the interfaces now and registers the step that puts their flags back, before any change.
// With onlyExisting, interfaces that are not there (a NIC bound to vfio-pci) are skipped.
export async function saveLinkStates(
  ctx: Pick<CaseContext, 'cleanup' | 'dryRun' | 'recordUndo'>,
  session: NodeSession,
  wanted: readonly string[],
  options: { onlyExisting?: boolean } = {},
): Promise<LinkState[]> {
  const r = await session.exec(buildLinkProbeCommand(), { reject: false, label: 'read link flags', privileged: false });
  if (ctx.dryRun) return [];
  if (r.failed) throw new TopologyError(`cannot read the link flags on ${session.node.name} (ip -j link show: ${r.stderr.trim() || `exit code ${r.exitCode}`})`);
  const ifnames = options.onlyExisting ? wanted.filter((n) => r.stdout.includes(`"ifname":${JSON.stringify(n)}`)) : wanted;
  if (ifnames.length === 0) return [];
  const saved = parseLinkStates(r.stdout, ifnames);
  await registerUndo(ctx, {
    label: `restore link flags of ${ifnames.join(', ')} on ${session.node.name}`,
    session,
    script: buildLinkRestoreScript(saved),
    verify: async () => {
      const now = await session.exec(buildLinkProbeCommand(), { label: 'read link flags', privileged: false });
      const left = describeLinkChanges(saved, parseLinkStates(now.stdout, ifnames));
      if (left.length > 0) throw new TopologyError(`link flags on ${session.node.name} not restored: ${left.join('; ')}`);
    },
  });
  return saved;
}
