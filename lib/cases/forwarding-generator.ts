// The traffic generator of a forwarding case, built on the path's tgen node: kfn-softgen
// (built there from lib/agents), TRex (a server already running there) or kernel pktgen with
// kfn-softgen as its receiver. Frames are addressed to the device port they enter.
import { tryParseCpuList } from '../config/cpu-list.ts';
import type { PodNode } from '../config/pod-model.ts';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { resolveAgentCacheDirs } from '../provision/build-agent.ts';
import type { ForwardingPath } from '../topology/types.ts';
import { PktgenGenerator } from '../traffic/drivers/pktgen.ts';
import { buildSoftgenPktgenReceiver, provisionSoftgen, SoftgenGenerator } from '../traffic/drivers/softgen.ts';
import { TrexGenerator } from '../traffic/drivers/trex.ts';
import type { StreamDirection, TrafficGenerator } from '../traffic/generator.ts';
import type { ForwardingArgs } from './forwarding-args.ts';
import { findPeer } from './forwarding-ports.ts';

// Provisions the generator the args name and says which version measured.
export async function createGenerator(ctx: CaseContext, args: ForwardingArgs, path: ForwardingPath): Promise<{ generator: TrafficGenerator; version: string }> {
  const session = await ctx.session(path.tgen);
  const o = args.generator_options;
  if (args.generator === 'trex') {
    return { generator: new TrexGenerator({ session, ...(o.trex_python ? { python: o.trex_python } : {}), ...(o.trex_api_paths ? { apiPaths: o.trex_api_paths } : {}) }), version: 'server on the node' };
  }
  const softgen = await provisionSoftgen(session, { dryRun: ctx.dryRun, cacheDirs: resolveAgentCacheDirs(ctx.pod, path.tgen) });
  if (args.generator === 'pktgen') return { generator: new PktgenGenerator({ session, receiver: buildSoftgenPktgenReceiver(softgen.binaryPath) }), version: `kernel pktgen, kfn-softgen ${softgen.version} receiver` };
  // Frames are addressed to the device port they enter: a routing forwarder needs it, the others ignore it.
  const macOf = (tgenPort: string) => {
    const port = path.tgen.ports.find((p) => p.name === tgenPort);
    return port ? findPeer(ctx.pod, path.tgen, port)?.remote.mac : undefined;
  };
  const dstMacs: Partial<Record<StreamDirection, string>> = {};
  const fwd = macOf(path.ports.tx);
  const rev = macOf(path.ports.rx);
  if (fwd) dstMacs.forward = fwd;
  if (rev) dstMacs.reverse = rev;
  const placed = readGeneratorCpus(path.tgen);
  const txCpu = o.tx_cpu ?? placed?.[0];
  const rxCpu = o.rx_cpu ?? placed?.[1] ?? placed?.[0];
  const generator = new SoftgenGenerator({
    session,
    binaryPath: softgen.binaryPath,
    dstMacs,
    ...(txCpu === undefined ? {} : { txCpu }),
    ...(rxCpu === undefined ? {} : { rxCpu }),
    ...(o.batch === undefined ? {} : { batch: o.batch }),
    ...(o.drain_ms === undefined ? {} : { drainMs: o.drain_ms }),
  });
  return { generator, version: softgen.version };
}


// The generator's CPUs as the pod places them (tgen extra.generator_cpus, e.g. "0" on the lab, where
// CPU 1 belongs to the VM's SCHED_FIFO vCPU); the case's tx_cpu/rx_cpu win.
function readGeneratorCpus(tgen: PodNode): number[] | undefined {
  const raw = tgen.extra.generator_cpus;
  if (raw === undefined) return undefined;
  const parsed = tryParseCpuList(raw);
  if (!parsed.ok) throw new TopologyError(`node ${tgen.name}: extra.generator_cpus: ${parsed.message}`);
  return parsed.cpus;
}
