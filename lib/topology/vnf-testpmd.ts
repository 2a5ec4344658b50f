// dpdk-testpmd as the VNF of a forwarding case (in a namespace, an existing guest or a launched
// one): started detached with its stop and runtime folder registered first, waited on until it
// forwards, and stopped with SIGINT at the end so that it prints its own counters.
import { MeasurementError, TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import type { DetachedOutcome, DetachedProcess, NodeSession } from '../remote/types.ts';
import { buildTestpmdReadyScript, type TestpmdCommand } from '../tools/testpmd/command.ts';
import { parseTestpmdStats, parseTestpmdVersion, type TestpmdStats } from '../tools/testpmd/parse.ts';
import { quoteArg } from '../remote/quote.ts';
import { registerUndo } from './undo.ts';

/** A VNF testpmd this case started. */
export interface VnfRun {
  session: NodeSession;
  command: TestpmdCommand;
  process?: DetachedProcess;
  outcome?: DetachedOutcome;
}

// Stopped once with SIGINT, which makes testpmd print its statistics; later calls reuse them.
async function stopVnf(v: VnfRun): Promise<DetachedOutcome | undefined> {
  if (v.process && !v.outcome) v.outcome = await v.session.stopDetached(v.process, { signal: 'INT', graceMs: 10_000 });
  return v.outcome;
}

// Registers the stop and the runtime folder's removal, starts testpmd and waits until it forwards.
// The detached name carries the case: on the lab every node shares one run folder.
export async function startVnf(ctx: CaseContext, session: NodeSession, command: TestpmdCommand): Promise<VnfRun> {
  const v: VnfRun = { session, command };
  const node = session.node.name;
  await registerUndo(ctx, { label: `remove ${command.runtimeDir} on ${node}`, session, script: `rm -rf ${quoteArg(command.runtimeDir)}` });
  ctx.cleanup.push(`stop the VNF (dpdk-testpmd) on ${node}`, async () => void (await stopVnf(v)));
  v.process = await session.startDetached({ name: `${ctx.caseName}-vnf-testpmd`, command: command.argv, label: 'VNF dpdk-testpmd' });
  const ready = await session.exec({ script: buildTestpmdReadyScript(v.process, 30) }, { reject: false, timeoutMs: 45_000, label: 'wait for the VNF to forward' });
  if (!ctx.dryRun && !ready.stdout.startsWith('kfn-testpmd-ready')) {
    const out = (await stopVnf(v))!;
    await ctx.writeRaw(`${node}/vnf-testpmd.stdout`, out.stdout);
    await ctx.writeRaw(`${node}/vnf-testpmd.stderr`, out.stderr);
    const why = (out.stderr.trim() || ready.stdout.trim()).split('\n').slice(-3).join(' | ') || 'no output';
    throw new TopologyError(`the VNF (dpdk-testpmd) on ${node} did not start forwarding within 30 s: ${why}; command: ${command.command}`);
  }
  const stderr = await session.exec(['cat', v.process.stderrPath], { reject: false, label: 'testpmd version', privileged: false });
  ctx.recordToolVersion(node, 'dpdk-testpmd', parseTestpmdVersion(stderr.stdout) ?? (ctx.dryRun ? 'dry-run' : 'unknown'));
  return v;
}

// The VNF's own counters as evidence; a VNF that died during the case voids the figures.
export async function stopVnfWithStats(ctx: CaseContext, v: VnfRun): Promise<TestpmdStats | undefined> {
  if (!v.process) return undefined;
  const node = v.session.node.name;
  const wasRunning = !v.outcome && (await v.session.isRunning(v.process));
  const out = await stopVnf(v);
  if (!out) return undefined;
  await ctx.writeRaw(`${node}/vnf-testpmd.stdout`, out.stdout);
  await ctx.writeRaw(`${node}/vnf-testpmd.stderr`, out.stderr);
  const stats = parseTestpmdStats(out.stdout, { source: `VNF dpdk-testpmd on ${node}`, expectedPorts: 2 });
  ctx.recordDetails('forwarder', { kind: 'testpmd', role: 'VNF', node, command: v.command.command, forwardMode: stats.forwardMode, ports: stats.ports, accumulated: stats.accumulated });
  if (!wasRunning || stats.quitAtOnce) throw new MeasurementError(`the VNF (dpdk-testpmd) on ${node} had stopped before the end of the case (exit code ${out.exitCode ?? 'none'}); trials after that did not go through it`);
  return stats;
}

/** Frames each VNF port counted, in the VNF's port order (port 0 faces the generator's tx side). */
export interface VnfPortCounts {
  source: string;
  ports: Array<{ port: string; rx: number | null; tx: number; rxDropped: number | null; txDropped: number | null }>;
}

// testpmd's forward statistics as port counts, with the names of the ports behind testpmd's 0 and 1.
export function countsFromStats(stats: TestpmdStats, names: readonly string[], source: string): VnfPortCounts {
  return { source, ports: stats.ports.map((p, i) => ({ port: names[i] ?? `port ${p.port}`, rx: p.rxPackets, tx: p.txPackets, rxDropped: p.rxDropped, txDropped: p.txDropped })) };
}
