// The lab pod with its VM guest, as `lab up` writes it, and what the launcher records for that
// VM: shared by the tests of the guest's VNF, its vhost-user NICs and the topologies.
import { load } from 'js-yaml';
import { buildPod } from '../../../lib/config/pod.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { buildPodYaml } from '../../../lib/lab/files.ts';
import { buildLabPlan } from '../../../lib/lab/plan.ts';
import type { GuestLaunchRecord } from '../../../lib/results/model.ts';

const image = { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', rootfs: '/img/rootfs.img', accessKey: '/img/id_ed25519', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` };

/** The lab pod with its VM guest, as `lab up` writes it. */
export function buildVmLabPod(): Pod {
  const plan = buildLabPlan({ realRoot: '/work/checkout', octet: 7, cpuCount: 2, guest: 'vm' });
  return buildPod(load(buildPodYaml(plan, image)), { file: '/work/checkout/.lab/pod.yaml', env: {} });
}

/** What the launcher records for the lab's VM: each NIC at the slot of its place in launch.nics. */
export function buildVmRecord(): GuestLaunchRecord {
  const dir = '/tmp/kfn-test-run/guest-guest';
  return {
    hostNode: 'host',
    accelerator: 'tcg',
    acceleratorReason: 'auto on the lab pod: /dev/kvm is there and the guest booted under KVM (KVM: ...)',
    emulated: true,
    qemuBinary: '/usr/bin/qemu-system-x86_64',
    qemuVersion: '7.2.22',
    kernelRelease: '6.1.0-57-rt-amd64',
    kernelCmdline: 'root=/dev/vda rw console=ttyS0 isolcpus=1 nohz_full=1 rcu_nocbs=1',
    bootSeconds: 40,
    command: [],
    nicOptions: { gi: { mac: '02:00:00:00:05:02' }, g0: { mac: 'x', mrg_rxbuf: 'off' }, g1: { mac: 'y', mrg_rxbuf: 'off' }, v0: { mac: 'z', mrg_rxbuf: 'off' }, v1: { mac: 'w', mrg_rxbuf: 'off' } },
    nics: [
      { port: 'gi', kind: 'tap', guestPci: '0000:00:10.0', hostInterface: 'vmtap-gi' },
      { port: 'g0', kind: 'macvtap', guestPci: '0000:00:11.0', hostInterface: 'g0' },
      { port: 'g1', kind: 'macvtap', guestPci: '0000:00:12.0', hostInterface: 'g1' },
      { port: 'v0', kind: 'vhost-user', guestPci: '0000:00:13.0', vhostSocket: `${dir}/v0.sock` },
      { port: 'v1', kind: 'vhost-user', guestPci: '0000:00:14.0', vhostSocket: `${dir}/v1.sock` },
    ],
    qmpSocket: `${dir}/qmp.sock`,
    vcpus: [],
    threads: [],
  };
}

