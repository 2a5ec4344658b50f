// The launcher against a fake host: which accelerator is tried and why, what is read back,
// and that every host change is undone. Console, QMP and /proc answers are the recorded ones.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { resolveLaunch, launchSchema } from '../../../lib/config/guest-launch.ts';
import type { Pod, PodNode } from '../../../lib/config/pod-model.ts';
import { GuestLaunchError } from '../../../lib/errors.ts';
import { CleanupStack } from '../../../lib/harness/cleanup.ts';
import { launchGuest, planAccelerators } from '../../../lib/guest/launch.ts';
import type { ExecOptions } from '../../../lib/remote/types.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/qemu/${name}`, import.meta.url), 'utf8');
const launch = resolveLaunch(
  launchSchema.parse({ kernel: '/img/vmlinuz', initrd: '/img/initrd.img', image: '/img/rootfs.img', vcpus: 2, memory_mb: 1024, rt_vcpus: '1', vcpu_pins: '1', emulator_cpus: '0', nics: [{ port: 'gi', tap: 'vmtap-gi', bridge: 'vmbr-gi' }] }),
);
const guest = buildFakeNode({ name: 'guest', hostNode: 'host', ports: [{ name: 'gi', interface: 'gi', mac: '02:88:e7:05:02:00', peer: 'tgen:ti' }], launch }) as PodNode & { launch: typeof launch };
const hostNode = buildFakeNode({ name: 'host', role: 'host', declaredRole: 'host' });
const pod = (lab: boolean): Pod => ({ file: '/lab/pod.yaml', name: 'p', lab, nodes: [hostNode, guest], notes: [] });

// The recorded 7.2 replies with the thread ids of the recorded placement probe (vCPU 0: 4907, vCPU 1: 4908).
const qmpAnswer = [
  fixture('kfn-qmp-7.2-tcg.stdout').split('\n')[0],
  '{"return": {}}',
  '{"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}}',
  '{"return": {"enabled": false, "present": true}}',
  '{"return": [{"thread-id": 4907, "props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}, {"thread-id": 4908, "props": {"core-id": 1, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[2]", "cpu-index": 1, "target": "x86_64"}]}',
].join('\n');

interface HostScript {
  kvmDevice: boolean;
  /** Answers of the kernel-stage waits, one per attempt. */
  kernel: string[];
  ready?: string;
  placement?: string;
}

function fakeHost(script: HostScript): FakeNodeSession {
  const kernel = [...script.kernel];
  return new FakeNodeSession(hostNode, {
    exec: (command: string, options: ExecOptions) => {
      switch (options.label) {
        case 'read hugepages':
          return { stdout: 'pool 2048 0 0\ndefault 2048\nmount /dev/hugepages rw,relatime,pagesize=2M\nfolder yes /dev/hugepages\n' };
        case 'tap vmtap-gi?':
          return { stdout: 'no\n' };
        case 'kvm device':
          return { stdout: script.kvmDevice ? 'yes\n' : 'no\n' };
        case 'wait for guest kernel':
          return { stdout: `${kernel.shift() ?? 'timeout'}\n` };
        case 'wait for guest ready':
          return { stdout: `${script.ready ?? 'reached'}\n` };
        case 'guest console':
          // Attempt 0 printed nothing when it did not start; the one that started printed the recorded boot.
          return { stdout: command.includes('console-0.log') && script.kernel[0] !== 'reached' ? '' : fixture('tcg-boot-rt-6.1.console.log') };
        case 'qemu stderr':
          return { stdout: fixture('kvm-pvm-msr.stderr') };
        case 'qemu alive?':
          return { stdout: 'alive\n' };
        case 'kfn-qmp cache':
          return { stdout: 'kfn-agent-cache hit\t/lab/agents\n' };
        case 'qmp query-version,query-kvm,query-cpus-fast':
          return { stdout: qmpAnswer };
        case 'read back the threads of guest guest':
          return { stdout: script.placement ?? fixture('placement-probe-util-linux-2.38.txt') };
        default:
          return undefined;
      }
    },
  });
}

async function launchOn(host: FakeNodeSession, lab: boolean) {
  const cleanup = new CleanupStack();
  const promise = launchGuest({ pod: pod(lab), guest, host, ctx: { cleanup, dryRun: false }, log: () => {} });
  return { cleanup, promise };
}

describe('guest/launch planAccelerators', () => {
  it('tries KVM then TCG on the lab only; a real pod with auto means KVM alone', () => {
    expect(planAccelerators(launch, { lab: true, kvmDevice: true }).map((p) => p.accelerator)).to.deep.equal(['kvm', 'tcg']);
    expect(planAccelerators(launch, { lab: true, kvmDevice: false }).map((p) => p.accelerator)).to.deep.equal(['tcg']);
    expect(planAccelerators(launch, { lab: false, kvmDevice: false })).to.deep.equal([{ accelerator: 'kvm', reason: 'auto on a real pod means KVM: a guest that does not boot under KVM is an error, never emulated' }]);
    expect(planAccelerators({ ...launch, accelerator: 'tcg' }, { lab: false, kvmDevice: true }).map((p) => p.accelerator)).to.deep.equal(['tcg']);
  });
});

describe('guest/launch launchGuest', () => {
  it('on the lab: KVM aborts (MSR 0x10a), TCG boots; the reason, QEMU, kernel and the read-back placement are kept', async () => {
    const host = fakeHost({ kvmDevice: true, kernel: ['exited', 'reached'] });
    const { cleanup, promise } = await launchOn(host, true);
    const record = await promise;
    expect(record.accelerator).to.equal('tcg');
    expect(record.emulated).to.equal(true);
    expect(record.acceleratorReason).to.match(/KVM was tried first \(KVM: QEMU exited: .*failed to set MSR 0x10a/);
    expect(record.qemuVersion).to.equal('7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
    expect(record.kernelRelease).to.equal('6.1.0-57-rt-amd64');
    expect(record.vcpus).to.deep.equal([
      { index: 0, tid: 4907, rt: false, hostCpus: [0], policy: 'SCHED_OTHER', priority: 0 },
      { index: 1, tid: 4908, rt: true, hostCpus: [1], policy: 'SCHED_FIFO', priority: 1 },
    ]);
    const starts = host.callsOf('start');
    expect(starts.map((s) => s.command.match(/-accel (\S+)/)?.[1])).to.deep.equal(['kvm', 'tcg,thread=multi']);
    expect(starts[1]?.command).to.contain('-cpu max').and.contain('mem-path=/dev/hugepages,share=on,prealloc=on').and.contain('-overcommit mem-lock=on');
    expect(host.callsOf('exec').find((c) => c.options.label === 'pin the threads of guest guest')?.command).to.contain('chrt -f -p 1 4908');
    // Hugepages (512 free wanted), the tap and both QEMUs are undone, newest first.
    expect(host.callsOf('exec').find((c) => c.options.label === 'reserve hugepages')?.command).to.contain('echo 512 >');
    const failed = (await cleanup.unwind()).filter((r) => !r.ok);
    expect(failed).to.deep.equal([]);
    const after = host.calls.slice(host.calls.findIndex((c) => c.kind === 'exec' && c.options.label === 'wait for guest ready') + 1);
    const labels = after.map((c) => (c.kind === 'exec' ? c.options.label : `${c.kind} ${'name' in c ? c.name : ''}`));
    const undo = labels.filter((l) => /^(qmp quit|stop qemu|remove tap|restore hugepages)/.test(l ?? ''));
    // This fake answers 'alive' for the KVM attempt too, so its stop runs again: harmless, and still before the tap goes.
    expect(undo).to.deep.equal(['qmp quit', 'stop qemu-guest-1', 'qmp quit', 'stop qemu-guest-0', 'remove tap vmtap-gi', 'restore hugepages on host (2048 kB pages 0 -> 512)']);
  });

  it('on a real pod: a guest that does not boot under KVM is an error naming what the console showed, never TCG', async () => {
    const host = fakeHost({ kvmDevice: true, kernel: ['timeout'] });
    const { cleanup, promise } = await launchOn(host, false);
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(GuestLaunchError);
    expect((error as Error).message).to.match(/did not boot: KVM: no kernel output within 20 s/);
    expect((error as Error).message).to.contain('never emulated');
    expect(host.callsOf('start')).to.have.length(1);
    await cleanup.unwind();
  });

  it('refuses a pinning the kernel did not apply, naming the thread', async () => {
    const placement = fixture('placement-probe-util-linux-2.38.txt').replace("pid 4908's current scheduling policy: SCHED_FIFO", "pid 4908's current scheduling policy: SCHED_OTHER");
    const host = fakeHost({ kvmDevice: false, kernel: ['reached'], placement });
    const { cleanup, promise } = await launchOn(host, true);
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/pinning did not take: vCPU 1 is SCHED_OTHER 1, not SCHED_FIFO 1/);
    await cleanup.unwind();
  });

  it('with pin_threads: false pins nothing and records where the kernel put the threads', async () => {
    const unpinned = { ...guest, launch: { ...launch, pinThreads: false } };
    const host = fakeHost({ kvmDevice: false, kernel: ['reached'], placement: fixture('placement-probe-util-linux-2.38.txt').replaceAll('Cpus_allowed_list:\t1', 'Cpus_allowed_list:\t0-1') });
    const cleanup = new CleanupStack();
    const record = await launchGuest({ pod: pod(true), guest: unpinned, host, ctx: { cleanup, dryRun: false }, log: () => {} });
    expect(host.callsOf('exec').map((c) => c.options.label)).not.to.include('pin the threads of guest guest');
    expect(record.vcpus.map((v) => v.hostCpus)).to.deep.equal([[0], [0, 1]]);
    await cleanup.unwind();
  });

  it('names the stage a guest stalled in when it never comes up', async () => {
    const host = fakeHost({ kvmDevice: false, kernel: ['reached'], ready: 'timeout' });
    const { cleanup, promise } = await launchOn(host, true);
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/did not come up within 300 s under TCG: the guest reached userspace but never reported ready; last console line: ".*powernow_k8/);
    await cleanup.unwind();
  });

  it('gives the VM its macvtap links from boot, as descriptors the start command opens, and records every NIC at its slot', async () => {
    const links = readFileSync(new URL('../topology/fixtures/ip-link-restored.json', import.meta.url), 'utf8').replaceAll('"kbh0"', '"g0"');
    const withNics = resolveLaunch(
      launchSchema.parse({ kernel: '/img/vmlinuz', initrd: '/img/initrd.img', image: '/img/rootfs.img', vcpus: 2, memory_mb: 1024, rt_vcpus: '1', vcpu_pins: '1', emulator_cpus: '0', nics: [{ port: 'gi', tap: 'vmtap-gi', bridge: 'vmbr-gi' }, { port: 'g0', macvtap: 'g0' }, { port: 'v0', vhost_user: true }] }),
    );
    const ports = [...guest.ports, { name: 'g0', interface: 'g0', mac: '02:88:e7:03:03:00', peer: 'tgen:t2' }, { name: 'v0', interface: 'v0', mac: '02:88:e7:07:03:00' }];
    const vmGuest = { ...guest, ports, launch: withNics };
    const base = fakeHost({ kvmDevice: false, kernel: ['reached'] });
    const host = new FakeNodeSession(hostNode, {
      exec: (command: string, options: ExecOptions) => {
        // The macvtap's device numbers, as the lab kernel 6.18.44 gave them (246:1).
        if (options.label === 'add macvtap kfnmv-g0 on g0') return { stdout: 'macvtap-dev 246:1\n' };
        if (options.label === 'macvtap kfnmv-g0?') return { stdout: 'no\n' };
        if (options.label === 'users of g0?') return { stdout: '0\n' };
        if (command === 'ip -j link show') return { stdout: links };
        return base.handlers.exec?.(command, options);
      },
    });
    const cleanup = new CleanupStack();
    const record = await launchGuest({ pod: pod(true), guest: vmGuest as typeof guest, host, ctx: { cleanup, dryRun: false }, log: () => {} });
    const start = host.callsOf('start')[0]!;
    expect(start.raw).to.have.property('script');
    expect(start.command).to.contain('exec 3<>/tmp/kfn-test-run/guest-guest/kfnmv-g0.tap');
    expect(start.command).to.contain('tap,id=g0,fd=3,vhost=off').and.contain('virtio-net-pci,netdev=g0,addr=0x11,mac=02:88:e7:03:03:00,mrg_rxbuf=off');
    expect(start.command).not.to.contain('vhost-user');
    expect(record.nics).to.deep.equal([
      { port: 'gi', kind: 'tap', guestPci: '0000:00:10.0', hostInterface: 'vmtap-gi' },
      { port: 'g0', kind: 'macvtap', guestPci: '0000:00:11.0', hostInterface: 'g0' },
      { port: 'v0', kind: 'vhost-user', guestPci: '0000:00:12.0', vhostSocket: '/tmp/kfn-test-run/guest-guest/v0.sock' },
    ]);
    expect(record.nicOptions.v0).to.include({ vectors: '0', mrg_rxbuf: 'off' });
    expect(record.qmpSocket).to.equal('/tmp/kfn-test-run/guest-guest/qmp.sock');
    await cleanup.unwind();
    const undo = host.callsOf('exec').map((c) => c.options.label).filter((l) => /^(remove macvtap|restore link flags|remove tap)/.test(l ?? ''));
    // The macvtap goes before the link it sat on gets its flags back (passthru set it promiscuous).
    expect(undo).to.deep.equal(['remove macvtap kfnmv-g0', 'restore link flags of g0 on host', 'remove tap vmtap-gi']);
  });

  it('passes VFs through on a real pod: created on a PF that has none, set up, bound to vfio-pci, all undone', async () => {
    const sriov = (name: string) => readFileSync(new URL(`../../fixtures/sriov/${name}`, import.meta.url), 'utf8');
    const withVfs = resolveLaunch(
      launchSchema.parse({ kernel: '/img/vmlinuz', initrd: '/img/initrd.img', image: '/img/rootfs.img', vcpus: 2, memory_mb: 1024, rt_vcpus: '1', vcpu_pins: '1', emulator_cpus: '0', accelerator: 'tcg', nics: [{ port: 'x0', vf: { pf: 'ens1f0', vf: 0 } }, { port: 'x1', vf: { pf: 'ens1f0', vf: 1, vlan: 100 } }] }),
    );
    const ports = [{ name: 'x0', mac: '02:6b:66:6e:00:01' }, { name: 'x1', mac: '02:6b:66:6e:00:02' }];
    const vmGuest = { ...guest, ports, launch: withVfs };
    const base = fakeHost({ kvmDevice: false, kernel: ['reached'] });
    const probes = ['pf_pci=0000:3b:00.0\npf_driver=i40e\ntotalvfs=64\nnumvfs=0\n', sriov('sysfs-i40e-2vfs.probe.txt')];
    const links = [sriov('ip-d-link-show-no-vfs.txt').replaceAll('ens1f1', 'ens1f0'), sriov('ip-d-link-show-i40e-2vfs.txt')];
    const changes: string[] = [];
    const host = new FakeNodeSession(hostNode, {
      exec: (command: string, options: ExecOptions) => {
        if (command.startsWith('set -u\ndev=')) return { stdout: probes.length > 1 ? probes.shift()! : probes[0]! };
        if (command === 'ip -d link show dev ens1f0') return { stdout: links.length > 1 ? links.shift()! : links[0]! };
        if (command.startsWith('cur=$(cat')) changes.push(`numvfs ${/echo (\d+) >/.exec(command.split('\n').slice(-2).join('\n'))?.[1]}`);
        if (command.startsWith('ip link set dev ens1f0 vf')) changes.push(command);
        if (command.includes("printf 'pci %s")) return { stdout: 'pci 0000:3b:02.0 iavf (null) -\npci 0000:3b:02.1 iavf (null) -\nnot-loaded\n' };
        if (command.includes('/driver_override')) changes.push(command.includes('drivers_probe || true') ? 'bind vfio-pci' : 'bind restore');
        return base.handlers.exec?.(command, options);
      },
    });
    const cleanup = new CleanupStack();
    const record = await launchGuest({ pod: pod(false), guest: vmGuest as typeof guest, host, ctx: { cleanup, dryRun: false }, log: () => {} });
    expect(host.callsOf('start')[0]?.command).to.contain('vfio-pci,host=0000:3b:02.0,id=x0,addr=0x10').and.contain('vfio-pci,host=0000:3b:02.1,id=x1,addr=0x11');
    expect(record.nics?.map((n) => `${n.port} ${n.kind} ${n.hostPci} -> ${n.guestPci}`)).to.deep.equal(['x0 vf 0000:3b:02.0 -> 0000:00:10.0', 'x1 vf 0000:3b:02.1 -> 0000:00:11.0']);
    expect(changes).to.deep.equal(['numvfs 2', 'ip link set dev ens1f0 vf 0 mac 02:6b:66:6e:00:01 vlan 0 spoofchk off trust on', 'ip link set dev ens1f0 vf 1 mac 02:6b:66:6e:00:02 vlan 100 spoofchk off trust on', 'bind vfio-pci']);
    changes.length = 0;
    await cleanup.unwind();
    // Each VF back as read after its creation (the recorded i40e listing), then the VFs removed.
    expect(changes).to.deep.equal(['bind restore', 'ip link set dev ens1f0 vf 1 mac 00:00:00:00:00:00 vlan 0 spoofchk on trust off', 'ip link set dev ens1f0 vf 0 mac 02:6b:66:6e:00:01 vlan 100 spoofchk off trust on', 'numvfs 0']);
  });
});
