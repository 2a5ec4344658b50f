import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  checkFigure,
  computeBucketPercentile,
  toLatencySummary,
  toValueCountHistogram,
  type IrqLatencyFigure,
} from '../../../../lib/tools/irq-agent/histogram.ts';
import { parseIrqRecvSummary } from '../../../../lib/tools/irq-agent/parse.ts';

const FIXTURES = new URL('../../../fixtures/irq-agent/', import.meta.url);
const recv = (name: string) => parseIrqRecvSummary(readFileSync(new URL(name, FIXTURES), 'utf8'));
const LAYOUT = { exactBelowNs: 1024, subBucketsPerPowerOfTwo: 128, topNs: 2 ** 33 };

function figure(buckets: Array<[number, number, number]>, extra: Partial<IrqLatencyFigure> = {}): IrqLatencyFigure {
  const samples = buckets.reduce((s, [, , n]) => s + n, 0) + (extra.overflows ?? 0) + (extra.negatives ?? 0);
  return {
    samples,
    overflows: 0,
    negatives: 0,
    minNs: buckets[0]?.[0] ?? null,
    avgNs: null,
    maxNs: buckets.at(-1)?.[1] ?? null,
    p50Ns: null,
    p99Ns: null,
    p999Ns: null,
    p9999Ns: null,
    buckets: buckets.map(([lowerNs, upperNs, count]) => ({ lowerNs, upperNs, count })),
    ...extra,
  };
}

describe('tools/irq-agent histogram', () => {
  it('gives the upper bound of the bucket holding rank ceil(n*q), clamped to max', () => {
    // 100 samples: 90 exact at 500 ns, 9 in [2048, 2063], 1 in [4096, 4127] with true max 4100.
    const f = figure([[500, 500, 90], [2048, 2063, 9], [4096, 4127, 1]], { maxNs: 4100 });
    expect(computeBucketPercentile(f, 500_000)).to.equal(500);
    expect(computeBucketPercentile(f, 900_000)).to.equal(500); // rank 90
    expect(computeBucketPercentile(f, 910_000)).to.equal(2063); // rank 91
    expect(computeBucketPercentile(f, 990_000)).to.equal(2063); // rank 99
    expect(computeBucketPercentile(f, 999_000)).to.equal(4100); // rank 100: bucket top 4127 clamped to the true max
  });

  it('reports the true max for a rank above the top (overflow)', () => {
    const f = figure([[500, 500, 9]], { overflows: 1, maxNs: 9_000_000_000 });
    expect(computeBucketPercentile(f, 990_000)).to.equal(9_000_000_000);
  });

  it('lays every fixture bucket out as the agents document: exact below 1024, then 128 per power of two', () => {
    const r = recv('veth-monotonic.irqrecv.json');
    for (const b of [...r.wireToHandler!.buckets, ...r.receiveToHandler.buckets]) {
      if (b.lowerNs < 1024) {
        expect(b.upperNs).to.equal(b.lowerNs);
        continue;
      }
      const p = Math.floor(Math.log2(b.lowerNs));
      const width = 2 ** (p - 7);
      expect(b.lowerNs % width, `bucket ${b.lowerNs}`).to.equal(0);
      expect(b.upperNs - b.lowerNs + 1, `bucket ${b.lowerNs}`).to.equal(width);
    }
  });

  it('checks a consistent figure without complaint and names what breaks', () => {
    const good = figure([[500, 500, 1], [600, 600, 1]], { avgNs: 550, p50Ns: 500, p99Ns: 600, p999Ns: 600, p9999Ns: 600 });
    expect(checkFigure(good, LAYOUT, 'x')).to.deep.equal([]);
    expect(checkFigure({ ...good, negatives: 1, samples: 3 }, LAYOUT, 'x').join()).to.match(/min < 0 exactly when negative > 0/);
    expect(checkFigure({ ...good, overflows: 1, samples: 3 }, LAYOUT, 'x').join()).to.match(/max >= top/);
    expect(checkFigure({ ...good, avgNs: 700 }, LAYOUT, 'x').join()).to.match(/min <= avg <= max/);
    expect(checkFigure({ ...good, p50Ns: 600 }, LAYOUT, 'x').join()).to.match(/expected p50 500 from the buckets, found 600/);
  });

  it('converts to the shared value/count shape with upper bounds as values', () => {
    const r = recv('loopback-skip2.irqrecv.json');
    const h = toValueCountHistogram(r.wireToHandler!);
    expect(h.unit).to.equal('ns');
    expect(h.buckets[0]).to.deep.equal({ value: 7647, count: 1 });
    expect(h.buckets.reduce((s, b) => s + b.count, 0) + h.overflows + h.underflows).to.equal(1998);
    expect([h.min, h.max]).to.deep.equal([7628, 237835]);
  });

  it('summarises for the result model, nulling p99.99 below 10000 samples', () => {
    const r = recv('loopback-skip2.irqrecv.json');
    const s = toLatencySummary(r.wireToHandler!, r.layout);
    expect(s).to.deep.include({ unit: 'ns', samples: 1998, min: 7628, max: 237835, p50: 38655, p99: 76287, p999: 129535, p9999: null });
    expect(s.notes.p9999).to.equal('needs at least 10000 samples, had 1998');
    expect(s.maxIsLowerBound).to.equal(false);
  });

  it('nulls every figure when any sample is negative: the clocks are not one domain', () => {
    const r = recv('ptp-offset.irqrecv.json');
    const s = toLatencySummary(r.wireToHandler!, r.layout);
    expect([s.min, s.avg, s.max, s.p50, s.p99, s.p999, s.p9999]).to.deep.equal([null, null, null, null, null, null, null]);
    expect(s.notes.p99).to.match(/^999 of 1000 samples below zero/);
  });

  it('notes a percentile whose rank lies above the top', () => {
    const f = figure([[500, 500, 98]], { overflows: 2, maxNs: 9_000_000_000 });
    const s = toLatencySummary({ ...f, p99Ns: 9_000_000_000 }, LAYOUT);
    expect(s.p99).to.equal(9_000_000_000);
    expect(s.notes.p99).to.match(/above the histogram top/);
    expect(s.notes.p50).to.equal(undefined);
  });
});
