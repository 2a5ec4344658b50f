import { expect } from 'chai';
import { MeasurementError } from '../../../lib/errors.ts';
import {
  SUMMARY_PERCENTILES,
  buildBucketHistogram,
  computePercentile,
  countSamples,
  mergeHistograms,
  minimumSamplesFor,
  summarizeHistogram,
  type BucketHistogram,
  type PercentileKey,
  type PercentileSpec,
} from '../../../lib/measure/histogram.ts';

function spec(key: PercentileKey): PercentileSpec {
  const found = SUMMARY_PERCENTILES.find((p) => p.key === key);
  if (!found) throw new Error(`no ${key}`);
  return found;
}

function hist(counts: Array<[number, number]>, overflows = 0, limit: number | null = 100): BucketHistogram {
  return buildBucketHistogram({ unit: 'us', counts, overflows, limit });
}

describe('measure/histogram', () => {
  describe('minimumSamplesFor (10/(1−q))', () => {
    const table: Array<[PercentileKey, number]> = [
      ['p50', 20],
      ['p99', 1000],
      ['p999', 10000],
      ['p9999', 100000],
    ];
    for (const [key, needed] of table) {
      it(`${key} needs ${needed} samples`, () => expect(minimumSamplesFor(spec(key))).to.equal(needed));
    }
  });

  describe('computePercentile: nearest rank, r = ceil(q·N), smallest v with count(≤ v) ≥ r', () => {
    it('p50 of the values 1..20 (one sample each) is 10: rank 10', () => {
      const h = hist(Array.from({ length: 20 }, (_, i) => [i + 1, 1] as [number, number]));
      expect(computePercentile(h, spec('p50'))).to.deep.equal({ value: 10 });
    });

    it('p50 of 21 samples takes rank ceil(10.5) = 11', () => {
      const h = hist(Array.from({ length: 21 }, (_, i) => [i + 1, 1] as [number, number]));
      expect(computePercentile(h, spec('p50')).value).to.equal(11);
    });

    it('p99 of 1000 samples is the 990th: a bucket holding exactly rank 990 answers', () => {
      // 990 samples at 5 µs, 10 at 7 µs: count(≤ 5) = 990 = rank, so p99 = 5, not 7.
      expect(computePercentile(hist([[5, 990], [7, 10]]), spec('p99')).value).to.equal(5);
      // One fewer at 5 µs and the 990th sample is at 7 µs.
      expect(computePercentile(hist([[5, 989], [7, 11]]), spec('p99')).value).to.equal(7);
    });

    it('p99.9 of 10000 samples is the 9990th', () => {
      expect(computePercentile(hist([[3, 9990], [40, 10]]), spec('p999')).value).to.equal(3);
      expect(computePercentile(hist([[3, 9989], [40, 11]]), spec('p999')).value).to.equal(40);
    });

    it('unsorted input buckets give the same answer as sorted ones', () => {
      const sorted = hist([[1, 500], [2, 400], [9, 100]]);
      const shuffled = hist([[9, 100], [1, 500], [2, 400]]);
      expect(computePercentile(shuffled, spec('p99'))).to.deep.equal(computePercentile(sorted, spec('p99')));
      expect(computePercentile(shuffled, spec('p99')).value).to.equal(9);
    });

    it('is null with a note below 10/(1−q) samples, and counts overflows as samples', () => {
      expect(computePercentile(hist([[5, 999]]), spec('p99'))).to.deep.equal({ value: null, note: 'needs ≥ 1000 samples, have 999' });
      expect(computePercentile(hist([[5, 999]], 1), spec('p99')).note).to.equal(undefined);
      expect(computePercentile(hist([[5, 19]]), spec('p50'))).to.deep.equal({ value: null, note: 'needs ≥ 20 samples, have 19' });
    });

    it('is null, never a value below the limit, when the rank falls among the overflows', () => {
      // 1000 samples, 11 overflowed ≥ 50 µs: rank 990 > 989 in buckets.
      const h = hist([[10, 900], [49, 89]], 11, 50);
      const p99 = computePercentile(h, spec('p99'));
      expect(p99.value).to.equal(null);
      expect(p99.note).to.include('≥ 50 us').and.include('rank 990 of 1000').and.include('11 overflowed');
      // With 10 overflows the 990th sample is the last one in a bucket.
      expect(computePercentile(hist([[10, 900], [49, 90]], 10, 50), spec('p99')).value).to.equal(49);
    });

    it('p50 is found even when most of the tail overflowed', () => {
      expect(computePercentile(hist([[1, 10]], 10, 50), spec('p50')).value).to.equal(1);
      expect(computePercentile(hist([[1, 9]], 11, 50), spec('p50')).value).to.equal(null);
    });
  });

  describe('buildBucketHistogram', () => {
    it('drops zero counts and sorts', () => {
      expect(hist([[3, 0], [2, 4], [1, 1]]).buckets).to.deep.equal([
        { value: 1, count: 1 },
        { value: 2, count: 4 },
      ]);
    });

    const bad: Array<[string, () => unknown]> = [
      ['a bucket at the limit', () => hist([[100, 1]], 0, 100)],
      ['a bucket listed twice', () => hist([[1, 1], [1, 2]])],
      ['a negative count', () => hist([[1, -1]])],
      ['a fractional count', () => hist([[1, 1.5]])],
      ['overflows without a limit', () => hist([[1, 1]], 3, null)],
      ['a zero limit', () => hist([], 0, 0)],
    ];
    for (const [what, build] of bad) {
      it(`rejects ${what}`, () => expect(build).to.throw(MeasurementError));
    }
  });

  describe('mergeHistograms', () => {
    it('adds counts bucket by bucket and adds overflows', () => {
      const merged = mergeHistograms([hist([[1, 2], [5, 1]], 3), hist([[5, 4], [7, 1]], 1)]);
      expect(merged.buckets).to.deep.equal([
        { value: 1, count: 2 },
        { value: 5, count: 5 },
        { value: 7, count: 1 },
      ]);
      expect(merged.overflows).to.equal(4);
      expect(countSamples(merged)).to.equal(12);
    });

    it('refuses histograms with different limits or units', () => {
      expect(() => mergeHistograms([hist([[1, 1]], 0, 100), hist([[1, 1]], 0, 200)])).to.throw(MeasurementError, /limits/);
      const ns = buildBucketHistogram({ unit: 'ns', counts: [[1, 1]], overflows: 0, limit: 100 });
      expect(() => mergeHistograms([hist([[1, 1]]), ns])).to.throw(MeasurementError, /ns/);
      expect(() => mergeHistograms([])).to.throw(MeasurementError);
    });
  });

  describe('summarizeHistogram', () => {
    it('uses the exact figures and fills the percentiles', () => {
      const s = summarizeHistogram(hist([[5, 990], [7, 10]]), { min: 5, avg: 5.02, max: 7 });
      expect(s).to.deep.include({ samples: 1000, min: 5, avg: 5.02, max: 7, p50: 5, p99: 5, p999: null, p9999: null, maxIsLowerBound: false });
      expect(s.notes).to.deep.equal({ p999: 'needs ≥ 10000 samples, have 1000', p9999: 'needs ≥ 100000 samples, have 1000' });
    });

    it('without a reported max, an overflowed histogram gives max = limit as a lower bound', () => {
      const s = summarizeHistogram(hist([[5, 10]], 2, 50));
      expect(s.max).to.equal(50);
      expect(s.maxIsLowerBound).to.equal(true);
      expect(s.notes['max']).to.include('≥ 50 us');
      expect(s.avg).to.equal(null);
    });

    it('without a reported max and no overflow, max is the highest bucket and exact', () => {
      const s = summarizeHistogram(hist([[5, 10], [8, 1]], 0, 50));
      expect(s).to.deep.include({ min: 5, max: 8, maxIsLowerBound: false });
    });

    it('refuses a reported max below the limit when samples overflowed', () => {
      expect(() => summarizeHistogram(hist([[5, 10]], 1, 50), { min: 5, avg: 6, max: 49 })).to.throw(MeasurementError, /below the histogram limit/);
    });

    it('refuses a reported max below the highest bucket or a min above the lowest', () => {
      expect(() => summarizeHistogram(hist([[5, 10], [9, 1]]), { min: 5, avg: 6, max: 8 })).to.throw(MeasurementError, /highest bucket/);
      expect(() => summarizeHistogram(hist([[5, 10], [9, 1]]), { min: 6, avg: 6, max: 9 })).to.throw(MeasurementError, /lowest bucket/);
    });

    it('gives all nulls with notes for an empty histogram', () => {
      const s = summarizeHistogram(hist([]));
      expect(s).to.deep.include({ samples: 0, min: null, avg: null, max: null, p50: null, p99: null });
      expect(s.notes['max']).to.equal('no samples');
    });
  });
});
