// The kernel as the bare-metal forwarder: IPv4 forwarding between the two device ports with one
// /32 route and one permanent neighbour entry per direction, pointing at the generator's ports.
// Frames use the generator's default RFC 2544 addresses (198.18.0.1 <-> 198.19.0.1, kfn-softgen's
// defaults) and are addressed to the device port's MAC. Nothing the node had is replaced: a route
// or neighbour already covering those addresses is an error, and every addition is undone.
import { z } from 'zod';
import type { DataPort, PodNode } from '../config/pod-model.ts';
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import type { TrialPorts } from '../traffic/generator.ts';
import { applyWithUndo, runScript, saveLinkStates } from './undo.ts';

/** kfn-softgen's forward source and destination (lib/agents/README-softgen.md, "Frames"). */
export const GENERATOR_ADDRESSES = { forwardSrc: '198.18.0.1', forwardDst: '198.19.0.1' } as const;

export interface KernelForwarder {
  /** Frames each device port sent since setup: towardA reaches the tgen tx port, towardB the rx port. */
  readCounters(): Promise<{ towardA: number; towardB: number }>;
}

export interface KernelRoute {
  address: string;
  dev: string;
  lladdr: string;
}

const routeList = z.array(z.looseObject({ dst: z.string(), dev: z.string().optional() }));
const statsList = z.array(z.looseObject({ ifname: z.string(), stats64: z.object({ tx: z.object({ packets: z.number().int().min(0) }) }) }));

// Whether an IPv4 address falls inside a route's prefix (`default` is left out: it is no conflict).
export function routeCovers(dst: string, address: string): boolean {
  if (dst === 'default') return false;
  const [net, lenText] = dst.split('/');
  const len = lenText === undefined ? 32 : Number(lenText);
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(net ?? '') || !(len >= 0 && len <= 32)) return false;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((toInt(net!) & mask) >>> 0) === ((toInt(address) & mask) >>> 0);
}

// Routes of the node that already cover one of the addresses: forwarding them would hijack its traffic.
export function findRouteConflicts(routesJson: string, addresses: readonly string[]): string[] {
  const routes = routeList.parse(JSON.parse(routesJson));
  return routes.flatMap((r) => addresses.filter((a) => routeCovers(r.dst, a)).map((a) => `${a} is already routed by "${r.dst}${r.dev ? ` dev ${r.dev}` : ''}"`));
}

// Adds one host route and one permanent neighbour per direction; the undo removes exactly those.
export function buildRouteScripts(routes: readonly KernelRoute[]): { apply: string; undo: string } {
  const apply = routes.flatMap((r) => [`ip route add ${quoteArg(r.address)}/32 dev ${quoteArg(r.dev)}`, `ip neigh add ${quoteArg(r.address)} lladdr ${quoteArg(r.lladdr)} dev ${quoteArg(r.dev)} nud permanent`]);
  const undo = routes.flatMap((r) => [
    `ip neigh del ${quoteArg(r.address)} dev ${quoteArg(r.dev)} 2>/dev/null`,
    `ip route del ${quoteArg(r.address)}/32 dev ${quoteArg(r.dev)} 2>/dev/null`,
    `[ -z "$(ip route show ${quoteArg(r.address)}/32 dev ${quoteArg(r.dev)})" ] || { echo "route ${r.address}/32 dev ${r.dev} still there" >&2; rc=1; }`,
  ]);
  return { apply: ['set -e', ...apply].join('\n'), undo: ['rc=0', ...undo, 'exit $rc'].join('\n') };
}

// Reads each interface's transmitted frames from `ip -j -s link show`.
export function parseTxPackets(json: string, ifnames: readonly string[]): Record<string, number> {
  const links = statsList.parse(JSON.parse(json));
  const out: Record<string, number> = {};
  for (const name of ifnames) {
    const link = links.find((l) => l.ifname === name);
    if (!link) throw new TopologyError(`ip -j -s link show: no interface ${name}`);
    out[name] = link.stats64.tx.packets;
  }
  return out;
}

// Sets up kernel forwarding on the device node; every change is registered before it is made.
export async function setupKernelForwarding(
  ctx: CaseContext,
  session: NodeSession,
  a: { ports: [DataPort, DataPort]; tgen: PodNode; tgenPorts: TrialPorts },
): Promise<KernelForwarder> {
  const node = session.node.name;
  const [portA, portB] = a.ports;
  const tgenMac = (name: string) => a.tgen.ports.find((p) => p.name === name)?.mac;
  const missing = [
    ...a.ports.filter((p) => !p.interface).map((p) => `interface of ${node}:${p.name}`),
    ...a.ports.filter((p) => !p.mac).map((p) => `mac of ${node}:${p.name} (the generator addresses its frames to it)`),
    ...[a.tgenPorts.tx, a.tgenPorts.rx].filter((n) => !tgenMac(n)).map((n) => `mac of ${a.tgen.name}:${n}`),
  ];
  if (missing.length > 0) throw new TopologyError(`kernel forwarding needs, in pod.yaml: ${missing.join(', ')}`);
  const [ifA, ifB] = [portA.interface!, portB.interface!];
  const { forwardSrc, forwardDst } = GENERATOR_ADDRESSES;
  const routes: KernelRoute[] = [
    { address: forwardDst, dev: ifB, lladdr: tgenMac(a.tgenPorts.rx)! },
    { address: forwardSrc, dev: ifA, lladdr: tgenMac(a.tgenPorts.tx)! },
  ];
  const probe = await session.exec({ script: 'sysctl -n net.ipv4.ip_forward; echo ---; ip -j route show' }, { reject: false, label: 'read forwarding state', privileged: false });
  const links = await saveLinkStates(ctx, session, [ifA, ifB]);
  if (ctx.dryRun) return { readCounters: async () => ({ towardA: 0, towardB: 0 }) };
  const [forwardText = '', routesJson = '[]'] = probe.stdout.split('---\n');
  const wasForwarding = forwardText.trim();
  if (!/^[01]$/.test(wasForwarding)) throw new TopologyError(`net.ipv4.ip_forward on ${node}: expected 0 or 1, found ${JSON.stringify(wasForwarding)}`);
  const conflicts = findRouteConflicts(routesJson, [forwardSrc, forwardDst]);
  if (conflicts.length > 0) throw new TopologyError(`kernel forwarding on ${node} would take over existing routes: ${conflicts.join('; ')}`);
  // saveLinkStates has registered the step that puts a link that was down back down.
  if (links.some((l) => !l.up)) await runScript(session, `ip link set dev ${quoteArg(ifA)} up && ip link set dev ${quoteArg(ifB)} up`, 'set links up');
  if (wasForwarding === '0') {
    await applyWithUndo(ctx, {
      label: `net.ipv4.ip_forward on ${node} (0 -> 1)`,
      session,
      apply: async () => void (await runScript(session, 'sysctl -qw net.ipv4.ip_forward=1', 'enable IPv4 forwarding')),
      undoScript: 'sysctl -qw net.ipv4.ip_forward=0',
    });
  }
  const scripts = buildRouteScripts(routes);
  await applyWithUndo(ctx, {
    label: `routes to ${forwardSrc} and ${forwardDst} on ${node}`,
    session,
    apply: async () => void (await runScript(session, scripts.apply, 'add forwarding routes')),
    undoScript: scripts.undo,
  });
  const read = async () => parseTxPackets((await session.exec(['ip', '-j', '-s', 'link', 'show'], { label: 'read tx counters', privileged: false })).stdout, [ifA, ifB]);
  const base = await read();
  return {
    async readCounters() {
      const now = await read();
      return { towardA: now[ifA]! - base[ifA]!, towardB: now[ifB]! - base[ifB]! };
    },
  };
}
