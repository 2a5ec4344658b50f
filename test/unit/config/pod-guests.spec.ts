// pod.yaml guests: host_node for every guest, and launch: for one the harness starts itself.
import { expect } from 'chai';
import { buildPod } from '../../../lib/config/pod.ts';
import { buildGuestKernelCmdline } from '../../../lib/config/guest-launch.ts';
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

  const bad: Array<{ what: string; nodes: unknown[]; path: string; includes: string[] }> = [
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
