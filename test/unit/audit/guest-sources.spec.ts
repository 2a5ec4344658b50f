import { expect } from 'chai';
import { ALL_CHECKS } from '../../../lib/audit/index.ts';
import { parseDomainXml, parseQemuOptionValue, readGuestViews } from '../../../lib/audit/guest-sources.ts';
import { createEmptySnapshot, type NodeSnapshot } from '../../../lib/tools/node-snapshot/parse.ts';
import { CONTEXTS } from './node-trees.ts';

const MOUNTS = 'hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n';

// A plain QEMU guest (no libvirt): cmdline as newline-separated args, two vCPU threads.
function plainQemu(args: string[], threads: Array<[number, string, string]>, mounts: string | null = MOUNTS): NodeSnapshot {
  const s = createEmptySnapshot();
  s.files.set('/proc/900/cmdline', `${args.join('\0')}\0`);
  if (mounts !== null) s.files.set('/proc/mounts', mounts);
  for (const [tid, name, cpus] of threads) {
    s.files.set(`/proc/900/task/${tid}/comm`, `${name}\n`);
    s.files.set(`/proc/900/task/${tid}/status`, `Name:\t${name}\nCpus_allowed_list:\t${cpus}\n`);
  }
  return s;
}

const TUNED_ARGS = [
  'qemu-system-x86_64', '-enable-kvm', '-cpu', 'host,+invtsc', '-smp', '2', '-m', '2G',
  '-object', 'memory-backend-file,id=mem,size=2G,mem-path=/dev/hugepages,share=on,prealloc=on', '-numa', 'node,memdev=mem',
  '-overcommit', 'mem-lock=on', '-nographic',
];
const TUNED_THREADS: Array<[number, string, string]> = [[900, 'qemu-system-x86', '0-1'], [901, 'CPU 0/KVM', '2'], [902, 'CPU 1/KVM', '3'], [903, 'worker', '0']];

// The VM forwarding placement checks have their own tests (vm-forwarding-checks.spec.ts).
const VM_FORWARDING = ['guest-placement.ovs-pmd-cpus', 'guest-placement.vnf-vcpu-pinning', 'guest-placement.vhost-user-memory'];
const guestCheck = (id: string) => ALL_CHECKS.find((c) => c.id === id) as (typeof ALL_CHECKS)[number];
const outcomes = (s: NodeSnapshot) =>
  Object.fromEntries(ALL_CHECKS.filter((c) => c.category === 'guest-placement' && !VM_FORWARDING.includes(c.id)).map((c) => [c.id.split('.')[1], c.evaluate(s, CONTEXTS['rt-tuned-host']).outcome]));

describe('guest placement from a plain QEMU process', () => {
  it('passes a tuned command line with pinned threads', () => {
    expect(outcomes(plainQemu(TUNED_ARGS, TUNED_THREADS))).to.deep.equal({
      'vcpu-pinning': 'pass', 'emulator-pinning': 'pass', 'memory-locked': 'pass', 'hugepage-backing': 'pass', 'cpu-model': 'pass',
    });
  });

  it('fails an untuned TCG guest on every count', () => {
    const s = plainQemu(['qemu-system-x86_64', '-m', '512', '-smp', '2', '-kernel', 'vmlinuz'], [[900, 'qemu-system-x86', '0-1'], [901, 'CPU 0/TCG', '0-1'], [902, 'CPU 1/TCG', '0-1']]);
    expect(outcomes(s)).to.deep.equal({
      'vcpu-pinning': 'fail', 'emulator-pinning': 'pass', 'memory-locked': 'fail', 'hugepage-backing': 'fail', 'cpu-model': 'fail',
    });
    expect(guestCheck('guest-placement.cpu-model').evaluate(s, CONTEXTS['rt-tuned-host']).found).to.include('not KVM (TCG)');
  });

  it('accepts the legacy options: -mem-path with -mem-prealloc, -realtime mlock=on, memfd hugetlb', () => {
    const legacy = ['qemu-system-x86_64', '-accel', 'kvm', '-cpu', 'host,invtsc=on', '-mem-path', '/dev/hugepages/vm', '-mem-prealloc', '-realtime', 'mlock=on'];
    expect(outcomes(plainQemu(legacy, TUNED_THREADS))).to.include({ 'memory-locked': 'pass', 'hugepage-backing': 'pass', 'cpu-model': 'pass' });
    const memfd = [...TUNED_ARGS.slice(0, 8), '-object', 'memory-backend-memfd,id=mem,size=2G,hugetlb=on,prealloc=on', '-machine', 'q35,memory-backend=mem'];
    expect(outcomes(plainQemu(memfd, TUNED_THREADS))).to.include({ 'hugepage-backing': 'pass' });
  });

  it('does not count a hugepage backend that is not the guest RAM, nor one without prealloc', () => {
    const unused = TUNED_ARGS.filter((a) => a !== '-numa' && a !== 'node,memdev=mem');
    expect(outcomes(plainQemu(unused, TUNED_THREADS))).to.include({ 'hugepage-backing': 'fail' });
    const lazy = TUNED_ARGS.map((a) => a.replace(',prealloc=on', ''));
    expect(outcomes(plainQemu(lazy, TUNED_THREADS))).to.include({ 'hugepage-backing': 'fail' });
  });

  it('is unknown, not passed, when hugetlbfs cannot be told or threads cannot be read', () => {
    expect(outcomes(plainQemu(TUNED_ARGS, TUNED_THREADS, null))).to.include({ 'hugepage-backing': 'unknown' });
    const s = plainQemu(TUNED_ARGS, TUNED_THREADS);
    s.files.delete('/proc/900/task/902/status');
    expect(outcomes(s)).to.include({ 'vcpu-pinning': 'unknown' });
  });

  it('fails when one vCPU thread shares a CPU with another, or with a QEMU worker', () => {
    expect(outcomes(plainQemu(TUNED_ARGS, [[900, 'qemu-system-x86', '0-1'], [901, 'CPU 0/KVM', '2'], [902, 'CPU 1/KVM', '2']]))).to.include({ 'vcpu-pinning': 'fail' });
    expect(outcomes(plainQemu(TUNED_ARGS, [...TUNED_THREADS, [904, 'vhost-900', '2']]))).to.include({ 'emulator-pinning': 'fail' });
  });
});

describe('parseDomainXml', () => {
  it('reads pins, memory backing and CPU model', () => {
    const view = parseDomainXml('libvirt domain a', `<domain type="kvm"><vcpu>2</vcpu><cputune><vcpupin vcpu="0" cpuset="4"/></cputune>
      <memoryBacking><locked/></memoryBacking><cpu mode="host-model"/></domain>`);
    expect(view.vcpus).to.deep.equal([{ index: 0, cpus: [4] }, { index: 1, cpus: 'unpinned' }]);
    expect(view.others).to.deep.equal([{ name: 'emulator threads', cpus: 'unpinned' }]);
    expect(view).to.include({ kvm: true, memLocked: true, hugepages: false, prealloc: false, passthrough: false, invtsc: false });
  });

  it('rejects a truncated document', () => {
    expect(parseDomainXml('x', "<domain type='kvm'><vcpu>2").invalid).to.match(/not a complete <domain>/);
  });

  it('ignores commented-out settings', () => {
    const view = parseDomainXml('x', "<domain type='kvm'><memoryBacking><!-- <locked/> --></memoryBacking></domain>");
    expect(view.memLocked).to.equal(false);
  });
});

describe('parseQemuOptionValue', () => {
  it('reads key=value lists with escaped commas, +flags and the JSON form', () => {
    expect(parseQemuOptionValue('host,+invtsc,-vmx,migratable=off')).to.deep.equal({ positional: 'host', props: { invtsc: 'on', vmx: 'off', migratable: 'off' } });
    expect(parseQemuOptionValue('memory-backend-file,id=m,mem-path=/dev/huge,,pages')).to.deep.equal({ positional: 'memory-backend-file', props: { id: 'm', 'mem-path': '/dev/huge,pages' } });
    expect(parseQemuOptionValue('{"qom-type":"memory-backend-file","id":"m","prealloc":true}')).to.deep.equal({ positional: 'memory-backend-file', props: { 'qom-type': 'memory-backend-file', id: 'm', prealloc: 'on' } });
    expect(parseQemuOptionValue('{"broken')).to.deep.equal({ positional: undefined, props: {} });
  });
});

describe('readGuestViews', () => {
  it('finds no guest in an empty snapshot, and marks unreadable sources invalid', () => {
    expect(readGuestViews(createEmptySnapshot())).to.deep.equal([]);
    const s = createEmptySnapshot();
    s.commands.set('virsh-dumpxml.vm', { exitCode: 1, stdout: 'error: failed to connect to the hypervisor\n' });
    s.errors.set('/proc/5/cmdline', 'No such process');
    const views = readGuestViews(s);
    expect(views.map((v) => v.label)).to.deep.equal(['libvirt domain vm', 'QEMU pid 5']);
    expect(views.every((v) => v.invalid !== undefined)).to.equal(true);
  });

  it('skips an exiting QEMU whose command line is already empty', () => {
    const s = createEmptySnapshot();
    s.files.set('/proc/6/cmdline', '');
    expect(readGuestViews(s)).to.deep.equal([]);
  });

  it('says where hugetlbfs is when a QEMU memory path is not on it', () => {
    const s = plainQemu(TUNED_ARGS.map((a) => a.replace('mem-path=/dev/hugepages', 'mem-path=/dev/shm/vm')), TUNED_THREADS);
    const result = guestCheck('guest-placement.hugepage-backing').evaluate(s, CONTEXTS['rt-tuned-host']);
    expect(result.found).to.include('/dev/shm/vm (not on hugetlbfs)');
    expect(result.fix).to.include('hugetlbfs is at /dev/hugepages');
  });
});
