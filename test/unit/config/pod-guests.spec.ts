// pod.yaml guests: host_node for every guest, and launch: for one the harness starts itself.
import { expect } from 'chai';
import { buildPod } from '../../../lib/config/pod.ts';
import { buildGuestKernelCmdline, guestPciOf } from '../../../lib/config/guest-launch.ts';
import { catchConfigError, expectConfigError } from './expect-config-error.ts';

const FILE = '/pods/launch.yaml';
const host = { name: 'compute-0', role: 'Compute', ip: '192.0.2.10', user: 'kfn', ssh_port: 2222, key_filename: '/keys/id', rt_cpus: '2-3', housekeeping_cpus: '0-1', host_key: { fingerprint: `SHA256:${'A'.repeat(43)}` } };
const launch = { kernel: '/var/lib/kfn/vmlinuz', initrd: '/var/lib/kfn/initrd.img', image: '/var/lib/kfn/rootfs.img', vcpus: 2, memory_mb: 1024, rt_vcpus: '1', vcpu_pins: '3', emulator_cpus: '0-1', nics: [{ port: 'gi', tap: 'kfn-tgi', bridge: 'kfn-gbr' }] };
const guest = { name: 'guest-0', role: 'vnf', host_node: 'compute-0', key_filename: '/keys/guest', host_key: { fingerprint: `SHA256:${'B'.repeat(43)}` }, ports: [{ name: 'gi', interface: 'gi', mac: '02:00:00:00:05:02' }], launch };
const pod = (nodes: unknown[]) => ({ pod_name: 'p', nodes });
const load = (nodes: unknown[]) => buildPod(pod(nodes), { file: FILE, env: {} });

describe('config/pod: guests on hosts, launched or existing', () => {
  it('resolves a launched guest: reached through its host on the forwarded loopback port', () => {
    const g = load([host, guest]).nodes[1];
    expect(g?.ip).to.equal('127.0.0.1');
    expect(g?.sshPort).to.equal(10022);
    expect(g?.hostNode).to.equal('compute-0');
    expect(g?.jumpHost).to.deep.include({ ip: '192.0.2.10', user: 'kfn', sshPort: 2222, keyFilename: '/keys/id' });
    expect(g?.rtCpus).to.deep.equal([1]);
    expect(g?.housekeepingCpus).to.deep.equal([0]);
    expect(g?.launch).to.deep.include({ accelerator: 'auto', vcpus: 2, memoryMb: 1024, rtVcpus: [1], vcpuPins: [3], emulatorCpus: [0, 1], memLock: true, imageFormat: 'raw', qemu: '/usr/bin/qemu-system-x86_64' });
    expect(g?.launch?.vcpuSched).to.deep.equal({ policy: 'SCHED_FIFO', priority: 1 });
    expect(g?.launch?.hugepages).to.deep.equal({ sizeKb: 2048, mount: '/dev/hugepages' });
    expect(buildGuestKernelCmdline(g!.launch!)).to.equal('root=/dev/vda rw console=ttyS0 isolcpus=1 nohz_full=1 rcu_nocbs=1');
  });

  it('keeps an existing guest by address working, with or without host_node', () => {
    const existing = { name: 'guest-0', role: 'guest', ip: '192.0.2.20', rt_cpus: '1', housekeeping_cpus: '0' };
    expect(load([host, existing]).nodes[1]).to.deep.include({ ip: '192.0.2.20', sshPort: 22 });
    expect(load([host, { ...existing, host_node: 'compute-0' }]).nodes[1]?.hostNode).to.equal('compute-0');
  });

  it('resolves every NIC form: tap, macvtap, vhost_user and vf, each at the guest PCI slot of its place', () => {
    const ports = [
      { name: 'gi', interface: 'gi', mac: '02:00:00:00:05:02' },
      { name: 'g0', interface: 'g0', mac: '02:00:00:00:03:03' },
      { name: 'v0', interface: 'v0', mac: '02:00:00:00:07:03' },
      { name: 'x0', interface: 'x0', mac: '02:00:00:00:09:03' },
    ];
    const nics = [{ port: 'gi', tap: 'kfn-tgi', bridge: 'kfn-gbr' }, { port: 'g0', macvtap: 'g0' }, { port: 'v0', vhost_user: true }, { port: 'x0', vf: { pf: 'xe0', vf: 2 } }];
    const g = load([host, { ...guest, ports, launch: { ...launch, nics } }]).nodes[1];
    expect(g?.launch?.nics).to.deep.equal([
      { kind: 'tap', port: 'gi', tap: 'kfn-tgi', bridge: 'kfn-gbr' },
      { kind: 'macvtap', port: 'g0', link: 'g0' },
      { kind: 'vhost-user', port: 'v0' },
      { kind: 'vf', port: 'x0', pf: 'xe0', vf: 2, vlan: 0, spoofchk: false, trust: true },
    ]);
    expect([0, 1, 3].map(guestPciOf)).to.deep.equal(['0000:00:10.0', '0000:00:11.0', '0000:00:13.0']);
  });

  const bad: Array<{ what: string; nodes: unknown[]; path: string; includes: string[] }> = [
    { what: 'a NIC of no known form', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', bridge: 'b' }] } }], path: 'nodes[1].launch.nics[0]', includes: ['expected a mapping with port with one of: tap and bridge; macvtap (a host link); vhost_user: true; vf ({pf, vf})'] },
    { what: 'a NIC of two forms', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', macvtap: 'g0', vhost_user: true }] } }], path: 'nodes[1].launch.nics[0]', includes: ['expected one NIC form, got macvtap and vhost_user'] },
    { what: 'vhost_user other than true', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', vhost_user: 'yes' }] } }], path: 'nodes[1].launch.nics[0].vhost_user', includes: ['expected true'] },
    { what: 'a VF without its index', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', vf: { pf: 'xe0' } }] } }], path: 'nodes[1].launch.nics[0].vf.vf', includes: ['the VF index'] },
    { what: 'a macvtap on a bad link name', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', macvtap: 'a link' }] } }], path: 'nodes[1].launch.nics[0].macvtap', includes: ['interface name'] },
    { what: 'one host link for two macvtaps', nodes: [host, { ...guest, ports: [...guest.ports, { name: 'g1', mac: '02:00:00:00:04:03' }], launch: { ...launch, nics: [{ port: 'gi', macvtap: 'g0' }, { port: 'g1', macvtap: 'g0' }] } }], path: 'nodes[1].launch.nics[1].macvtap', includes: ['used by one NIC, got "g0" twice'] },
    { what: 'a port with two NICs', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'gi', macvtap: 'g0' }, { port: 'gi', vhost_user: true }] } }], path: 'nodes[1].launch.nics[1].port', includes: ['each port once'] },
    { what: 'vhost-user without hugepages', nodes: [host, { ...guest, launch: { ...launch, hugepages: false, nics: [{ port: 'gi', vhost_user: true }] } }], path: 'nodes[1].launch.hugepages', includes: ['shares guest RAM with the vswitch'] },
    { what: 'launch on a host', nodes: [{ ...host, launch }], path: 'nodes[0].launch', includes: ['only on a guest node', 'Compute'] },
    { what: 'no host_node', nodes: [host, { ...guest, host_node: undefined }], path: 'nodes[1].host_node', includes: ['missing; a launched guest needs the name of the host node'] },
    { what: 'unknown host_node', nodes: [host, { ...guest, host_node: 'compute-9' }], path: 'nodes[1].host_node', includes: ['got "compute-9"', 'hosts are: compute-0'] },
    { what: 'host_node on a tgen', nodes: [host, { name: 'tg', role: 'TrafficGen', ip: '192.0.2.30' }, { ...guest, host_node: 'tg' }], path: 'nodes[2].host_node', includes: ['expected a node with role host', 'TrafficGen'] },
    { what: 'an address as well', nodes: [host, { ...guest, ip: '192.0.2.20' }], path: 'nodes[1].ip', includes: ['expected no ip on a launched guest'] },
    { what: 'RT vCPU out of range', nodes: [host, { ...guest, launch: { ...launch, rt_vcpus: '2', vcpu_pins: '3' } }], path: 'nodes[1].launch.rt_vcpus', includes: ['expected vCPUs below vcpus (2), got 2'] },
    { what: 'every vCPU real-time', nodes: [host, { ...guest, launch: { ...launch, rt_vcpus: '0-1', vcpu_pins: '2-3', emulator_cpus: '0' } }], path: 'nodes[1].launch.rt_vcpus', includes: ['all 2 are real-time'] },
    { what: 'pins not one to one', nodes: [host, { ...guest, launch: { ...launch, vcpu_pins: '2-3' } }], path: 'nodes[1].launch.vcpu_pins', includes: ['one host CPU per real-time vCPU (1: 1), got 2 (2-3)'] },
    { what: 'pin on an emulator CPU', nodes: [host, { ...guest, launch: { ...launch, vcpu_pins: '1' } }], path: 'nodes[1].launch.emulator_cpus', includes: ['got 1 in both'] },
    { what: 'unknown accelerator', nodes: [host, { ...guest, launch: { ...launch, accelerator: 'hvf' } }], path: 'nodes[1].launch.accelerator', includes: ['expected kvm, tcg or auto'] },
    { what: 'relative kernel path', nodes: [host, { ...guest, launch: { ...launch, kernel: 'vmlinuz' } }], path: 'nodes[1].launch.kernel', includes: ['absolute path of the guest kernel'] },
    { what: 'NIC on an unknown port', nodes: [host, { ...guest, launch: { ...launch, nics: [{ port: 'g7', tap: 't', bridge: 'b' }] } }], path: 'nodes[1].launch.nics[0].port', includes: ['expected a port of this node (gi), got "g7"'] },
    { what: 'NIC port without a MAC', nodes: [host, { ...guest, ports: [{ name: 'gi', interface: 'gi' }] }], path: 'nodes[1].launch.nics[0].port', includes: ['needs a mac'] },
    { what: 'FIFO at priority 0', nodes: [host, { ...guest, launch: { ...launch, vcpu_sched: { policy: 'fifo', priority: 0 } } }], path: 'nodes[1].launch.vcpu_sched.priority', includes: ['from 1 to 99'] },
    { what: 'two guests on one forwarded port', nodes: [host, guest, { ...guest, name: 'guest-1' }], path: 'nodes[2].launch.ssh_forward_port', includes: ['already used by nodes[1]'] },
    { what: 'a misspelt launch key', nodes: [host, { ...guest, launch: { ...launch, vcpu: 2 } }], path: 'nodes[1].launch.vcpu', includes: ['unknown key; expected only qemu, accelerator', 'did you mean vcpus for vcpu?'] },
    { what: 'rt_cpus other than the RT vCPUs', nodes: [host, { ...guest, rt_cpus: '0', housekeeping_cpus: '1' }], path: 'nodes[1].rt_cpus', includes: ["launched guest's rt_cpus to be its real-time vCPUs (1), got 0"] },
  ];
  for (const row of bad) {
    it(`refuses ${row.what} (${row.path})`, () => {
      expectConfigError(() => load(row.nodes), { file: FILE, issue: { path: row.path, includes: row.includes } });
    });
  }

  it('reports every launch problem of a file at once', () => {
    const error = catchConfigError(() => load([host, { ...guest, ip: '10.0.0.1', launch: { ...launch, rt_vcpus: '5', accelerator: 'x' } }]));
    expect(error.issues.map((i) => i.path)).to.include.members(['nodes[1].ip', 'nodes[1].launch.accelerator']);
  });
});
