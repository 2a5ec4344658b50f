import { expect } from 'chai';
import { describeBadBuckets, percentileFromBuckets, percentilesFromBuckets } from '../../../lib/measure/hdr.ts';

const buckets = [
  { lowerNs: 10_000, upperNs: 19_999, count: 90 },
  { lowerNs: 20_000, upperNs: 29_999, count: 9 },
  { lowerNs: 100_000, upperNs: 199_999, count: 1 },
];

describe('measure/hdr percentileFromBuckets', () => {
  it('gives the upper bound of the bucket holding the ceil(q x n)-th sample', () => {
    expect(percentileFromBuckets({ buckets, overflows: 0, maxNs: null, quantile: 0.5 })).to.equal(19_999);
    expect(percentileFromBuckets({ buckets, overflows: 0, maxNs: null, quantile: 0.9 })).to.equal(19_999);
    expect(percentileFromBuckets({ buckets, overflows: 0, maxNs: null, quantile: 0.91 })).to.equal(29_999);
    expect(percentileFromBuckets({ buckets, overflows: 0, maxNs: null, quantile: 1 })).to.equal(199_999);
  });

  it('never reports more than the true maximum, and ranks overflows above every bucket', () => {
    expect(percentileFromBuckets({ buckets, overflows: 0, maxNs: 150_000, quantile: 1 })).to.equal(150_000);
    expect(percentileFromBuckets({ buckets, overflows: 10, maxNs: 2e9, quantile: 0.99 })).to.equal(2e9);
    expect(percentileFromBuckets({ buckets: [], overflows: 0, maxNs: null, quantile: 0.5 })).to.equal(null);
    expect(() => percentileFromBuckets({ buckets, overflows: 0, maxNs: null, quantile: 0 })).to.throw(RangeError);
  });

  it('leaves a percentile the sample count cannot support as null, with the reason', () => {
    const p = percentilesFromBuckets({ buckets, overflows: 0, maxNs: 150_000, resolutionNote: 'bucket bound' });
    expect([p.p50Ns, p.p99Ns, p.p999Ns, p.p9999Ns]).to.deep.equal([19_999, 29_999, null, null]);
    expect(p.notes.p999).to.equal('null: 100 samples cannot support p999 (at least 1000 needed)');
    expect(p.notes.p50).to.equal('bucket bound');
  });
});

describe('measure/hdr describeBadBuckets', () => {
  it('accepts ascending, disjoint buckets and names the first bad one', () => {
    expect(describeBadBuckets(buckets)).to.equal(undefined);
    expect(describeBadBuckets([buckets[1]!, buckets[0]!])).to.match(/bucket 1: .* overlaps or precedes/);
    expect(describeBadBuckets([{ lowerNs: 5, upperNs: 4, count: 1 }])).to.match(/bucket 0: expected 0 <= lower <= upper/);
    expect(describeBadBuckets([{ lowerNs: 5, upperNs: 6, count: 0 }])).to.match(/count > 0/);
  });
});
