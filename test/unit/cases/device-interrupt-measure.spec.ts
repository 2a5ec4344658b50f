import { expect } from 'chai';
import { MeasurementError, ToolOutputParseError } from '../../../lib/errors.ts';
import { DryRunStop } from '../../../lib/harness/dry-run.ts';
import { measureDeviceInterrupt } from '../../../lib/cases/device-interrupt.ts';
import { LAB_DEVICE, parseDeviceInterruptArgs, planDeviceInterrupt, type DeviceInterruptPlan } from '../../../lib/cases/device-interrupt-plan.ts';
import { buildStreamId } from '../../../lib/tools/irq-agent/command.ts';
import { buildFakeNode, FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';
import { buildFakeContext, buildLabPod, fixtureLine, type FakeContext } from './device-interrupt-fakes.ts';

const RUN_ID = '20261125-120000-abcd';
const STREAM = buildStreamId(RUN_ID);
const withStream = (d: Record<string, any>) => void (d.stream_id = STREAM);
const GEN_OUT = fixtureLine('loopback-skip2.irqgen.json', withStream);
const RECV_OUT = fixtureLine('loopback-skip2.irqrecv.json', (d) => {
  withStream(d);
  d.stopped_by = 'SIGINT';
});

interface Rig {
  ctx: FakeContext;
  guest: FakeNodeSession;
  tgen: FakeNodeSession;
  plan: DeviceInterruptPlan;
  args: ReturnType<typeof parseDeviceInterruptArgs>;
  /** Every session call and raw write, in order, as `<node> <kind> <name or command>`. */
  log: string[];
}

function buildRig(options: { raw?: Record<string, unknown>; guest?: FakeHandlers; tgen?: FakeHandlers; dryRun?: boolean } = {}): Rig {
  const pod = buildLabPod(7);
  const args = parseDeviceInterruptArgs({ duration_s: 2, skip_seq: [500, 1500], ...options.raw });
  const planned = planDeviceInterrupt(pod, args);
  if ('skip' in planned) throw new Error(planned.skip);
  const log: string[] = [];
  const common = (node: string): FakeHandlers => ({
    exec: (c) => {
      if (c.includes('kfn-agent-cache')) return { stdout: 'kfn-agent-cache hit\t/var/cache/kvmfornfv/agents\n' };
      if (c.endsWith('--version')) return { stdout: `${node === 'guest' ? 'kfn-irqrecv' : 'kfn-irqgen'} 1.0.0\n` };
      if (c.includes("grep -q '^kfn-irqrecv: ready '")) {
        log.push(`${node} wait ready ${/-lt (\d+)/.exec(c)?.[1]}`);
        return { stdout: 'kfn-irqrecv: ready 198.19.7.2:47900\n' };
      }
      return undefined;
    },
    outcome: (name) => {
      log.push(`${node} stop ${name}`);
      const window = { startMs: 1_767_225_600_000, endMs: 1_767_225_602_000 + (name.startsWith('kfn-irqrecv') ? 500 : 0) };
      return { stdout: name === 'kfn-irqgen-guest' ? GEN_OUT : RECV_OUT, exitCode: 0, window };
    },
    start: (name) => void log.push(`${node} start ${name}`),
  });
  const guest = new FakeNodeSession(buildFakeNode({ name: 'guest' }), { ...common('guest'), ...options.guest });
  const tgen = new FakeNodeSession(buildFakeNode({ name: 'tgen', role: 'tgen' }), { ...common('tgen'), ...options.tgen });
  const ctx = buildFakeContext({ pod, sessions: { guest, tgen }, runId: RUN_ID, dryRun: options.dryRun ?? false });
  const write = ctx.writeRaw.bind(ctx);
  ctx.writeRaw = async (path, content) => {
    log.push(`raw ${path}`);
    return write(path, content);
  };
  return { ctx, guest, tgen, plan: planned.plan, args, log };
}

const failure = (p: Promise<unknown>) => p.then(() => expect.fail('expected a rejection'), (e: unknown) => e);

describe('cases/device-interrupt procedure with fake nodes', () => {
  it('starts the receiver, waits for its ready line, runs the generator, stops the receiver, keeps raw outputs, records details', async () => {
    const rig = buildRig();
    const m = await measureDeviceInterrupt(rig.ctx, rig.plan, rig.args);
    const order = rig.log.filter((l) => /start|stop|ready|raw/.test(l));
    expect(order).to.deep.equal([
      'guest start kfn-irqrecv-guest',
      'guest wait ready 150',
      'tgen start kfn-irqgen-guest',
      'tgen stop kfn-irqgen-guest',
      'guest stop kfn-irqrecv-guest',
      'raw tgen/kfn-irqgen-guest.stdout',
      'raw tgen/kfn-irqgen-guest.stderr',
      'raw guest/kfn-irqrecv.stdout',
      'raw guest/kfn-irqrecv.stderr',
    ]);
    // The lab's agents are cached in its state folder, which `lab down` removes.
    expect(rig.guest.callsOf('exec')[0]!.command).to.contain('for d in /work/checkout/.lab/agents; do');
    const recv = rig.guest.callsOf('start')[0]!.command;
    expect(recv).to.match(/^\/var\/cache\/kvmfornfv\/agents\/kfn-irqrecv-[0-9a-f]{64}\/kfn-irqrecv\/kfn-irqrecv --port 47900 --clock-domain same-host --bind 198\.19\.7\.2 /);
    expect(recv).to.contain(`--stream-id ${STREAM} --expect 2000 --duration 123 --cpu 1 --priority 95`);
    const gen = rig.tgen.callsOf('start')[0]!.command;
    expect(gen).to.contain('--dest 198.19.7.2 --port 47900 --period-ns 1000000 --count 2000');
    expect(gen).to.contain(`--stream-id ${STREAM} --iface ti --skip-seq 500,1500 --cpu 0 --priority 95`);
    expect(rig.guest.callsOf('stop').map((s) => s.signal)).to.deep.equal(['INT']);
    expect(m.details).to.deep.include({ device: LAB_DEVICE, timestamp_kind: 'software' });
    expect(m.details.counts).to.deep.include({ sent: 1998, withheld: 2, missed_seqs: 2, missed: 0 });
    expect(rig.ctx.details.guest).to.have.property('generator_node', 'tgen');
    expect(rig.ctx.tools).to.deep.equal([['guest', 'kfn-irqrecv', '1.0.0'], ['tgen', 'kfn-irqgen', '1.0.0']]);
    expect(rig.ctx.raws.get('guest/kfn-irqrecv.stdout')).to.equal(RECV_OUT);
    // Each agent's window, as its node's clock gave it, for results.json.
    expect(rig.ctx.events.filter((e) => e.startsWith('window'))).to.deep.equal(['window tgen kfn-irqgen 2000 ms', 'window guest kfn-irqrecv 2500 ms']);
  });

  it('writes every raw output before a parse failure, and the failure names the output', async () => {
    const truncated = RECV_OUT.slice(0, 500);
    const rig = buildRig({ guest: { outcome: () => ({ stdout: truncated, exitCode: 0 }) } });
    const error = await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect(error).to.be.instanceOf(ToolOutputParseError);
    expect((error as Error).message).to.contain('guest:kfn-irqrecv stdout');
    expect(rig.ctx.raws.get('guest/kfn-irqrecv.stdout')).to.equal(truncated);
    expect(rig.ctx.raws.get('tgen/kfn-irqgen-guest.stdout')).to.equal(GEN_OUT);
    expect(rig.ctx.details).to.deep.equal({});
  });

  it('stops the receiver and starts no generator when the receiver never becomes ready', async () => {
    const rig = buildRig({
      guest: {
        exec: (c) => (c.includes('kfn-agent-cache') ? { stdout: 'kfn-agent-cache hit\t/c\n' } : c.includes('grep -q') ? { exitCode: 3, stdout: '' } : undefined),
        outcome: () => ({ exitCode: 1, stderr: 'kfn-irqrecv: cannot bind UDP 198.19.7.2 port 47900: Address already in use\n', stdout: '' }),
      },
    });
    const error = await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/kfn-irqrecv on guest never printed its ready line \(exit code 1\): kfn-irqrecv: cannot bind/);
    expect(rig.tgen.callsOf('start')).to.deep.equal([]);
    expect(rig.guest.callsOf('stop')).to.have.length(1);
    expect(rig.ctx.raws.get('guest/kfn-irqrecv.stderr')).to.match(/Address already in use/);
  });

  it('leaves the receiver stopped by the case cleanup when the generator cannot start', async () => {
    const rig = buildRig({
      tgen: {
        start: () => {
          throw new Error('ssh connection lost');
        },
      },
    });
    await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect(rig.guest.callsOf('stop')).to.deep.equal([]);
    await rig.ctx.cleanup.unwind();
    expect(rig.guest.callsOf('stop')).to.deep.equal([{ kind: 'stop', name: 'kfn-irqrecv-guest', signal: 'INT' }]);
  });

  it('refuses summaries of another stream (a stale generator), after keeping them', async () => {
    const rig = buildRig({ tgen: { outcome: () => ({ stdout: fixtureLine('loopback-skip2.irqgen.json'), exitCode: 0 }) } });
    const error = await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/expected one stream id, found generator 1 and receiver \d+/);
    expect(rig.ctx.raws.has('tgen/kfn-irqgen-guest.stdout')).to.equal(true);
  });

  it('errors when the generator was cut short, and when withheld seqs lie beyond the run', async () => {
    const rig = buildRig({ tgen: { outcome: () => ({ stdout: GEN_OUT, exitCode: 1, stderr: 'kfn-irqgen: cannot set SCHED_FIFO priority 95: Operation not permitted\n' }) } });
    const error = await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect((error as Error).message).to.match(/kfn-irqgen on tgen exited with 1: kfn-irqgen: cannot set SCHED_FIFO/);
    const beyond = buildRig({ raw: { skip_seq: [2001] } });
    const e2 = await failure(measureDeviceInterrupt(beyond.ctx, beyond.plan, beyond.args));
    expect((e2 as Error).message).to.match(/skip_seq: expected seqs within 1\.\.2000 .*got 2001/);
  });

  it('in a dry run issues every command and then stops with DryRunStop, never parsing', async () => {
    const rig = buildRig({ dryRun: true, guest: { exec: () => undefined, outcome: () => ({ stdout: '' }) }, tgen: { exec: () => undefined, outcome: () => ({ stdout: '' }) } });
    const error = await failure(measureDeviceInterrupt(rig.ctx, rig.plan, rig.args));
    expect(error).to.be.instanceOf(DryRunStop);
    expect(rig.guest.callsOf('start').map((s) => s.name)).to.deep.equal(['kfn-irqrecv-guest']);
    expect(rig.tgen.callsOf('start').map((s) => s.name)).to.deep.equal(['kfn-irqgen-guest']);
    expect(rig.ctx.raws.size).to.equal(0);
  });
});
