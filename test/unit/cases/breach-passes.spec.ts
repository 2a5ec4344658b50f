// The diagnostic pass after a broken max, with fake nodes answering with recorded outputs
// (test/fixtures/ftrace): when it runs at all, what it runs, what it keeps, and that a guest's
// breach reads its vCPU's host CPU too.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Limit } from '../../../lib/config/thresholds.ts';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { traceTimerBreach } from '../../../lib/cases/breach-passes.ts';
import type { LatencySummary, NodeSystemInfo } from '../../../lib/results/model.ts';
import { buildFakeNode, FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';
import { buildTestProfile } from '../../support/fake-scope.ts';
import { buildFakeContext, buildLabPod, type FakeContext } from './device-interrupt-fakes.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ftrace/${name}`, import.meta.url), 'utf8');
const LIMIT: Limit = { metric: 'max', max: 50, unit: 'ms', action: 'assert' };
const SETUP = 'tracefs /sys/kernel/tracing mounted_by_kfn=1 buffer_kb_per_cpu=8192\nevent sched/sched_switch\nno event kvm/kvm_entry\n';

function summaryWithMax(max: number): LatencySummary {
  return { unit: 'us', samples: 3000, min: 10, avg: 50, max, p50: 40, p99: 90, p999: 200, p9999: max, notes: {}, overflows: 0, maxIsLowerBound: false };
}

// A node whose pass writes the cyclictest -b output and trace of the fixture (or `trace` instead).
function passNode(node: PodNode, trace = fixture('cyclictest-break-hog60.trace.txt'), stdout = fixture('cyclictest-break-hog60.stdout.txt')): FakeNodeSession {
  const handlers: FakeHandlers = {
    outcome: () => ({ exitCode: 0, stdout: SETUP }),
    download: (path) => {
      if (path.endsWith('-pass.out')) return Buffer.from(stdout);
      if (path.endsWith('.trace')) return Buffer.from(trace);
      throw new Error(`no file ${path}`);
    },
  };
  return new FakeNodeSession(node, handlers);
}

function context(sessions: Record<string, FakeNodeSession>, options: { traceOnBreach?: boolean; sections?: Record<string, unknown>; info?: Record<string, NodeSystemInfo> } = {}): FakeContext {
  const base = buildFakeContext({ pod: buildLabPod(7), sessions, limits: [LIMIT] });
  return Object.assign(base, {
    caseName: 'timer',
    traceOnBreach: options.traceOnBreach ?? true,
    thresholds: buildTestProfile([LIMIT], options.sections ?? {}),
    nodeInfo: (name: string) => options.info?.[name],
  });
}

const host = buildFakeNode({ name: 'host', role: 'host', declaredRole: 'Compute', rtCpus: [1], housekeepingCpus: [0] });
const TIMER = { binary: '/usr/bin/cyclictest', mainCpu: 0, intervalUs: 10000, priority: 99, histogramUs: 1000 };

describe('cases/breach-passes (trace at a breach)', () => {
  it('does nothing at all when the max held, or when tracing at a breach is off', async () => {
    const session = passNode(host);
    expect(await traceTimerBreach(context({ host: session }), host, { ...TIMER, overall: summaryWithMax(40_000) })).to.equal(undefined);
    expect(await traceTimerBreach(context({ host: session }, { traceOnBreach: false }), host, { ...TIMER, overall: summaryWithMax(90_000) })).to.equal(undefined);
    expect(session.calls).to.deep.equal([]);
  });

  it("is on through the profile's trace_on_breach section too", async () => {
    const on = context({ host: passNode(host) }, { traceOnBreach: false, sections: { trace_on_breach: { cases: ['timer'], pass_s: 20 } } });
    const d = await traceTimerBreach(on, host, { ...TIMER, overall: summaryWithMax(90_000) });
    expect(d?.pass.boundS).to.equal(20);
  });

  it('runs cyclictest -b <limit> under kfn-trace on the RT CPUs, and blames rt-hog in its text', async () => {
    const session = passNode(host);
    const ctx = context({ host: session });
    const d = await traceTimerBreach(ctx, host, { ...TIMER, overall: summaryWithMax(90_000) });
    const [upload] = session.callsOf('upload');
    expect(upload?.path).to.equal('/tmp/kfn-test-run/kfn-trace-host');
    expect(upload?.mode).to.equal(0o755);
    expect(upload?.content).to.include('echo 2 > "$I/tracing_cpumask"');
    expect(upload?.content).to.match(/\/usr\/bin\/cyclictest -m -q -p99 -i10000 -h 1000 -a 1 -t 1 --mainaffinity=0 -D 60 -b 50000 --json=\S+ >\/tmp\/kfn-test-run\/host-pass.out 2>&1 &/);
    expect(session.callsOf('start').map((c) => [c.name, c.command])).to.deep.equal([['kfn-trace-host', '/tmp/kfn-test-run/kfn-trace-host']]);
    expect(d?.limit).to.equal('max ≤ 50 ms (assert)');
    expect(d?.pass).to.include({ recurred: true, boundS: 60, note: 'thread 0 on CPU 1 broke at 57280 us' });
    expect(d?.summary?.culprit?.name).to.equal('rt-hog');
    expect(d?.tracing).to.deep.include({ mountedByKfn: true, missingEvents: ['kvm/kvm_entry'] });
    // The culprit first: the JUnit message attribute keeps 500 characters.
    expect(d?.text).to.match(/^Trace at the breach: Culprit: rt-hog \(pid 11172, rt prio 99\) ran 59\.\d ms \(57\.\d ms of it in the window\), on CPU 1 in the 57\.\d ms before cyclictest \(pid 11176\) got its CPU, 57\.\d ms late\./);
    expect(d?.text).to.include('(Diagnostic pass after max ≤ 50 ms (assert) broke: cyclictest for up to 60 s, thread 0 on CPU 1 broke at 57280 us.)');
    expect(d?.traceFiles).to.deep.equal(['timer/host/trace-breach.txt']);
    expect(ctx.raws.get('host/trace-breach.txt')).to.match(/^# kvmfornfv: host CPU 1/);
    // The instance's removal is an undo step of the case, registered before the script went up.
    await ctx.cleanup.unwind();
    const undo = session.callsOf('exec').find((c) => c.command.includes('instances/kfn-20261125-120000-abcd-host'));
    expect(undo?.command).to.include('rmdir "$I"');
  });

  it('says so, and keeps no trace, when the breach did not come back in the pass', async () => {
    const calm = fixture('cyclictest-break-hog60.stdout.txt').replace(/# Thread Ids:.*\n# Break thread: \d+\n# Break value: \d+\n?/, '');
    const ctx = context({ host: passNode(host, fixture('cyclictest-break-hog60.trace.txt'), calm) });
    const d = await traceTimerBreach(ctx, host, { ...TIMER, overall: summaryWithMax(90_000) });
    expect(d?.pass).to.include({ recurred: false, note: 'the breach did not recur (no sample above 50000 us)' });
    expect(d?.summary).to.equal(undefined);
    expect([...ctx.raws.keys()].filter((k) => k.includes('trace'))).to.deep.equal([]);
  });

  it("reads a launched guest's RT vCPU host CPU beside the guest's pass, and blames what kept the vCPU thread off it", async () => {
    const guest = buildFakeNode({ name: 'guest', role: 'guest', rtCpus: [1], housekeepingCpus: [0], hostNode: 'host' });
    // The host side: the oslat fixture plays a vCPU thread (pid 16757) on host CPU 1, preempted by rt-hog.
    const hostSession = new FakeNodeSession(host, { outcome: () => ({ exitCode: 0, stdout: SETUP }), download: () => Buffer.from(fixture('oslat-hog60.trace.txt')) });
    const launch = { hostNode: 'host', vcpus: [{ index: 0, tid: 100, rt: false, hostCpus: [0], policy: 'SCHED_OTHER', priority: 0 }, { index: 1, tid: 16757, rt: true, hostCpus: [1], policy: 'SCHED_FIFO', priority: 1 }] };
    const ctx = context({ guest: passNode(guest), host: hostSession }, { info: { guest: { launch } as unknown as NodeSystemInfo } });
    const d = await traceTimerBreach(ctx, guest, { ...TIMER, overall: summaryWithMax(90_000) });
    expect(hostSession.callsOf('start').map((c) => c.name)).to.deep.equal(['kfn-trace-guest-host']);
    expect(hostSession.callsOf('upload')[0]?.content).to.include('kvm/kvm_entry');
    expect(hostSession.callsOf('exec').some((c) => c.command === 'touch /tmp/kfn-test-run/kfn-trace-guest-host.stop')).to.equal(true);
    expect(d?.host).to.deep.include({ node: 'host', cpu: 1, vcpuThread: 16757 });
    expect(d?.host?.summary?.culprit?.name).to.equal('rt-hog');
    expect(d?.text).to.match(/On host host, for vCPU thread 16757: Culprit: rt-hog .* on CPU 1 in the 60\.\d ms before oslat \(pid 16757\) had its CPU back/);
    expect(d?.traceFiles).to.deep.equal(['timer/guest/trace-breach.txt', 'timer/guest/trace-breach-host-cpu1.txt']);
  });

  it('names why the host side was not traced for a guest the harness did not launch', async () => {
    const guest = buildFakeNode({ name: 'guest', role: 'guest', rtCpus: [1], housekeepingCpus: [0], hostNode: 'host' });
    const d = await traceTimerBreach(context({ guest: passNode(guest) }), guest, { ...TIMER, overall: summaryWithMax(90_000) });
    expect(d?.host?.reason).to.match(/known only for a guest the harness launched/);
    expect(d?.text).to.include('Host side not traced');
  });

  it('never throws: a trace that cannot be read becomes the reason in the text', async () => {
    const d = await traceTimerBreach(context({ host: passNode(host, 'garbage') }), host, { ...TIMER, overall: summaryWithMax(90_000) });
    expect(d?.summary).to.equal(undefined);
    expect(d?.text).to.match(/^Trace at the breach: no summary \(cannot parse ftrace output/);
  });
});
