// The QEMU command line of a guest the harness launches itself, as kvmfornfv CI
// (ci/envs/host-run-qemu.sh) and VSPERF (vnfs/qemu/qemu.py) launched theirs, brought to
// QEMU 7.2: `-realtime mlock=on` became `-overcommit mem-lock=on`, and `query-cpus` became
// `query-cpus-fast`. Pure: it returns argv, never runs anything.
import { quoteArg } from '../../remote/quote.ts';
import type { QmpCommand } from './qmp.ts';

export type Accelerator = 'kvm' | 'tcg';

/** A data NIC of the guest (the management NIC comes from `management`). */
export type GuestNicSpec =
  | {
      kind: 'tap';
      /** Stable id inside this QEMU, e.g. `gi`. */
      id: string;
      mac: string;
      /** The host interface QEMU opens (created beforehand by the launcher). */
      tap: string;
      /** PCI slot on bus 0 (0x10 = 0000:00:10.0 in the guest); QEMU picks one when absent. */
      slot?: number;
    }
  | {
      kind: 'macvtap';
      id: string;
      mac: string;
      /** The macvtap's character device, opened read-write by the start command and handed to QEMU as a file descriptor. */
      devicePath: string;
      deviceOptions: Record<string, string>;
      slot?: number;
    }
  | {
      kind: 'vhost-user';
      id: string;
      mac: string;
      /** QEMU is the socket server (OVS dpdkvhostuserclient connects to it). */
      socketPath: string;
      /** virtio-net-pci properties, e.g. `{ mrg_rxbuf: 'off' }`, recorded in results.json. */
      deviceOptions: Record<string, string>;
      slot?: number;
    }
  | {
      kind: 'vfio-pci';
      id: string;
      /** The host PCI device (a VF bound to vfio-pci), passed through whole. */
      hostPci: string;
      slot?: number;
    };

export interface QemuLaunchSpec {
  binary: string;
  /** `-name guest=...`; the process is renamed `processName` so that `kfn-*` finds it. */
  guestName: string;
  processName: string;
  accelerator: Accelerator;
  vcpus: number;
  memoryMb: number;
  /** hugetlbfs folder backing guest RAM (memory-backend-file, share=on); absent: anonymous RAM. */
  hugepagePath?: string;
  memLock: boolean;
  kernel: string;
  initrd?: string;
  append: string;
  image: string;
  imageFormat: 'raw' | 'qcow2';
  /** Guest writes go to a temporary overlay; the image itself is never changed. */
  snapshot: boolean;
  /** SSH of the guest through QEMU user networking on the host's loopback. */
  management: { forwardPort: number; mac: string };
  nics: GuestNicSpec[];
  consolePath: string;
  qmpPath: string;
}

export interface QemuCommand {
  argv: string[];
  /** Descriptors the start command must open before exec'ing QEMU (macvtap NICs), see buildQemuStartScript. */
  fds: Array<{ fd: number; path: string }>;
  /** virtio-net options of each data NIC as given to QEMU, for results.json. */
  nicOptions: Record<string, Record<string, string>>;
  /**
   * vhost-user NICs are plugged through QMP once their vswitch is up, never on the command
   * line: QEMU 7.2 waits, at start, for the first client of a vhost-user socket it serves
   * (net/vhost-user.c net_vhost_user_init loops on qemu_chr_fe_wait_connected), so a guest
   * booted with one would hang until the vswitch of a later case came. After that first
   * connection the vswitch may go and come back (reconnect), which is what lets OVS restart.
   */
  hotplug: Record<string, { plug: QmpCommand[]; unplug: QmpCommand[] }>;
}

/** KVM's CPU model: the anchors' (kvmfornfv host-run-qemu.sh; libvirt's kvm-realtime guide). */
export const KVM_CPU = 'host,migratable=off,+invtsc,+tsc-deadline,pmu=off';
/** Under TCG: every feature TCG emulates, so that DPDK in the guest finds SSE4.2 and friends. */
export const TCG_CPU = 'max';
/** What VSPERF's QEMU options turn off on virtio-net for forwarding (vnfs/qemu/qemu.py). */
export const FORWARDING_VIRTIO_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  mrg_rxbuf: 'off',
  csum: 'off',
  guest_csum: 'off',
  gso: 'off',
  guest_tso4: 'off',
  guest_tso6: 'off',
  guest_ecn: 'off',
});

const ID = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
/** The first descriptor the start command opens for QEMU, after stdin, stdout and stderr. */
const FIRST_FD = 3;

/** Thrown for a spec QEMU would misread; the launcher turns it into a clear error. */
export class QemuSpecError extends Error {
  override name = 'QemuSpecError';
}

// QEMU splits option values at commas (`,,` is a literal comma); a newline or NUL has no
// place in a path, and would reach the node's shell as a second command.
export function escapeOptionValue(value: string, what: string): string {
  if (value === '' || /[\n\r\0]/.test(value)) throw new QemuSpecError(`${what}: expected a non-empty value without newlines, found ${JSON.stringify(value)}`);
  return value.replaceAll(',', ',,');
}

function property(key: string, value: string): string {
  return `${key}=${escapeOptionValue(value, key)}`;
}

function checkSpec(spec: QemuLaunchSpec): void {
  const whole = (n: number, least: number) => Number.isSafeInteger(n) && n >= least;
  if (!whole(spec.vcpus, 1)) throw new QemuSpecError(`vcpus: expected a whole number ≥ 1, found ${spec.vcpus}`);
  if (!whole(spec.memoryMb, 64)) throw new QemuSpecError(`memory: expected a whole number of MB ≥ 64, found ${spec.memoryMb}`);
  if (!whole(spec.management.forwardPort, 1) || spec.management.forwardPort > 65535) throw new QemuSpecError(`management forward port: expected 1-65535, found ${spec.management.forwardPort}`);
  if (!/^kfn-[A-Za-z0-9_.-]{1,11}$/.test(spec.processName)) throw new QemuSpecError(`process name: expected kfn-<up to 11 characters> (Linux keeps 15), found ${JSON.stringify(spec.processName)}`);
  const macs = [spec.management.mac, ...spec.nics.flatMap((n) => (n.kind === 'vfio-pci' ? [] : [n.mac]))];
  for (const mac of macs) if (!MAC.test(mac)) throw new QemuSpecError(`NIC MAC: expected lower-case aa:bb:cc:dd:ee:ff, found ${JSON.stringify(mac)}`);
  if (new Set(macs).size !== macs.length) throw new QemuSpecError(`NIC MACs must differ, found ${macs.join(', ')}`);
  const ids = spec.nics.map((n) => n.id);
  for (const id of ids) if (!ID.test(id) || id === 'mgmt') throw new QemuSpecError(`NIC id: expected a letter then letters, digits, "_" or "-" (not "mgmt"), found ${JSON.stringify(id)}`);
  if (new Set(ids).size !== ids.length) throw new QemuSpecError(`NIC ids must differ, found ${ids.join(', ')}`);
  const slots = spec.nics.flatMap((n) => (n.slot === undefined ? [] : [n.slot]));
  for (const slot of slots) if (!Number.isInteger(slot) || slot < 0x10 || slot > 0x1f) throw new QemuSpecError(`NIC slot: expected 0x10-0x1f (the lower ones are QEMU's), found ${slot}`);
  if (new Set(slots).size !== slots.length) throw new QemuSpecError(`NIC slots must differ, found ${slots.join(', ')}`);
  for (const n of spec.nics) if (n.kind === 'vfio-pci' && !PCI.test(n.hostPci)) throw new QemuSpecError(`NIC ${n.id}: expected a host PCI address like 0000:18:02.0, found ${JSON.stringify(n.hostPci)}`);
  if (spec.nics.some((n) => n.kind === 'vhost-user') && spec.hugepagePath === undefined) {
    throw new QemuSpecError('vhost-user NICs need guest RAM on hugepages shared with the vswitch: give a hugepage backing');
  }
}

function memoryArgs(spec: QemuLaunchSpec): string[] {
  const size = `size=${spec.memoryMb}M`;
  // share=on: a vhost-user backend maps guest RAM itself; prealloc=on is -mem-prealloc for a backend.
  const backend = spec.hugepagePath === undefined
    ? `memory-backend-ram,id=ram0,${size}`
    : `memory-backend-file,id=ram0,${size},${property('mem-path', spec.hugepagePath)},share=on,prealloc=on`;
  return ['-m', `${spec.memoryMb}M`, '-object', backend, '-machine', 'pc,memory-backend=ram0', ...(spec.memLock ? ['-overcommit', 'mem-lock=on'] : [])];
}

const addr = (slot: number | undefined) => (slot === undefined ? '' : `,addr=0x${slot.toString(16)}`);

function virtioDevice(id: string, options: Record<string, string>, slot: number | undefined): string {
  return `virtio-net-pci,netdev=${id}${addr(slot)},${Object.entries(options).map(([k, v]) => property(k, v)).join(',')}`;
}

function nicArgs(nic: Exclude<GuestNicSpec, { kind: 'vhost-user' }>, fd: number): { args: string[]; options: Record<string, string> } {
  if (nic.kind === 'tap') {
    // vhost=off: the lab kernel has no vhost-net, and a real pod's choice is not ours to guess.
    const options = { mac: nic.mac };
    return { args: ['-netdev', `tap,id=${nic.id},${property('ifname', nic.tap)},script=no,downscript=no,vhost=off`, '-device', virtioDevice(nic.id, options, nic.slot)], options };
  }
  if (nic.kind === 'macvtap') {
    const options = { mac: nic.mac, ...nic.deviceOptions };
    return { args: ['-netdev', `tap,id=${nic.id},fd=${fd},vhost=off`, '-device', virtioDevice(nic.id, options, nic.slot)], options };
  }
  return { args: ['-device', `vfio-pci,host=${nic.hostPci},id=${nic.id}${addr(nic.slot)}`], options: { host: nic.hostPci } };
}

// QMP's device_add takes typed JSON: on/off properties go as booleans and counts as numbers
// (QEMU 7.2 qdev_device_add_from_qdict with from_json).
function qmpValue(value: string): string | boolean | number {
  if (value === 'on' || value === 'off') return value === 'on';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Under TCG a vhost-user virtio-net device gets no MSI-X vectors (`vectors=0`, legacy INTx):
 * QEMU 7.2 (Debian 1:7.2+dfsg-7+deb12u18) segfaults in msix_set_vector_notifiers, called from
 * vhost_net_start, when the guest driver starts such a device without KVM's irqfd (seen on the
 * lab, boot-time and hot-plugged NICs alike). The VNF polls, so it loses nothing by it.
 */
export const TCG_VHOST_USER_OPTIONS: Readonly<Record<string, string>> = Object.freeze({ vectors: '0' });

/** The QMP commands that plug a vhost-user NIC into a running guest, and take it out again. */
export interface VhostUserHotplug {
  plug: QmpCommand[];
  unplug: QmpCommand[];
  /** The device's id, as qom-list /machine/peripheral lists it until the guest has let it go. */
  deviceId: string;
  options: Record<string, string>;
}

// chardev-add (QEMU serves the socket), netdev_add (waits for the vswitch's connection), device_add
// at the NIC's fixed slot; undone in reverse once the guest has ejected the device.
export function buildVhostUserHotplug(nic: Extract<GuestNicSpec, { kind: 'vhost-user' }>): VhostUserHotplug {
  escapeOptionValue(nic.socketPath, 'vhost-user socket');
  const options: Record<string, string> = { mac: nic.mac, ...nic.deviceOptions };
  const chardev = `chr-${nic.id}`;
  const device = `dev-${nic.id}`;
  return {
    options,
    deviceId: device,
    plug: [
      { execute: 'chardev-add', arguments: { id: chardev, backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: nic.socketPath } }, server: true, wait: false } } } },
      { execute: 'netdev_add', arguments: { type: 'vhost-user', id: nic.id, chardev } },
      { execute: 'device_add', arguments: { driver: 'virtio-net-pci', id: device, netdev: nic.id, ...(nic.slot === undefined ? {} : { addr: `0x${nic.slot.toString(16)}` }), ...Object.fromEntries(Object.entries(options).map(([k, v]) => [k, qmpValue(v)])) } },
    ],
    unplug: [
      { execute: 'device_del', arguments: { id: device } },
      { execute: 'netdev_del', arguments: { id: nic.id } },
      { execute: 'chardev-remove', arguments: { id: chardev } },
    ],
  };
}

// The start command for a detached QEMU: the macvtap devices opened on the descriptors its
// argv names (`-netdev tap,fd=N`), then QEMU exec'd in place, so its pid is the shell's.
export function buildQemuStartScript(command: Pick<QemuCommand, 'argv' | 'fds'>): string {
  const opens = command.fds.map((f) => `exec ${f.fd}<>${quoteArg(f.path)}`);
  return [...opens, `exec ${command.argv.map(quoteArg).join(' ')}`].join('\n');
}

// The whole command line; every path goes through escapeOptionValue.
export function buildQemuCommand(spec: QemuLaunchSpec): QemuCommand {
  checkSpec(spec);
  const kvm = spec.accelerator === 'kvm';
  const argv = [
    spec.binary,
    '-name', `guest=${escapeOptionValue(spec.guestName, 'guest name')},process=${spec.processName},debug-threads=on`,
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-accel', kvm ? 'kvm' : 'tcg,thread=multi',
    '-cpu', kvm ? KVM_CPU : TCG_CPU,
    '-smp', `${spec.vcpus},sockets=1,cores=${spec.vcpus},threads=1`,
    ...memoryArgs(spec),
    '-kernel', spec.kernel,
    ...(spec.initrd === undefined ? [] : ['-initrd', spec.initrd]),
    '-append', spec.append,
    '-drive', `${property('file', spec.image)},if=virtio,format=${spec.imageFormat}${spec.snapshot ? ',snapshot=on' : ''}`,
    '-netdev', `user,id=mgmt,hostfwd=tcp:127.0.0.1:${spec.management.forwardPort}-:22`,
    '-device', `virtio-net-pci,netdev=mgmt,mac=${spec.management.mac}`,
  ];
  const nicOptions: Record<string, Record<string, string>> = {};
  const fds: QemuCommand['fds'] = [];
  const hotplug: QemuCommand['hotplug'] = {};
  for (const nic of spec.nics) {
    if (nic.kind === 'vhost-user') {
      const { options, plug, unplug } = buildVhostUserHotplug(kvm ? nic : { ...nic, deviceOptions: { ...TCG_VHOST_USER_OPTIONS, ...nic.deviceOptions } });
      hotplug[nic.id] = { plug, unplug };
      nicOptions[nic.id] = options;
      continue;
    }
    const fd = FIRST_FD + fds.length;
    if (nic.kind === 'macvtap') {
      escapeOptionValue(nic.devicePath, 'macvtap device');
      fds.push({ fd, path: nic.devicePath });
    }
    const built = nicArgs(nic, fd);
    argv.push(...built.args);
    nicOptions[nic.id] = built.options;
  }
  argv.push('-chardev', `file,id=console,${property('path', spec.consolePath)}`, '-serial', 'chardev:console');
  argv.push('-chardev', `socket,id=qmp,${property('path', spec.qmpPath)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control');
  return { argv, fds, nicOptions, hotplug };
}
