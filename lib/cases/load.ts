// The optional load that runs beside a latency measurement. It is started detached with
// its stop registered first, so it can never outlive the case.
import type { PodNode } from '../config/pod-model.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { ConfigError } from '../errors.ts';
import { ensureTool, TOOLS } from '../provision/ensure-tool.ts';
import { z } from 'zod';
import { cpuListField } from '../config/pod-schema.ts';
import { buildStressCommand, LOAD_KINDS, type LoadKind } from '../tools/stress-ng/command.ts';

/** The run.args of a case that offers the optional load, spread into its schema. */
export const loadArgsShape = {
  load: z.enum(LOAD_KINDS).default('idle'),
  load_node: z.string().default('host'),
  load_cpus: cpuListField.optional(),
};

export interface LoadSpec {
  kind: LoadKind;
  /** Role or node name; default the host. */
  node: string;
  /** Default: that node's housekeeping CPUs. */
  cpus?: number[] | undefined;
  /** The node measured beside the load: one load per measurement, so a host measured then its guest starts two. */
  beside: string;
}

export interface RunningLoad {
  description: string;
  stop(): Promise<void>;
}

export function resolveLoadNode(ctx: CaseContext, spec: LoadSpec): PodNode {
  const node = ctx.pod.nodes.find((n) => n.name === spec.node) ?? ctx.pod.nodes.find((n) => n.role === spec.node);
  if (!node) {
    throw new ConfigError('testcases/testcases.yaml', [
      { path: `${ctx.caseName}.run.args.load_node`, message: `no node or role "${spec.node}" in pod ${ctx.pod.name}; expected one of ${ctx.pod.nodes.map((n) => n.name).join(', ')}` },
    ]);
  }
  return node;
}

export async function startLoad(ctx: CaseContext, spec: LoadSpec, durationS: number): Promise<RunningLoad> {
  if (spec.kind === 'idle') return { description: 'idle', stop: async () => {} };
  const node = resolveLoadNode(ctx, spec);
  const cpus = spec.cpus ?? node.housekeepingCpus;
  const session = await ctx.session(node);
  const binary = await ensureTool(session, TOOLS.stressNg);
  const argv = buildStressCommand({ binary, kind: spec.kind, cpus, durationS, tempDir: session.runDir });
  const name = `stress-${spec.kind}-${spec.beside}`;
  const process = await session.startDetached({ name, command: argv, label: `${spec.kind} load` });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const outcome = await session.stopDetached(process, { signal: 'INT', graceMs: 5_000 });
    await ctx.writeRaw(`${node.name}/${name}.out`, `${outcome.stdout}${outcome.stderr}`);
  };
  ctx.cleanup.push(`stop ${spec.kind} load on ${node.name}`, stop);
  return { description: `${spec.kind} on ${node.name} cpus ${cpus.join(',')}`, stop };
}
