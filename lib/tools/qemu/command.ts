// The QEMU command line of a guest the harness launches itself, as kvmfornfv CI
// (ci/envs/host-run-qemu.sh) and VSPERF (vnfs/qemu/qemu.py) launched theirs, brought to
// QEMU 7.2: `-realtime mlock=on` became `-overcommit mem-lock=on`, and `query-cpus` became
// `query-cpus-fast`. Pure: it returns argv, never runs anything.

export type Accelerator = 'kvm' | 'tcg';

/** A NIC of the guest. The management NIC is always first and comes from `management`. */
export type GuestNicSpec =
  | {
      kind: 'tap';
      /** Stable id inside this QEMU, e.g. `gi`. */
      id: string;
      mac: string;
      /** The host interface QEMU opens (created beforehand by the launcher). */
      tap: string;
    }
  | {
      kind: 'vhost-user';
      id: string;
      mac: string;
      /** QEMU is the socket server (OVS dpdkvhostuserclient connects to it). */
      socketPath: string;
      /** virtio-net-pci properties, e.g. `{ mrg_rxbuf: 'off' }`, recorded in results.json. */
      deviceOptions: Record<string, string>;
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
  /** virtio-net options of each data NIC as given to QEMU, for results.json. */
  nicOptions: Record<string, Record<string, string>>;
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
  const macs = [spec.management.mac, ...spec.nics.map((n) => n.mac)];
  for (const mac of macs) if (!MAC.test(mac)) throw new QemuSpecError(`NIC MAC: expected lower-case aa:bb:cc:dd:ee:ff, found ${JSON.stringify(mac)}`);
  if (new Set(macs).size !== macs.length) throw new QemuSpecError(`NIC MACs must differ, found ${macs.join(', ')}`);
  const ids = spec.nics.map((n) => n.id);
  for (const id of ids) if (!ID.test(id) || id === 'mgmt') throw new QemuSpecError(`NIC id: expected a letter then letters, digits, "_" or "-" (not "mgmt"), found ${JSON.stringify(id)}`);
  if (new Set(ids).size !== ids.length) throw new QemuSpecError(`NIC ids must differ, found ${ids.join(', ')}`);
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

function nicArgs(nic: GuestNicSpec): { args: string[]; options: Record<string, string> } {
  if (nic.kind === 'tap') {
    // vhost=off: the lab kernel has no vhost-net, and a real pod's choice is not ours to guess.
    const options = { mac: nic.mac };
    return { args: ['-netdev', `tap,id=${nic.id},${property('ifname', nic.tap)},script=no,downscript=no,vhost=off`, '-device', `virtio-net-pci,netdev=${nic.id},mac=${nic.mac}`], options };
  }
  const options: Record<string, string> = { mac: nic.mac, ...nic.deviceOptions };
  const device = Object.entries(options).map(([k, v]) => property(k, v)).join(',');
  return {
    args: ['-chardev', `socket,id=chr-${nic.id},${property('path', nic.socketPath)},server=on,wait=off`, '-netdev', `vhost-user,id=${nic.id},chardev=chr-${nic.id}`, '-device', `virtio-net-pci,netdev=${nic.id},${device}`],
    options,
  };
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
  for (const nic of spec.nics) {
    const built = nicArgs(nic);
    argv.push(...built.args);
    nicOptions[nic.id] = built.options;
  }
  argv.push('-chardev', `file,id=console,${property('path', spec.consolePath)}`, '-serial', 'chardev:console');
  argv.push('-chardev', `socket,id=qmp,${property('path', spec.qmpPath)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control');
  return { argv, nicOptions };
}
