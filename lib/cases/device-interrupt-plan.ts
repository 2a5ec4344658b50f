// The Device Interrupt Test's plan, decided before anything runs: its validated run.args,
// the nodes (receiver in the guest, generator on tgen or host), the destination address
// from the pod's ports, and the clock case, which says which figures can exist at all.
import { isIP } from 'node:net';
import { z } from 'zod';
import type { DataPort, Pod, PodNode } from '../config/pod-model.ts';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { ClockDomain } from '../tools/irq-agent/command.ts';
import { loadArgsShape } from './load.ts';
import { CATALOGUE_FILE, parseCaseArgs } from './case-args.ts';

const ARGS_PATH = ['device_interrupt', 'run', 'args'];
export const LAB_DEVICE = 'veth (no hardware interrupt; software timestamps)';
/** The lab's VM guest: QEMU's virtio-net device raises real (virtual) interrupts in the guest. */
export const LAB_VM_DEVICE = "virtio-net NIC of the lab's QEMU guest (tap bridged to the generator's veth; software timestamps)";

const argsSchema = z.strictObject({
  duration_s: z.number().positive().max(86_400).default(60),
  period_us: z.number().int().min(10).max(1_000_000).default(1000),
  priority: z.number().int().min(1).max(99).default(95),
  generator_priority: z.number().int().min(1).max(99).default(95),
  receiver_cpu: z.number().int().min(0).optional(),
  generator_cpu: z.number().int().min(0).optional(),
  receiver_node: z.string().min(1).optional(),
  generator_node: z.string().min(1).optional(),
  guest_port: z.string().min(1).optional(),
  dest: z.string().refine((v) => isIP(v) !== 0, { message: 'expected a numeric IPv4 or IPv6 address' }).optional(),
  udp_port: z.number().int().min(0).max(65_535).default(47_900),
  clock_domain: z.enum(['same-host', 'ptp', 'unsynchronised']).optional(),
  clock_offset_ns: z.number().int().optional(),
  late_us: z.number().positive().optional(),
  hw_timestamps: z.boolean().default(false),
  device: z.string().min(1).optional(),
  ...loadArgsShape,
  skip_seq: z.array(z.number().int().min(1)).min(1).max(1024).optional(),
});

export type DeviceInterruptArgs = z.output<typeof argsSchema>;

// The catalogue's run.args are input like any other: a typo must be exit 2, not a default.
export function parseDeviceInterruptArgs(args: unknown, where = CATALOGUE_FILE): DeviceInterruptArgs {
  const a = parseCaseArgs(argsSchema, args, 'device_interrupt', where);
  const issues: ConfigIssue[] = [];
  if (a.clock_domain === 'ptp' && a.clock_offset_ns === undefined) {
    issues.push({ path: `${ARGS_PATH.join('.')}.clock_offset_ns`, message: 'missing; clock_domain ptp needs the measured residual offset in ns (receiver clock minus sender clock; 0 if phc2sys reports none)' });
  }
  if (a.clock_domain !== 'ptp' && a.clock_offset_ns !== undefined) {
    issues.push({ path: `${ARGS_PATH.join('.')}.clock_offset_ns`, message: `expected only with clock_domain ptp, got it with ${a.clock_domain ?? 'the default clock domain'}` });
  }
  if (issues.length > 0) throw new ConfigError(where, issues);
  return a;
}

export interface DeviceInterruptPlan {
  receiver: PodNode;
  generator: PodNode;
  /** The guest's data address the frames go to; the receiver binds it. */
  dest: string;
  guestPort: DataPort | undefined;
  /** The generator's interface on the link to the guest, when the pod names it. */
  generatorIface: string | undefined;
  receiverCpu: number | undefined;
  generatorCpu: number | undefined;
  clockDomain: ClockDomain;
  clockOffsetNs: number | undefined;
  /** Label of what raises the interrupts, before the timestamp kind is known. */
  device: string;
}

export type PlanResult = { plan: DeviceInterruptPlan } | { skip: string };

export function configError(field: string, message: string): ConfigError {
  return new ConfigError(CATALOGUE_FILE, [{ path: `${ARGS_PATH.join('.')}.${field}`, message }]);
}

function pickNode(pod: Pod, name: string | undefined, roles: PodNode['role'][], field: string): PodNode | undefined {
  if (name !== undefined) {
    const node = pod.nodes.find((n) => n.name === name);
    if (!node) throw configError(field, `no node "${name}" in pod ${pod.name}; expected one of ${pod.nodes.map((n) => n.name).join(', ')}`);
    return node;
  }
  for (const role of roles) {
    const node = pod.nodes.find((n) => n.role === role);
    if (node) return node;
  }
  return undefined;
}

function addressOf(node: PodNode, port: DataPort): string | undefined {
  const all = node.extra.port_addresses;
  const cidr = all && typeof all === 'object' ? (all as Record<string, unknown>)[port.name] : undefined;
  const ip = typeof cidr === 'string' ? cidr.replace(/\/\d+$/, '') : undefined;
  return ip && isIP(ip) ? ip : undefined;
}

// The generator the guest's data port is cabled to, when that is a tgen or a host (its own,
// whose bridge reaches it): a compute group whose host can send the frames then needs no
// turn on a shared traffic generator.
function cabledGenerator(pod: Pod, receiver: PodNode, guestPort: string | undefined): PodNode | undefined {
  const port = receiver.ports.find((p) => p.name === (guestPort ?? 'gi')) ?? (guestPort === undefined ? receiver.ports.find((p) => addressOf(receiver, p)) : undefined);
  const peer = pod.nodes.find((n) => n.name === port?.peer?.split(':')[0]);
  return peer?.role === 'tgen' || peer?.role === 'host' ? peer : undefined;
}

// Nodes, destination and clock case from the pod; a pod that cannot host the test is a skip.
export function planDeviceInterrupt(pod: Pod, args: DeviceInterruptArgs): PlanResult {
  const receiver = pickNode(pod, args.receiver_node, ['guest'], 'receiver_node');
  if (!receiver) return { skip: `pod ${pod.name} has no guest node to receive the interrupts` };
  const generator = (args.generator_node === undefined ? cabledGenerator(pod, receiver, args.guest_port) : undefined) ?? pickNode(pod, args.generator_node, ['tgen', 'host'], 'generator_node');
  if (!generator) return { skip: `pod ${pod.name} has no tgen or host node to raise the interrupts` };
  if (generator === receiver) throw configError('generator_node', `expected a node other than the receiver ${receiver.name}`);

  // A guest port cabled to the generator: the named one, else `gi`, else the first with an address.
  const peered = receiver.ports.filter((p) => p.peer?.split(':')[0] === generator.name);
  let guestPort: DataPort | undefined;
  if (args.guest_port !== undefined) {
    guestPort = receiver.ports.find((p) => p.name === args.guest_port);
    if (!guestPort) throw configError('guest_port', `no port "${args.guest_port}" on node ${receiver.name}; expected one of ${receiver.ports.map((p) => p.name).join(', ') || '(none)'}`);
  } else {
    guestPort = peered.find((p) => p.name === 'gi') ?? peered.find((p) => addressOf(receiver, p) !== undefined);
  }
  const dest = args.dest ?? (guestPort ? addressOf(receiver, guestPort) : undefined);
  if (!dest) {
    const which = guestPort ? `port ${guestPort.name} of ${receiver.name} has no address in extra.port_addresses` : `no port of ${receiver.name} is cabled to ${generator.name} (ports[].peer) with an address in extra.port_addresses`;
    throw configError('dest', `missing; ${which}: give the guest's data address as dest (and guest_port)`);
  }
  if (args.hw_timestamps && !guestPort?.interface) {
    throw configError('hw_timestamps', `expected a guest port with an interface name for NIC timestamps, got ${guestPort ? `port ${guestPort.name} without one` : 'no port (dest only)'}; set guest_port`);
  }
  const peerPortName = guestPort?.peer?.split(':')[0] === generator.name ? guestPort.peer.split(':')[1] : undefined;
  const generatorIface = generator.ports.find((p) => p.name === peerPortName)?.interface;

  // On the lab every node is one kernel, so the receiver's RT CPU is also the generator's: keep them apart.
  const generatorCpu = args.generator_cpu ?? (pod.lab ? generator.housekeepingCpus[0] : (generator.rtCpus[0] ?? generator.housekeepingCpus[0]));
  // One kernel only on the lab with a namespace guest: a VM has a clock of its own, even on the lab.
  const oneKernel = pod.lab && receiver.launch === undefined;
  const clockDomain: ClockDomain = args.clock_domain ?? (oneKernel ? 'same-host' : 'unsynchronised');
  if (clockDomain === 'same-host' && !oneKernel) {
    const why = receiver.launch ? `the guest ${receiver.name} is a VM with a clock of its own` : `${generator.name} and the guest ${receiver.name} do not`;
    throw configError('clock_domain', `same-host holds only when sender and receiver share one kernel (the lab's namespace guest); ${why}: use ptp with clock_offset_ns, or unsynchronised`);
  }
  const portLabel = guestPort ? `port ${guestPort.name}${guestPort.interface ? ` (${guestPort.interface}${guestPort.pci ? ` ${guestPort.pci}` : ''})` : ''}` : `address ${dest}`;
  return {
    plan: {
      receiver,
      generator,
      dest,
      guestPort,
      generatorIface,
      receiverCpu: args.receiver_cpu ?? receiver.rtCpus[0],
      generatorCpu,
      clockDomain,
      clockOffsetNs: args.clock_offset_ns,
      device: pod.lab ? (receiver.launch ? LAB_VM_DEVICE : LAB_DEVICE) : (args.device ?? `NIC ${portLabel} of ${receiver.name}`),
    },
  };
}
// Known before anything runs: under a declared `unsynchronised` clock case these figures do not exist.
export function explainWithheldLimit(metric: string, plan: Pick<DeviceInterruptPlan, 'clockDomain'>): string | undefined {
  if (plan.clockDomain !== 'unsynchronised' || !(metric.startsWith('wire_to_handler_') || metric === 'late')) return undefined;
  return `${metric} needs the generator's and the guest's clocks in one domain; clock_domain is unsynchronised, so wire-to-handler is not computed (set clock_domain: ptp with clock_offset_ns to measure it)`;
}
