import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseCyclictestHistogramText } from '../../../../lib/tools/cyclictest/parse-text.ts';
import { readFixture, replaceOnce } from './fixtures.ts';

function parseError(text: string): ToolOutputParseError {
  try {
    parseCyclictestHistogramText(text);
  } catch (error) {
    expect(error).to.be.instanceOf(ToolOutputParseError);
    return error as ToolOutputParseError;
  }
  throw new Error('expected a ToolOutputParseError');
}

function sum(values: Array<{ count: number }> | undefined): number {
  return (values ?? []).reduce((s, b) => s + b.count, 0);
}

describe('tools/cyclictest/parse-text', () => {
  describe('recorded stdout (cyclictest V 2.40)', () => {
    it('reads the 2.4 layout: every row, # Total, footer lines (two-threads-h200)', () => {
      const r = parseCyclictestHistogramText(readFixture('two-threads-h200.stdout.txt'));
      expect(r.format).to.equal('2.4');
      expect(r.threads).to.equal(2);
      expect(r.rowCount).to.equal(200);
      expect(r.highestRow).to.equal(199);
      expect(r.totals).to.deep.equal([5995, 6000]);
      expect(r.min).to.deep.equal([11, 9]);
      expect(r.avg).to.deep.equal([20, 25]);
      expect(r.max).to.deep.equal([355, 179]);
      expect(r.overflows).to.deep.equal([5, 0]);
      expect(r.overflowCycles).to.deep.equal([
        { listed: [911, 2103, 2104, 2752, 3411], others: 0 },
        { listed: [], others: 0 },
      ]);
      expect(r.buckets[0]?.[0]).to.deep.equal({ value: 11, count: 2 });
      expect(r.buckets[1]?.[0]).to.deep.equal({ value: 9, count: 1 });
      expect(r.buckets[1]?.at(-1)).to.deep.equal({ value: 179, count: 1 });
      expect(r.breakThreadId).to.equal(null);
    });

    it('reads the 2.7+ layout (no # Total, zero rows omitted) into the same buckets', () => {
      const v24 = parseCyclictestHistogramText(readFixture('two-threads-h200.stdout.txt'));
      const v27 = parseCyclictestHistogramText(readFixture('two-threads-h200-v2.7.stdout.txt'));
      expect(v27.format).to.equal('2.7+');
      expect(v27.totals).to.equal(null);
      expect(v27.rowCount).to.equal(63);
      expect(v27.highestRow).to.equal(194);
      expect(v27.buckets).to.deep.equal(v24.buckets);
      const rest = { format: '', totals: null, rowCount: 0, highestRow: 0 };
      expect({ ...v27, ...rest }).to.deep.equal({ ...v24, ...rest });
    });

    it('reads overflow counts and cycle numbers (overflow-h50-stress)', () => {
      const r = parseCyclictestHistogramText(readFixture('overflow-h50-stress.stdout.txt'));
      expect(r.overflows).to.deep.equal([50, 0]);
      expect(r.overflowCycles[0]?.listed).to.have.length(50);
      expect(r.overflowCycles[0]?.listed.slice(0, 3)).to.deep.equal([5, 35, 95]);
      expect(r.totals).to.deep.equal([2950, 3000]);
      expect(sum(r.buckets[0])).to.equal(2950);
    });

    it('maps # Break thread (a TID) to its thread index through # Thread Ids (break-b30)', () => {
      const r = parseCyclictestHistogramText(readFixture('break-b30.stdout.txt'));
      expect(r.threadIds).to.deep.equal([10412, 10413]);
      expect(r.breakThreadId).to.equal(10413);
      expect(r.breakThread).to.equal(1);
      expect(r.breakValue).to.equal(38);
      expect(r.totals).to.deep.equal([12, 11]);
    });

    it('skips the live screen without -q: ANSI codes, policy and dummy C: 0 lines (not-quiet-l50)', () => {
      const text = readFixture('not-quiet-l50.stdout.txt');
      expect(text).to.include('\x1b[4A').and.include('Min:1000000');
      const r = parseCyclictestHistogramText(text);
      expect(r.threads).to.equal(2);
      expect(r.totals).to.deep.equal([50, 49]);
      expect(r.max).to.deep.equal([35, 884]);
      expect(r.overflowCycles[1]).to.deep.equal({ listed: [17], others: 0 });
    });

    it('reads the zero-cycles summary: Min 1000000, no samples (zero-cycles-sigint)', () => {
      const r = parseCyclictestHistogramText(readFixture('zero-cycles-sigint.stdout.txt'));
      expect(r.min).to.deep.equal([1000000, 1000000]);
      expect(r.max).to.deep.equal([0, 0]);
      expect(r.totals).to.deep.equal([0, 0]);
      expect(r.buckets).to.deep.equal([[], []]);
    });

    it('reads the "# NNNNN others" tail of a long overflow list', () => {
      // Edited from one-thread-h200: 2.4 lists at most -h cycle numbers, then "# N others".
      const text = replaceOnce(readFixture('one-thread-h200.stdout.txt'), '# Thread 0: 01900 02072 02073', '# Thread 0: 01900 # 00002 others');
      expect(parseCyclictestHistogramText(text).overflowCycles[0]).to.deep.equal({ listed: [1900], others: 2 });
    });
  });

  describe('rejects', () => {
    const base = (): string => readFixture('two-threads-h200.stdout.txt');
    const table: Array<[string, () => string, RegExp, string | undefined]> = [
      ['an empty output', () => '\n\n', /empty/, undefined],
      ['stdout of a run without -h', () => readFixture('no-histogram.stdout.txt'), /no "# Histogram"/, undefined],
      ['a non-numeric histogram row', () => replaceOnce(base(), '000019 000992\t001371', '000019 0009x2\t001371'), /histogram row/, '000019 0009x2\t001371'],
      ['a row with fewer columns than threads', () => replaceOnce(base(), '000019 000992\t001371', '000019 000992'), /1 count columns, expected 2/, '000019 000992'],
      ['rows out of order', () => replaceOnce(base(), '000019 000992\t001371', '000017 000992\t001371'), /follows bucket/, '000017 000992\t001371'],
      ['a truncated output (no Max line)', () => base().slice(0, base().indexOf('# Max Latencies')), /Max Latencies/, undefined],
      ['a # Total that does not match the rows', () => replaceOnce(base(), '# Total: 000005995', '# Total: 000005994'), /Total/, undefined],
      ['an overflow count that does not match the listed cycles', () => replaceOnce(base(), '# Histogram Overflows: 00005', '# Histogram Overflows: 00006'), /overflow cycles listed/, undefined],
      ['footer lines with different thread counts', () => replaceOnce(base(), '# Max Latencies: 00355 00179', '# Max Latencies: 00355'), /1 values for 2 threads/, undefined],
      ['an unknown line before the histogram', () => `garbage\n${base()}`, /before "# Histogram"/, 'garbage'],
      ['an unknown line after the histogram', () => `${base()}garbage\n`, /after the histogram/, 'garbage'],
      ['a break thread that is not among the thread ids', () => replaceOnce(readFixture('break-b30.stdout.txt'), '# Break thread: 10413', '# Break thread: 99'), /not among/, undefined],
    ];
    for (const [what, make, message, line] of table) {
      it(what, () => {
        const err = parseError(make());
        expect(err.message).to.match(message);
        if (line !== undefined) {
          expect(err.line).to.equal(line);
          expect(err.lineNumber).to.be.a('number');
        }
      });
    }
  });
});
