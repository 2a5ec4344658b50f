// hwlatdetect's stdout as rt-tests v2.4 and v2.10 print it (test/fixtures/hwlatdetect/README.source.md),
// its command line, and the wrapper that keeps the global tracing files as they were.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildHwlatdetectCommand, buildHwlatRestoreScript, buildHwlatWrapperScript, parseTracerProbe } from '../../../../lib/tools/hwlatdetect/command.ts';
import { parseHwlatdetectOutput } from '../../../../lib/tools/hwlatdetect/parse.ts';
import { replaceOnce } from '../cyclictest/fixtures.ts';
import { catchParseError } from '../../../support/catch-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/hwlatdetect/${name}`, import.meta.url), 'utf8');

const parseError = (text: string) => catchParseError(() => parseHwlatdetectOutput(text));

describe('tools/hwlatdetect', () => {
  it('reads a run with no sample above the threshold: max unknown but below it', () => {
    const out = parseHwlatdetectOutput(fixture('v2.4-below-threshold.stdout.txt'));
    expect(out).to.deep.include({ durationS: 60, thresholdUs: 10, windowUs: 1_000_000, widthUs: 500_000, cpuList: '2-5', maxUs: null, samplesRecorded: 0, samplesExceeding: 0, smis: null, samples: [] });
  });

  it('reads samples printed by --watch before the summary (v2.4)', () => {
    const out = parseHwlatdetectOutput(fixture('v2.4-watch-two-samples.stdout.txt'));
    expect(out.maxUs).to.equal(23);
    expect(out.samples).to.deep.equal([
      { timestamp: '1765132201.417208315', innerUs: 0, outerUs: 14 },
      { timestamp: '1765132237.532104118', innerUs: 23, outerUs: 11 },
    ]);
  });

  it('reads cpu and count per sample, the summed count, MTBF and SMIs (v2.10)', () => {
    const out = parseHwlatdetectOutput(fixture('v2.10-watch-count-smi.stdout.txt'));
    expect(out).to.include({ maxUs: 31, samplesRecorded: 2, samplesExceeding: 4, smis: 3, windowUs: 1_000_000 });
    expect(out.samples[1]).to.deep.equal({ timestamp: '1765132219.002311904', innerUs: 0, outerUs: 31, cpu: 4, count: 3 });
  });

  it('rejects the traceback of a kernel without hwlat, a max its samples do not give, a missing sample, and a run cut before the end', () => {
    expect(parseError(fixture('v2.4-no-hwlat-tracer.stderr.txt')).message).to.match(/Python traceback/);
    const text = fixture('v2.4-watch-two-samples.stdout.txt');
    expect(parseError(replaceOnce(text, 'Max Latency: 23us', 'Max Latency: 22us')).message).to.match(/largest inner\/outer is 23 us/);
    expect(parseError(replaceOnce(text, 'ts: 1765132201.417208315, inner:0, outer:14\n', '')).message).to.match(/Samples recorded: 2" but 1 sample/);
    expect(parseError(text.slice(0, text.indexOf('test finished'))).message).to.match(/test finished/);
  });

  it('builds the command in plain digits (seconds, us), with --watch so an abort keeps the samples', () => {
    expect(buildHwlatdetectCommand({ durationS: 60, thresholdUs: 10, windowUs: 1_000_000, widthUs: 500_000, cpus: [3, 2, 5, 4] })).to.deep.equal([
      'hwlatdetect', '--watch', '--duration', '60', '--threshold', '10', '--window', '1000000', '--width', '500000', '--cpu-list', '2-5',
    ]);
    expect(() => buildHwlatdetectCommand({ durationS: 60, thresholdUs: 10, windowUs: 500, widthUs: 500, cpus: [1] })).to.throw(/below the window/);
  });

  it('wraps it: refuses a busy global tracer, saves every file hwlatdetect writes and restores them last to first', () => {
    const script = buildHwlatWrapperScript(['hwlatdetect', '--duration', '5']);
    expect(script).to.match(/\[ "\$S_current_tracer" = nop \] \|\| \{.*exit 4; \}/);
    for (const f of ['tracing_on', 'tracing_thresh', 'tracing_cpumask', 'hwlat_detector/width', 'hwlat_detector/window']) expect(script).to.include(`"$T/${f}"`);
    const restore = script.slice(script.indexOf('finish() {'));
    expect(restore.indexOf('> "$T/current_tracer"')).to.be.below(restore.indexOf('> "$T/tracing_on"'));
    expect(script).to.include("trap finish EXIT");
  });

  it('reads the tracer probe with the files hwlatdetect will write, and refuses output without the tracers line', () => {
    expect(parseTracerProbe('tracers: blk function nop\ncurrent: nop\n')).to.deep.equal({ tracers: ['blk', 'function', 'nop'], current: 'nop', saved: {} });
    const probe = parseTracerProbe('tracers: hwlat nop\ncurrent: nop\nfile tracing_on=1\nfile tracing_thresh=0\nfile tracing_cpumask=f\nfile hwlat_detector/width=500000\n');
    expect(probe.saved).to.deep.equal({ tracing_on: '1', tracing_thresh: '0', tracing_cpumask: 'f', 'hwlat_detector/width': '500000' });
    expect(() => parseTracerProbe('')).to.throw(/no "tracers:" line/);
  });

  it('undoes a killed run from what the probe read: only while hwlat is still the tracer, tracing_on last', () => {
    const probe = parseTracerProbe('tracers: hwlat nop\ncurrent: nop\nfile tracing_on=1\nfile tracing_thresh=0\nfile tracing_cpumask=f\n');
    const script = buildHwlatRestoreScript('/tmp/kfn-x', probe);
    expect(script).to.include('[ "$(cat "$T/current_tracer")" = hwlat ] || exit 0');
    const writes = [...script.matchAll(/^echo (\S+) > "\$T\/(\S+)"$/gm)].map((m) => `${m[2]}=${m[1]}`);
    expect(writes).to.deep.equal(['current_tracer=nop', 'tracing_cpumask=f', 'tracing_thresh=0', 'tracing_on=1']);
  });
});
