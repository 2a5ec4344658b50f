// The oslat and hwlatdetect procedures with fake nodes answering with recorded outputs
// (test/fixtures/oslat, test/fixtures/hwlatdetect).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { MeasurementError } from '../../../lib/errors.ts';
import { measureOslat, parseOslatArgs } from '../../../lib/cases/oslat.ts';
import { buildHwlatFigures, measureHwlatdetect, parseHwlatdetectArgs } from '../../../lib/cases/hwlatdetect.ts';
import { ConfigError } from '../../../lib/errors.ts';
import type { Limit } from '../../../lib/config/thresholds.ts';
import { buildFakeNode, FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';
import { buildFakeContext, buildLabPod } from './device-interrupt-fakes.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const host = buildFakeNode({ name: 'host', role: 'host', declaredRole: 'Compute', rtCpus: [1], housekeepingCpus: [0] });

function rig(handlers: FakeHandlers, limits: Limit[] = []) {
  const session = new FakeNodeSession(host, { exec: (c) => (c.startsWith('command -v') ? { stdout: `/usr/bin/${c.split(' ').at(-1)}\n` } : undefined), ...handlers });
  const ctx = Object.assign(buildFakeContext({ pod: buildLabPod(7), sessions: { host: session }, limits, durationOverrideS: 3 }), { caseName: 'oslat' });
  return { session, ctx };
}

describe('cases/oslat and cases/hwlatdetect procedures with fake nodes', () => {
  it('oslat: runs on the RT CPUs with its main thread on housekeeping, keeps the raw output, records every thread', async () => {
    const { session, ctx } = rig({ outcome: () => ({ exitCode: 0, stdout: read('oslat/v2.4-one-thread-b1024.stdout.txt') }) });
    const m = await measureOslat(ctx, host, parseOslatArgs({}));
    expect(session.callsOf('start')[0]?.command).to.equal('/usr/bin/oslat --cpu-list 1 --cpu-main-thread 0 --duration 3 --rtprio 1 --bucket-size 1024 --zero-omit');
    expect(m.version).to.equal('2.40');
    expect(m.threads.map((t) => t.where)).to.deep.equal(['host thread 0 (cpu 1)']);
    expect(m.overall.summary).to.include({ max: 47760, overflows: 4 });
    expect(ctx.raws.get('host/oslat.stdout')).to.include('oslat V 2.40');
    expect(ctx.details.host).to.deep.include({ release: '2.4', loadKind: 'idle' });
    expect(ctx.tools).to.deep.include(['host', 'oslat', '2.40']);
  });

  it('oslat: a run that measured 2 s of the 10 asked is an error, with its figures kept', async () => {
    const { ctx } = rig({ outcome: () => ({ exitCode: 0, stdout: read('oslat/v2.4-sigint-after-3s.stdout.txt') }) });
    const error = await measureOslat(Object.assign(ctx, { durationOverrideS: 10 }), host, parseOslatArgs({})).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MeasurementError);
    expect((error as Error).message).to.match(/measured 1.998 s of the 10 s asked/);
    expect(ctx.details.host).to.not.equal(undefined);
  });

  it('hwlatdetect: a kernel without the hwlat tracer is a skip with the reason, and nothing is started', async () => {
    const { session, ctx } = rig({ exec: (c) => (c.includes('available_tracers') ? { stdout: 'tracers: blk function nop\ncurrent: nop\n' } : undefined) });
    const outcome = await measureHwlatdetect(ctx, host, parseHwlatdetectArgs({}));
    expect(outcome).to.deep.equal({ kind: 'skipped', reason: 'the kernel of host has no hwlat tracer (available_tracers: blk function nop); hwlatdetect needs CONFIG_HWLAT_TRACER' });
    expect(session.callsOf('start')).to.deep.equal([]);
    expect(buildHwlatFigures('max', outcome)).to.deep.equal([]);
  });

  it('hwlatdetect: refuses to take over a global tracer someone else set', async () => {
    const { ctx } = rig({ exec: (c) => (c.includes('available_tracers') ? { stdout: 'tracers: hwlat function nop\ncurrent: function\n' } : undefined) });
    const error = await measureHwlatdetect(ctx, host, parseHwlatdetectArgs({})).catch((e: unknown) => e);
    expect((error as Error).message).to.match(/global tracer of host is in use \(current_tracer function\)/);
  });

  it('hwlatdetect: runs inside kfn-hwlat with a threshold no higher than the max limit, and reads "below threshold" as that bound', async () => {
    const { session, ctx } = rig(
      {
        exec: (c) => (c.includes('available_tracers') ? { stdout: 'tracers: hwlat function nop\ncurrent: nop\n' } : c.startsWith('command -v') ? { stdout: '/usr/sbin/hwlatdetect\n' } : undefined),
        outcome: () => ({ exitCode: 0, stdout: read('hwlatdetect/v2.4-below-threshold.stdout.txt') }),
      },
      [{ metric: 'max', max: 8, unit: 'us', action: 'assert' }],
    );
    const outcome = await measureHwlatdetect(ctx, host, parseHwlatdetectArgs({ duration_s: 60 }));
    const script = session.callsOf('upload')[0]?.content ?? '';
    expect(script).to.include("/usr/sbin/hwlatdetect --watch --duration 3 --threshold 8 --window 1000000 --width 500000 --cpu-list 1 &");
    expect(session.callsOf('start').map((c) => c.name)).to.deep.equal(['kfn-hwlat-host']);
    expect(buildHwlatFigures('max', outcome)).to.deep.equal([{ value: 10, unit: 'us', where: 'host (no gap reached the 10 us threshold: max is below it)' }]);
    expect(buildHwlatFigures('samples_exceeding', outcome)).to.deep.equal([{ value: 0, unit: 'count', where: 'host' }]);
    expect(ctx.details.host).to.deep.include({ maxUs: null, maxBelowThreshold: true, samplesExceeding: 0 });
  });

  it('hwlatdetect: a width not below the window is bad input', () => {
    expect(() => parseHwlatdetectArgs({ window_us: 1000, width_us: 1000 })).to.throw(ConfigError, /hwlatdetect.run.args.width_us: expected a width below window_us/);
  });
});
