// pod.yaml `launch:`: a guest the harness starts itself on its host node, tuned as the RT-KVM
// guidance says (libvirt's kvm-realtime guide: vCPUs pinned 1:1 at SCHED_FIFO 1, emulator
// threads on housekeeping CPUs, locked hugepage memory; the guest isolating its RT vCPUs).
// Schema, checks across fields, and resolution into the model. Pure.
import * as z from 'zod';
import { formatCpuList, tryParseCpuList } from './cpu-list.ts';
import { findCloseName } from './pod-keys.ts';

export type AcceleratorChoice = 'kvm' | 'tcg' | 'auto';

/**
 * A data NIC of the guest, by how it reaches the wire:
 * - tap: a tap joined to an existing host bridge (the device-interrupt NIC);
 * - macvtap: a macvtap in passthru mode on a host link, so the VM owns that link with no
 *   vswitch or bridge in between (the lab's SR-IOV analogue);
 * - vhost-user: virtio-net whose backend is a vswitch (OVS dpdkvhostuserclient) on a socket
 *   QEMU serves; plugged by the case that runs the vswitch (see lib/guest/vhost-user.ts);
 * - vf: an SR-IOV VF of a host PF, created, set up and bound to vfio-pci by the launcher and
 *   passed through (-device vfio-pci).
 */
export type GuestLaunchNic =
  | { kind: 'tap'; port: string; tap: string; bridge: string }
  | { kind: 'macvtap'; port: string; link: string }
  | { kind: 'vhost-user'; port: string }
  | { kind: 'vf'; port: string; pf: string; vf: number; vlan: number; spoofchk: boolean; trust: boolean };

export interface GuestLaunch {
  qemu: string;
  accelerator: AcceleratorChoice;
  kernel: string;
  initrd?: string;
  image: string;
  imageFormat: 'raw' | 'qcow2';
  vcpus: number;
  memoryMb: number;
  /** Guest CPU numbers of the real-time vCPUs. */
  rtVcpus: number[];
  /** Host CPU of each RT vCPU: the i-th lowest RT vCPU runs on vcpuPins[i] (as listed, sorted). */
  vcpuPins: number[];
  /** Host CPUs for QEMU's emulator and I/O threads and the non-RT vCPUs. */
  emulatorCpus: number[];
  vcpuSched: { policy: 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_OTHER'; priority: number };
  /** Guest RAM from hugetlbfs (memory-backend-file, share=on, prealloc); null: anonymous RAM. */
  hugepages: { sizeKb: number; mount: string } | null;
  memLock: boolean;
  /** Appended to the command line the harness builds (root, console and RT isolation). */
  kernelArgs: string;
  rootDevice: string;
  sshForwardPort: number;
  bootTimeoutS: number;
  /** How long a KVM guest may take to print its first kernel line before KVM is judged broken. */
  kvmProbeS: number;
  nics: GuestLaunchNic[];
  /** false: leave QEMU's threads where the kernel puts them (an untuned guest, e.g. to see the audit catch it). */
  pinThreads: boolean;
}

const absolute = (what: string) => z.string({ error: `expected ${what}` }).regex(/^\/[^\n\r\0]*$/, { error: `expected ${what}` });
const ifname = z.string({ error: 'expected an interface name' }).regex(/^[A-Za-z0-9_.-]{1,15}$/, { error: 'expected an interface name of 1-15 letters, digits, ".", "_" or "-"' });
const whole = (least: number, most: number, what: string) =>
  z.int({ error: `expected ${what}, a whole number from ${least} to ${most}` }).min(least, { error: `expected ${what}, a whole number from ${least} to ${most}` }).max(most, { error: `expected ${what}, a whole number from ${least} to ${most}` });

// pod-schema.ts imports this file, so its cpuListField cannot be imported back here.
const cpuListField = z.unknown().transform((input, ctx) => {
  const r = tryParseCpuList(input);
  if (r.ok) return r.cpus;
  ctx.addIssue({ code: 'custom', message: r.message, input });
  return z.NEVER;
});

const NIC_FORMS = 'port with one of: tap and bridge; macvtap (a host link); vhost_user: true; vf ({pf, vf})';
const nicVariants = {
  tap: z.strictObject({ port: z.string({ error: 'expected a port name of this node' }), tap: ifname, bridge: ifname }, { error: `expected a mapping with ${NIC_FORMS}` }),
  macvtap: z.strictObject({ port: z.string({ error: 'expected a port name of this node' }), macvtap: ifname }, { error: `expected a mapping with ${NIC_FORMS}` }),
  vhost_user: z.strictObject({ port: z.string({ error: 'expected a port name of this node' }), vhost_user: z.literal(true, { error: 'expected true' }) }, { error: `expected a mapping with ${NIC_FORMS}` }),
  vf: z.strictObject(
    {
      port: z.string({ error: 'expected a port name of this node' }),
      vf: z.strictObject(
        {
          // It reaches the host's shell (sysfs paths, ip link): refused at load unless it is a plain name.
          pf: z.string({ error: 'expected the PF: a port of the host node, or its interface' }).regex(/^[A-Za-z0-9_.@+-]{1,64}$/, { error: 'expected the PF: a port of the host node, or its interface (letters, digits, ".", "_", "@", "+", "-")' }),
          vf: whole(0, 4095, 'the VF index'),
          vlan: whole(0, 4094, 'the VLAN').default(0),
          spoofchk: z.boolean({ error: 'expected true or false' }).default(false),
          trust: z.boolean({ error: 'expected true or false' }).default(true),
        },
        { error: 'expected a mapping with pf, vf and optionally vlan, spoofchk, trust' },
      ),
    },
    { error: `expected a mapping with ${NIC_FORMS}` },
  ),
};
type NicInput = z.output<(typeof nicVariants)[keyof typeof nicVariants]>;

// One form per NIC, chosen by the key that names it, so an error speaks of that form only.
const nicField = z.unknown().transform((input, ctx): NicInput => {
  const keys = input !== null && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input) : [];
  const forms = (['tap', 'macvtap', 'vhost_user', 'vf'] as const).filter((k) => keys.includes(k));
  if (forms.length !== 1) {
    ctx.addIssue({ code: 'custom', message: forms.length === 0 ? `expected a mapping with ${NIC_FORMS}` : `expected one NIC form, got ${forms.join(' and ')}`, input });
    return z.NEVER;
  }
  const parsed = nicVariants[forms[0] as keyof typeof nicVariants].safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const POLICIES = { fifo: 'SCHED_FIFO', rr: 'SCHED_RR', other: 'SCHED_OTHER' } as const;

const LAUNCH_KEYS = ['qemu', 'accelerator', 'kernel', 'initrd', 'image', 'image_format', 'vcpus', 'memory_mb', 'rt_vcpus', 'vcpu_pins', 'emulator_cpus', 'vcpu_sched', 'hugepages', 'mem_lock', 'kernel_args', 'root_device', 'ssh_forward_port', 'boot_timeout_s', 'kvm_probe_s', 'nics', 'pin_threads'];

export const launchSchema = z.strictObject(
  {
    qemu: absolute('the absolute path of qemu-system-x86_64 on the host node').default('/usr/bin/qemu-system-x86_64'),
    accelerator: z.enum(['kvm', 'tcg', 'auto'], { error: 'expected kvm, tcg or auto' }).default('auto'),
    kernel: absolute('the absolute path of the guest kernel on the host node (direct kernel boot)'),
    initrd: absolute('the absolute path of the guest initrd on the host node').optional(),
    image: absolute('the absolute path of the guest root disk image on the host node'),
    image_format: z.enum(['raw', 'qcow2'], { error: 'expected raw or qcow2' }).default('raw'),
    vcpus: whole(1, 256, 'the number of vCPUs'),
    memory_mb: whole(256, 1 << 20, 'guest memory in MB'),
    rt_vcpus: cpuListField,
    vcpu_pins: cpuListField,
    emulator_cpus: cpuListField,
    vcpu_sched: z
      .strictObject({ policy: z.enum(['fifo', 'rr', 'other'], { error: 'expected fifo, rr or other' }), priority: whole(0, 99, 'the priority') }, { error: 'expected a mapping with policy (fifo, rr, other) and priority' })
      .default({ policy: 'fifo', priority: 1 }),
    hugepages: z
      .union([z.literal(false), z.strictObject({
          size_kb: z.union([z.literal(2048), z.literal(1048576)], { error: 'expected 2048 or 1048576' }),
          // As the hugepage planner takes mount points: it runs mkdir and mount on them.
          mount: z.string({ error: 'expected the hugetlbfs mount point' }).regex(/^\/[A-Za-z0-9_./-]*$/, { error: 'expected the hugetlbfs mount point, an absolute path of letters, digits, _ . / -' }).default('/dev/hugepages'),
        })], {
        error: 'expected false or a mapping with size_kb (2048 or 1048576) and optionally mount',
      })
      .default({ size_kb: 2048, mount: '/dev/hugepages' }),
    mem_lock: z.boolean({ error: 'expected true or false' }).default(true),
    kernel_args: z.string({ error: 'expected extra kernel parameters as one string' }).regex(/^[^\n\r\0]*$/, { error: 'expected one line of kernel parameters' }).default(''),
    root_device: absolute('the guest root device, e.g. /dev/vda').default('/dev/vda'),
    ssh_forward_port: whole(1024, 65535, 'the host loopback port forwarded to the guest sshd').default(10022),
    boot_timeout_s: whole(10, 3600, 'the boot timeout in seconds').default(300),
    kvm_probe_s: whole(5, 600, 'the KVM probe window in seconds').default(20),
    pin_threads: z.boolean({ error: 'expected true or false' }).default(true),
    nics: z.array(nicField, { error: 'expected a list of NICs' }).default([]),
  },
  {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return 'expected a mapping (the guest the harness launches)';
      // zod-issues.ts prefixes "unknown key; " to a message that starts with "expected".
      const slips = iss.keys.flatMap((k) => {
        const close = findCloseName(k, LAUNCH_KEYS);
        return close ? [`did you mean ${close} for ${k}?`] : [];
      });
      return `expected only ${LAUNCH_KEYS.join(', ')}${slips.length ? `; ${slips.join('; ')}` : ''}`;
    },
  },
);
export type LaunchInput = z.output<typeof launchSchema>;

/** A node field the checks need; undefined when that field itself was bad. */
export interface LaunchNodeFacts {
  ports: { name: string; mac?: string }[];
  rtCpus?: number[];
  housekeepingCpus?: number[];
}

// What no single field can say: vCPU numbers in range, one pin per RT vCPU, no CPU both RT and emulator.
export function checkLaunch(launch: LaunchInput, node: LaunchNodeFacts, add: (path: PropertyKey[], message: string) => void): void {
  const outOfRange = launch.rt_vcpus.filter((c) => c >= launch.vcpus);
  if (launch.rt_vcpus.length === 0) add(['launch', 'rt_vcpus'], 'expected at least one real-time vCPU');
  if (outOfRange.length > 0) add(['launch', 'rt_vcpus'], `expected vCPUs below vcpus (${launch.vcpus}), got ${formatCpuList(outOfRange)}`);
  if (launch.rt_vcpus.length === launch.vcpus) add(['launch', 'rt_vcpus'], `expected at least one vCPU left for the guest's housekeeping, but all ${launch.vcpus} are real-time`);
  if (launch.vcpu_pins.length !== launch.rt_vcpus.length) {
    add(['launch', 'vcpu_pins'], `expected one host CPU per real-time vCPU (${launch.rt_vcpus.length}: ${formatCpuList(launch.rt_vcpus)}), got ${launch.vcpu_pins.length} (${formatCpuList(launch.vcpu_pins) || 'none'})`);
  }
  if (launch.emulator_cpus.length === 0) add(['launch', 'emulator_cpus'], "expected at least one host CPU for QEMU's emulator and I/O threads");
  const shared = launch.vcpu_pins.filter((c) => launch.emulator_cpus.includes(c));
  if (shared.length > 0) add(['launch', 'emulator_cpus'], `expected no host CPU both in vcpu_pins and emulator_cpus, got ${formatCpuList(shared)} in both`);
  if (launch.vcpu_sched.policy === 'other' && launch.vcpu_sched.priority !== 0) add(['launch', 'vcpu_sched', 'priority'], 'expected priority 0 with policy other');
  if (launch.vcpu_sched.policy !== 'other' && launch.vcpu_sched.priority === 0) add(['launch', 'vcpu_sched', 'priority'], 'expected a priority from 1 to 99 with policy fifo or rr');
  if (node.rtCpus && node.rtCpus.length > 0 && formatCpuList(node.rtCpus) !== formatCpuList(launch.rt_vcpus)) {
    add(['rt_cpus'], `expected the launched guest's rt_cpus to be its real-time vCPUs (${formatCpuList(launch.rt_vcpus)}), got ${formatCpuList(node.rtCpus)}`);
  }
  const hostNames = new Map<string, number>();
  const ports = new Set<string>();
  launch.nics.forEach((nic, i) => {
    const port = node.ports.find((p) => p.name === nic.port);
    if (!port) add(['launch', 'nics', i, 'port'], `expected a port of this node (${node.ports.map((p) => p.name).join(', ') || 'none'}), got "${nic.port}"`);
    else if (!port.mac) add(['launch', 'nics', i, 'port'], `port "${nic.port}" needs a mac: the launcher gives the guest NIC that MAC`);
    if (ports.has(nic.port)) add(['launch', 'nics', i, 'port'], `expected each port once, got "${nic.port}" twice`);
    ports.add(nic.port);
    // A tap the launcher creates, or a host link a macvtap takes over, serves one NIC only.
    const [key, name] = 'tap' in nic ? ['tap', nic.tap] : 'macvtap' in nic ? ['macvtap', nic.macvtap] : [undefined, undefined];
    if (key && name !== undefined) {
      if (hostNames.has(name)) add(['launch', 'nics', i, key], `expected a host interface used by one NIC, got "${name}" twice`);
      hostNames.set(name, i);
    }
    if ('vhost_user' in nic && launch.hugepages === false) {
      add(['launch', 'hugepages'], `expected hugepages: the vhost-user NIC "${nic.port}" shares guest RAM with the vswitch, which needs it on hugetlbfs (share=on)`);
    }
  });
  if (launch.nics.length > DATA_NIC_SLOTS.length) add(['launch', 'nics'], `expected at most ${DATA_NIC_SLOTS.length} NICs, got ${launch.nics.length}`);
}

/** Guest PCI slots of the data NICs, in launch.nics order: fixed, so the guest's PCI address of each is known. */
export const DATA_NIC_SLOTS: readonly number[] = Object.freeze(Array.from({ length: 16 }, (_, i) => 0x10 + i));

// The PCI address a data NIC has inside the guest (bus 0 of the pc machine).
export function guestPciOf(index: number): string {
  const slot = DATA_NIC_SLOTS[index];
  if (slot === undefined) throw new RangeError(`NIC index ${index}: only ${DATA_NIC_SLOTS.length} data NIC slots`);
  return `0000:00:${slot.toString(16).padStart(2, '0')}.0`;
}

function resolveNic(input: LaunchInput['nics'][number]): GuestLaunchNic {
  if ('tap' in input) return { kind: 'tap', port: input.port, tap: input.tap, bridge: input.bridge };
  if ('macvtap' in input) return { kind: 'macvtap', port: input.port, link: input.macvtap };
  if ('vhost_user' in input) return { kind: 'vhost-user', port: input.port };
  return { kind: 'vf', port: input.port, ...input.vf };
}

// The guest's own CPU sets follow from the launch when pod.yaml leaves them out.
export function resolveGuestCpus(launch: LaunchInput): { rtCpus: number[]; housekeepingCpus: number[] } {
  const all = Array.from({ length: launch.vcpus }, (_, i) => i);
  return { rtCpus: [...launch.rt_vcpus], housekeepingCpus: all.filter((c) => !launch.rt_vcpus.includes(c)) };
}

export function resolveLaunch(input: LaunchInput): GuestLaunch {
  return {
    qemu: input.qemu,
    accelerator: input.accelerator,
    kernel: input.kernel,
    ...(input.initrd === undefined ? {} : { initrd: input.initrd }),
    image: input.image,
    imageFormat: input.image_format,
    vcpus: input.vcpus,
    memoryMb: input.memory_mb,
    rtVcpus: [...input.rt_vcpus],
    vcpuPins: [...input.vcpu_pins],
    emulatorCpus: [...input.emulator_cpus],
    vcpuSched: { policy: POLICIES[input.vcpu_sched.policy], priority: input.vcpu_sched.priority },
    hugepages: input.hugepages === false ? null : { sizeKb: input.hugepages.size_kb, mount: input.hugepages.mount },
    memLock: input.mem_lock,
    kernelArgs: input.kernel_args,
    rootDevice: input.root_device,
    sshForwardPort: input.ssh_forward_port,
    bootTimeoutS: input.boot_timeout_s,
    kvmProbeS: input.kvm_probe_s,
    nics: input.nics.map(resolveNic),
    pinThreads: input.pin_threads,
  };
}

// The guest command line: root, serial console, and the RT vCPUs isolated three ways.
export function buildGuestKernelCmdline(launch: GuestLaunch): string {
  const rt = formatCpuList(launch.rtVcpus);
  return [`root=${launch.rootDevice}`, 'rw', 'console=ttyS0', `isolcpus=${rt}`, `nohz_full=${rt}`, `rcu_nocbs=${rt}`, launch.kernelArgs].filter((p) => p !== '').join(' ');
}
