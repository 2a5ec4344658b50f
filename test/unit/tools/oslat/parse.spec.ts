// The oslat parser and summary on recorded stdout of rt-tests 2.4 (Debian 12) and 2.10
// (test/fixtures/oslat/README.source.md).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildOslatCommand } from '../../../../lib/tools/oslat/command.ts';
import { parseOslatOutput } from '../../../../lib/tools/oslat/parse.ts';
import { summarizeOslat } from '../../../../lib/tools/oslat/summary.ts';
import { replaceOnce } from '../cyclictest/fixtures.ts';
import { catchParseError } from '../../../support/catch-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/oslat/${name}`, import.meta.url), 'utf8');

const parseError = (text: string) => catchParseError(() => parseOslatOutput(text));

describe('tools/oslat', () => {
  describe('command', () => {
    it('builds the long-option command line both releases take, main thread on housekeeping', () => {
      const c = buildOslatCommand({ binary: '/usr/bin/oslat', rtCpus: [3, 2], mainCpu: 0, durationS: 60, priority: 1, bucketSize: 1024 });
      expect(c.argv).to.deep.equal(['/usr/bin/oslat', '--cpu-list', '2-3', '--cpu-main-thread', '0', '--duration', '60', '--rtprio', '1', '--bucket-size', '1024', '--zero-omit']);
      expect(c.threadCpus).to.deep.equal([2, 3]);
      expect(c.expectedDurationMs).to.equal(61_000);
    });

    it('refuses a main thread on an RT CPU, a bucket size oslat refuses, and a fraction of a second', () => {
      expect(() => buildOslatCommand({ rtCpus: [1], mainCpu: 1, durationS: 5, priority: 1, bucketSize: 32 })).to.throw(/also an RT CPU/);
      expect(() => buildOslatCommand({ rtCpus: [1], mainCpu: 0, durationS: 5, priority: 1, bucketSize: 4 })).to.throw(/bucketSize: expected a whole number from 5 to 1024/);
      expect(() => buildOslatCommand({ rtCpus: [1], mainCpu: 0, durationS: 2.5, priority: 1, bucketSize: 32 })).to.throw(/durationS/);
    });
  });

  describe('rt-tests 2.4 (Debian 12)', () => {
    const out = parseOslatOutput(fixture('v2.4-one-thread-b1024.stdout.txt'));

    it('reads the version, the header and every printed row, "..." rows skipped', () => {
      expect(out).to.include({ versionText: '2.40', release: '2.4', rounding: 'floor-plus-one', lastLabelUs: 1024 });
      expect(out.header).to.deep.equal({ runtimeS: 3, priority: 1, cpuList: '1', mainCpu: 0 });
      const [t] = out.threads;
      expect(t).to.include({ thread: 0, cpu: 1, counterMhz: 2597, minUs: 1, avgUs: 1.002, maxUs: 47760, durationS: 2.998 });
      expect(t?.rows[0]).to.deep.equal({ labelUs: 1, count: 120385150 });
      expect(t?.rows.find((r) => r.labelUs === 78)).to.deep.equal({ labelUs: 78, count: 2 });
      expect(t?.rows.some((r) => r.labelUs === 77)).to.equal(false);
      expect(t?.rows.at(-1)).to.deep.equal({ labelUs: 1024, count: 4 });
    });

    it('counts the last row as overflows, keeps the exact max, and takes percentiles from the histogram', () => {
      const r = summarizeOslat(out, { cpus: [1], bucketSize: 1024 });
      const s = r.threads[0]?.summary;
      const total = out.threads[0]?.rows.reduce((n, x) => n + x.count, 0);
      expect(s).to.include({ unit: 'us', samples: total, overflows: 4, min: 1, max: 47760, avg: 1.002, maxIsLowerBound: false, p50: 1, p99: 1 });
      expect(r.threads[0]?.histogram.limit).to.equal(1024);
      expect(r.rounding).to.match(/whole µs \+ 1/);
      expect(r.overall.max).to.equal(47760);
    });

    it('withholds a percentile whose rank falls in the overflow row, with the bound, never a figure below it', () => {
      const r = summarizeOslat(parseOslatOutput(fixture('v2.4-two-threads-b32.stdout.txt')), { cpus: [0, 1], bucketSize: 32 });
      // 713 of 73.99 M samples overflowed on thread 0: p9999 (rank N − 7399) still lies below, p99999 would not.
      const t0 = r.threads[0]?.summary;
      expect(t0?.overflows).to.equal(713);
      expect(t0?.p9999).to.equal(1);
      const tail = summarizeOslat(parseOslatOutput(fixture('v2.4-two-threads-b32.stdout.txt').replace('    001 (us):\t 73989351 59794951', '    001 (us):\t 100000 59794951')), { cpus: [0, 1], bucketSize: 32 });
      expect(tail.threads[0]?.summary.p999).to.equal(null);
      expect(tail.threads[0]?.summary.notes.p999).to.match(/≥ 32 us .*overflowed/);
    });

    it("does not pass off thread 1's average, which oslat computes with thread 0's overflows", () => {
      const r = summarizeOslat(parseOslatOutput(fixture('v2.4-two-threads-b32.stdout.txt')), { cpus: [0, 1], bucketSize: 32 });
      expect(r.threads[0]?.summary.avg).to.equal(1.004);
      expect(r.threads[1]?.summary.avg).to.equal(null);
      expect(r.threads[1]?.summary.notes.avg).to.match(/thread 0's overflow total/);
      expect(r.overall.avg).to.equal(null);
      expect(r.overall.max).to.equal(14482);
    });
  });

  describe('rt-tests 2.10', () => {
    it('tells 2.10 from 2.1 by the MHz spelling and reads truncated figures', () => {
      const out = parseOslatOutput(fixture('v2.10-one-thread-b1024.stdout.txt'));
      expect(out).to.include({ versionText: '2.10', release: '2.10', rounding: 'floor' });
      const r = summarizeOslat(out, { cpus: [1], bucketSize: 1024 });
      // A gap in the row labelled 1 is 0 µs truncated: the bucket value is label − 1.
      expect(r.threads[0]?.summary).to.include({ min: 0, max: 49446, overflows: 4, p50: 0 });
      expect(r.threads[0]?.histogram.limit).to.equal(1023);
    });

    it('reads two threads and the default 32 buckets', () => {
      const r = summarizeOslat(parseOslatOutput(fixture('v2.10-two-threads-b32.stdout.txt')), { cpus: [0, 1], bucketSize: 32 });
      expect(r.threads.map((t) => [t.cpu, t.summary.max, t.summary.overflows])).to.deep.equal([
        [0, 32389, 513],
        [1, 22818, 544],
      ]);
      expect(r.overall.samples).to.equal(r.threads[0]!.summary.samples + r.threads[1]!.summary.samples);
    });

    it('calls "(Mhz)" with V 2.10 rt-tests 2.1, which rounds like 2.4', () => {
      const old = parseOslatOutput(replaceOnce(fixture('v2.10-one-thread-b1024.stdout.txt'), '(MHz)', '(Mhz)'));
      expect(old).to.include({ release: '2.1', rounding: 'floor-plus-one' });
    });
  });

  describe('rejects', () => {
    it('a failed run that printed only its version (bad CPU list)', () => {
      expect(parseError(fixture('v2.10-bad-cpu.stdout.txt')).message).to.match(/no "Core:" row/);
    });

    it('a missing overflow row, a row count that does not match the threads, rows out of order, Max-Min that does not add up', () => {
      const text = fixture('v2.4-two-threads-b32.stdout.txt');
      expect(parseError(replaceOnce(text, ' (including overflows)', '')).message).to.match(/no "\(including overflows\)" row|not in oslat's format/);
      expect(parseError(replaceOnce(text, '    005 (us):\t 36 36', '    005 (us):\t 36')).message).to.match(/1 values for 2 threads/);
      expect(parseError(replaceOnce(text, '    005 (us):', '    003 (us):')).message).to.match(/increasing order/);
      expect(parseError(replaceOnce(text, 'Max-Min:\t 7537 14481', 'Max-Min:\t 7537 14480')).message).to.match(/Max-Min/);
    });

    it('a ns-precision histogram, and output that is not oslat at all', () => {
      expect(parseError(fixture('v2.10-one-thread-b1024.stdout.txt').replace('    001 (us):', '    001.500 (us):')).message).to.match(/ns-precision/);
      expect(parseError('cyclictest V 2.40\n').message).to.match(/oslat V/);
    });

    it('a run that skipped a requested CPU, or whose last row is not the bucket size asked for', () => {
      const out = parseOslatOutput(fixture('v2.10-two-threads-b32.stdout.txt'));
      expect(() => summarizeOslat(out, { cpus: [0, 1, 2], bucketSize: 32 })).to.throw(/CPU 0,1, the command asked for 0,1,2/);
      expect(() => summarizeOslat(out, { cpus: [0, 1], bucketSize: 1024 })).to.throw(/labelled 32 us, expected 1024/);
    });
  });
});
