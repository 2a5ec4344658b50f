import { expect } from 'chai';
import { buildQemuCommand, buildQemuStartScript, buildVhostUserHotplug, escapeOptionValue, FORWARDING_VIRTIO_OPTIONS, KVM_CPU, QemuSpecError, type QemuLaunchSpec } from '../../../../lib/tools/qemu/command.ts';

// The lab's launch, as it booted the RT guest under QEMU 7.2.22 (test/fixtures/qemu/README.md).
const lab: QemuLaunchSpec = {
  binary: '/usr/bin/qemu-system-x86_64',
  guestName: 'guest',
  processName: 'kfn-vm-guest',
  accelerator: 'tcg',
  vcpus: 2,
  memoryMb: 1024,
  hugepagePath: '/dev/hugepages',
  memLock: true,
  kernel: '/img/vmlinuz',
  initrd: '/img/initrd.img',
  append: 'root=/dev/vda rw console=ttyS0 isolcpus=1 nohz_full=1 rcu_nocbs=1',
  image: '/img/rootfs.img',
  imageFormat: 'raw',
  snapshot: true,
  management: { forwardPort: 10022, mac: '52:54:00:6b:66:6e' },
  nics: [{ kind: 'tap', id: 'gi', mac: '02:88:e7:05:02:00', tap: 'vmtap-gi' }],
  consolePath: '/tmp/kfn-r/guest-guest/console-1.log',
  qmpPath: '/tmp/kfn-r/guest-guest/qmp.sock',
};
const option = (argv: string[], name: string) => argv.filter((_, i) => argv[i - 1] === name);

describe('tools/qemu buildQemuCommand', () => {
  it('under TCG: multi-threaded TCG, -cpu max, named kfn-*, thread names on for the audit', () => {
    const { argv } = buildQemuCommand(lab);
    expect(option(argv, '-accel')).to.deep.equal(['tcg,thread=multi']);
    expect(option(argv, '-cpu')).to.deep.equal(['max']);
    expect(option(argv, '-name')).to.deep.equal(['guest=guest,process=kfn-vm-guest,debug-threads=on']);
    expect(option(argv, '-smp')).to.deep.equal(['2,sockets=1,cores=2,threads=1']);
  });

  it("under KVM: the anchors' CPU model; memory on hugetlbfs, shared, preallocated, locked (-realtime mlock=on is gone in 7.2)", () => {
    const { argv } = buildQemuCommand({ ...lab, accelerator: 'kvm' });
    expect(option(argv, '-accel')).to.deep.equal(['kvm']);
    expect(option(argv, '-cpu')).to.deep.equal([KVM_CPU]);
    expect(KVM_CPU).to.equal('host,migratable=off,+invtsc,+tsc-deadline,pmu=off');
    expect(option(argv, '-object')).to.deep.equal(['memory-backend-file,id=ram0,size=1024M,mem-path=/dev/hugepages,share=on,prealloc=on']);
    expect(option(argv, '-machine')).to.deep.equal(['pc,memory-backend=ram0']);
    expect(option(argv, '-overcommit')).to.deep.equal(['mem-lock=on']);
    expect(argv).not.to.include('-realtime');
  });

  it('without hugepages: anonymous RAM, and no lock when not asked', () => {
    const { argv } = buildQemuCommand({ ...lab, hugepagePath: undefined, memLock: false } as QemuLaunchSpec);
    expect(option(argv, '-object')).to.deep.equal(['memory-backend-ram,id=ram0,size=1024M']);
    expect(argv).not.to.include('-overcommit');
  });

  it('boots the kernel directly, from a snapshot of the image, SSH forwarded on loopback, tap NICs without vhost-net', () => {
    const { argv, nicOptions } = buildQemuCommand(lab);
    expect(option(argv, '-kernel')).to.deep.equal(['/img/vmlinuz']);
    expect(option(argv, '-append')).to.deep.equal([lab.append]);
    expect(option(argv, '-drive')).to.deep.equal(['file=/img/rootfs.img,if=virtio,format=raw,snapshot=on']);
    expect(option(argv, '-netdev')).to.deep.equal(['user,id=mgmt,hostfwd=tcp:127.0.0.1:10022-:22', 'tap,id=gi,ifname=vmtap-gi,script=no,downscript=no,vhost=off']);
    expect(option(argv, '-device')).to.deep.equal(['virtio-net-pci,netdev=mgmt,mac=52:54:00:6b:66:6e', 'virtio-net-pci,netdev=gi,mac=02:88:e7:05:02:00']);
    expect(option(argv, '-chardev')).to.deep.equal(['file,id=console,path=/tmp/kfn-r/guest-guest/console-1.log', 'socket,id=qmp,path=/tmp/kfn-r/guest-guest/qmp.sock,server=on,wait=off']);
    expect(nicOptions).to.deep.equal({ gi: { mac: '02:88:e7:05:02:00' } });
  });

  it('plugs vhost-user NICs through QMP, never on the command line (QEMU 7.2 would wait at start for the vswitch)', () => {
    const nic = { kind: 'vhost-user' as const, id: 'v0', mac: '02:00:00:00:00:10', socketPath: '/tmp/kfn-r/guest-guest/v0.sock', deviceOptions: { ...FORWARDING_VIRTIO_OPTIONS }, slot: 0x13 };
    const { argv, nicOptions, hotplug } = buildQemuCommand({ ...lab, nics: [nic] });
    expect(argv.join(' ')).not.to.match(/vhost-user|v0\.sock/);
    // Under TCG without MSI-X: QEMU 7.2 segfaults in msix_set_vector_notifiers when vhost starts without irqfd.
    expect(nicOptions.v0).to.deep.equal({ mac: '02:00:00:00:00:10', vectors: '0', ...FORWARDING_VIRTIO_OPTIONS });
    // The same commands the prototype plugged into QEMU 7.2.22 with OVS 3.1 dpdkvhostuserclient ports waiting.
    expect(hotplug.v0?.plug).to.deep.equal([
      { execute: 'chardev-add', arguments: { id: 'chr-v0', backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: '/tmp/kfn-r/guest-guest/v0.sock' } }, server: true, wait: false } } } },
      { execute: 'netdev_add', arguments: { type: 'vhost-user', id: 'v0', chardev: 'chr-v0' } },
      {
        execute: 'device_add',
        arguments: { driver: 'virtio-net-pci', id: 'dev-v0', netdev: 'v0', addr: '0x13', mac: '02:00:00:00:00:10', vectors: 0, mrg_rxbuf: false, csum: false, guest_csum: false, gso: false, guest_tso4: false, guest_tso6: false, guest_ecn: false },
      },
    ]);
    expect(hotplug.v0?.unplug.map((c) => c.execute)).to.deep.equal(['device_del', 'netdev_del', 'chardev-remove']);
    expect(buildVhostUserHotplug(nic).deviceId).to.equal('dev-v0');
    expect(buildQemuCommand({ ...lab, accelerator: 'kvm', nics: [nic] }).nicOptions.v0).to.not.have.property('vectors');
    expect(() => buildQemuCommand({ ...lab, hugepagePath: undefined, nics: [nic] } as QemuLaunchSpec)).to.throw(QemuSpecError, /hugepage backing/);
  });

  it('hands a macvtap to QEMU as a descriptor the start command opens, with the forwarding options', () => {
    const built = buildQemuCommand({ ...lab, nics: [...lab.nics, { kind: 'macvtap', id: 'g0', mac: '02:88:e7:03:03:00', devicePath: '/tmp/kfn-r/guest-guest/kfnmv-g0.tap', deviceOptions: { ...FORWARDING_VIRTIO_OPTIONS }, slot: 0x11 }] });
    expect(option(built.argv, '-netdev')).to.include('tap,id=g0,fd=3,vhost=off');
    expect(option(built.argv, '-device')).to.include('virtio-net-pci,netdev=g0,addr=0x11,mac=02:88:e7:03:03:00,mrg_rxbuf=off,csum=off,guest_csum=off,gso=off,guest_tso4=off,guest_tso6=off,guest_ecn=off');
    expect(built.fds).to.deep.equal([{ fd: 3, path: '/tmp/kfn-r/guest-guest/kfnmv-g0.tap' }]);
    const script = buildQemuStartScript(built).split('\n');
    expect(script[0]).to.equal('exec 3<>/tmp/kfn-r/guest-guest/kfnmv-g0.tap');
    expect(script[1]).to.match(/^exec \/usr\/bin\/qemu-system-x86_64 -name /);
  });

  it('passes a VF through whole at its slot, and refuses a host address that is not one', () => {
    const { argv, nicOptions } = buildQemuCommand({ ...lab, nics: [{ kind: 'vfio-pci', id: 'g0', hostPci: '0000:3b:02.0', slot: 0x11 }] });
    expect(option(argv, '-device')).to.include('vfio-pci,host=0000:3b:02.0,id=g0,addr=0x11');
    expect(nicOptions.g0).to.deep.equal({ host: '0000:3b:02.0' });
    expect(() => buildQemuCommand({ ...lab, nics: [{ kind: 'vfio-pci', id: 'g0', hostPci: '3b:02.0' }] })).to.throw(QemuSpecError, /host PCI address/);
    expect(() => buildQemuCommand({ ...lab, nics: [{ kind: 'vfio-pci', id: 'g0', hostPci: '0000:3b:02.0', slot: 3 }] })).to.throw(QemuSpecError, /slot/);
  });

  it('doubles commas in paths, so a path cannot add a QEMU option, and refuses newlines', () => {
    expect(escapeOptionValue('/img/a,format=qcow2', 'image')).to.equal('/img/a,,format=qcow2');
    const { argv } = buildQemuCommand({ ...lab, image: '/img/evil,file.locking=off' });
    expect(option(argv, '-drive')).to.deep.equal(['file=/img/evil,,file.locking=off,if=virtio,format=raw,snapshot=on']);
    expect(() => buildQemuCommand({ ...lab, consolePath: '/tmp/x\n/tmp/y' })).to.throw(QemuSpecError, /without newlines/);
  });

  it('refuses a process name Linux would cut, duplicate MACs and odd NIC ids', () => {
    expect(() => buildQemuCommand({ ...lab, processName: 'kfn-vm-a-very-long-guest' })).to.throw(/process name/);
    expect(() => buildQemuCommand({ ...lab, processName: 'vm-guest' })).to.throw(/kfn-/);
    expect(() => buildQemuCommand({ ...lab, nics: [{ kind: 'tap', id: 'gi', mac: lab.management.mac, tap: 't' }] })).to.throw(/MACs must differ/);
    expect(() => buildQemuCommand({ ...lab, nics: [{ kind: 'tap', id: 'mgmt', mac: '02:00:00:00:00:01', tap: 't' }] })).to.throw(/NIC id/);
  });
});
