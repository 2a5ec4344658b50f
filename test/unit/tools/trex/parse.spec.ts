import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { MeasurementError, ToolOutputParseError } from '../../../../lib/errors.ts';
import { convertTrexHistogram, trexBucketBounds, usToNs } from '../../../../lib/tools/trex/latency.ts';
import { parseTrexTrial } from '../../../../lib/tools/trex/parse.ts';

const FIXTURES = new URL('../../../fixtures/trex/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

// The fixture changed as a test needs, printed on one line as the script prints it.
function mutate(change: (doc: any) => void): string {
  const doc = JSON.parse(fixture('trial-bidir-64.json'));
  change(doc);
  return `${JSON.stringify(doc)}\n`;
}

function rejects(fn: () => unknown, kind: new (...args: any[]) => Error, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ${kind.name}`).to.be.instanceOf(kind);
  expect((caught as Error).message).to.match(pattern);
}

describe('tools/trex parseTrexTrial', () => {
  it('reads frames, loss and validity of both directions', () => {
    const r = parseTrexTrial(fixture('trial-bidir-64.json'), { portNames: { 0: 'p0', 1: 'p1' } });
    expect(r.generator).to.equal('trex');
    expect(r).to.deep.include({ frameSize: 64, durationS: 10, flows: 4, direction: 'bidirectional', valid: true });
    const [fwd, rev] = r.directions;
    expect(fwd).to.deep.include({ direction: 'forward', txPort: 'p0', rxPort: 'p1', txFrames: 10_000_000, rxFrames: 9_999_849, lostFrames: 151 });
    expect(fwd!.lossRatio).to.equal(151 / 10_000_000);
    expect(fwd!.requestedPps).to.equal(1_000_000);
    expect(fwd!.achievedTxPps).to.equal(1_000_000);
    expect(rev).to.deep.include({ direction: 'reverse', txPort: 'p1', rxPort: 'p0', txFrames: 10_000_000, rxFrames: 10_000_000, lostFrames: 0 });
    expect([r.txFrames, r.rxFrames]).to.deep.equal([20_000_000, 19_999_849]);
    expect(r.lossPercent).to.be.closeTo(0.000755, 1e-12);
    expect(fwd!.sequence).to.deep.equal({ scope: 'latency-stream', dropped: 1, duplicate: 0, outOfOrder: 0 });
    expect(r.notes[0]).to.match(/per-stream flow stats/);
  });

  it('converts every latency figure from TRex microseconds to nanoseconds', () => {
    const fwd = parseTrexTrial(fixture('trial-bidir-64.json')).directions[0]!.latency!;
    // 14 us written unconverted into an ns field would read 14 here.
    expect(fwd.avgNs).to.equal(14_000);
    expect(fwd.maxNs).to.equal(128_000);
    expect(fwd.minNs).to.equal(11_000);
    expect(fwd.notes.min).to.match(/true minimum truncated to whole microseconds/);
    expect(fwd.jitterNs).to.equal(2000);
    expect([fwd.p50Ns, fwd.p99Ns, fwd.p999Ns, fwd.p9999Ns]).to.deep.equal([19_999, 29_999, 39_999, null]);
    expect(fwd.notes.p9999).to.match(/9999 samples cannot support p9999/);
    expect(fwd).to.deep.include({ source: 'latency-stream', samples: 9999, overflows: 0, maxIsLowerBound: false, resolutionNs: 1000 });
    expect(fwd.buckets[0]).to.deep.equal({ lowerNs: 10_000, upperNs: 19_999, count: 9120 });
    expect(fwd.buckets.at(-1)).to.deep.equal({ lowerNs: 100_000, upperNs: 199_999, count: 1 });
    expect(fwd.notes.avg).to.match(/low-pass filter/);
  });

  it('reads the [0, 10) us bucket and caps a percentile at the true maximum', () => {
    const rev = parseTrexTrial(fixture('trial-bidir-64.json')).directions[1]!.latency!;
    expect(rev.buckets[0]).to.deep.equal({ lowerNs: 0, upperNs: 9999, count: 12 });
    // TRex's true minimum (7 us), not the bound of the [0, 10) us bucket pre-2.66 clients reported.
    expect(rev.minNs).to.equal(7000);
    expect(rev.samples).to.equal(10_000);
    // p99.99 falls in [30, 40) us, whose upper bound would pass TRex's 37 us maximum.
    expect(rev.p9999Ns).to.equal(37_000);
  });

  it('counts load with the port counters when the spec says so', () => {
    const r = parseTrexTrial(mutate((d) => (d.spec.count_load = 'port-counters')));
    expect(r.directions.map((d) => [d.txFrames, d.rxFrames])).to.deep.equal([
      [10_000_000, 9_999_849],
      [10_000_000, 10_000_000],
    ]);
    expect(r.notes[0]).to.match(/port counters/);
    rejects(() => parseTrexTrial(mutate((d) => {
      d.spec.count_load = 'port-counters';
      d.ports['1'].ipackets = 10_000_003;
    })), MeasurementError, /10000003 frames received but only 10000000 sent/);
  });

  it('marks max as a lower bound when the histogram holds a sample TRex left out of total_max', () => {
    const fwd = parseTrexTrial(mutate((d) => (d.latency['10'].latency.total_max = 50))).directions[0]!.latency!;
    expect(fwd.maxNs).to.equal(100_000);
    expect(fwd.maxIsLowerBound).to.equal(true);
    expect(fwd.notes.max).to.match(/misses a sample/);
  });

  it('counts latency frames beyond the last bucket as overflows above 1 s', () => {
    const fwd = parseTrexTrial(mutate((d) => (d.flow_stats['10'].rx_pkts['1'] = 10_004))).directions[0]!.latency!;
    expect(fwd.overflows).to.equal(5);
    expect(fwd.samples).to.equal(10_004);
    expect(fwd.maxNs).to.equal(1e9);
    expect(fwd.maxIsLowerBound).to.equal(true);
  });

  it('takes duplicates of the latency stream out of the received frames', () => {
    const r = parseTrexTrial(mutate((d) => (d.latency['11'].err_cntrs.dup = 3)));
    expect(r.directions[1]!.rxFrames).to.equal(9_999_997);
  });

  it('flags the trial invalid when TRex sent too few frames', () => {
    const r = parseTrexTrial(mutate((d) => (d.flow_stats['1'].tx_pkts['0'] = 8_000_000, d.flow_stats['1'].rx_pkts['1'] = 8_000_000)));
    expect(r.valid).to.equal(false);
    expect(r.invalidReasons[0]).to.match(/^forward: the generator sent 801000 pps, 80\.1 %/);
  });

  it('rejects a histogram key TRex never prints (fixture trial-bad-histogram-key.json)', () => {
    rejects(() => parseTrexTrial(fixture('trial-bad-histogram-key.json'), { source: 'bad' }), ToolOutputParseError, /histogram key "15" is not a TRex bucket/);
  });

  it('turns the script error document into a MeasurementError with TRex message (fixture trial-error-no-server.json)', () => {
    rejects(() => parseTrexTrial(fixture('trial-error-no-server.json')), MeasurementError, /^TRex trial failed \(trex\): TRexError: .*Failed to get server response/);
  });

  it('rejects documents it cannot trust', () => {
    rejects(() => parseTrexTrial('Traceback (most recent call last):\n'), ToolOutputParseError, /expected one JSON document/);
    rejects(() => parseTrexTrial('{"tool": "kfn-trex-trial", '), ToolOutputParseError, /expected a JSON document/);
    rejects(() => parseTrexTrial(mutate((d) => (d.tool = 'other'))), ToolOutputParseError, /tool/);
    rejects(() => parseTrexTrial(mutate((d) => delete d.latency['10'])), ToolOutputParseError, /latency has no entry for pg id 10 \(forward direction\)/);
    rejects(() => parseTrexTrial(mutate((d) => delete d.flow_stats['4'])), ToolOutputParseError, /flow_stats has no entry for pg id 4/);
    rejects(() => parseTrexTrial(mutate((d) => (d.flow_stats['1'].rx_pkts['1'] = -5))), ToolOutputParseError, /flow_stats\.1\.rx_pkts\.1/);
    rejects(() => parseTrexTrial(mutate((d) => (d.latency['10'].latency.average = '14.73'))), ToolOutputParseError, /latency\.10\.latency\.average/);
    // TRex casts every latency figure to whole microseconds: a fraction is some other tool's number.
    rejects(() => parseTrexTrial(mutate((d) => (d.latency['10'].latency.average = 14.73))), ToolOutputParseError, /latency\.10\.latency\.average: expected whole microseconds or "N\/A", found 14\.73: TRex truncates/);
    rejects(() => parseTrexTrial(mutate((d) => (d.latency['11'].latency.total_min = 2.5))), ToolOutputParseError, /total_min: expected whole microseconds/);
    // The minimum is over samples the histogram counts: below its lowest bucket it is not TRex's.
    rejects(() => parseTrexTrial(mutate((d) => (d.latency['10'].latency.total_min = 6))), ToolOutputParseError, /total_min 6 us lies outside the latency histogram \[10, 200\) us/);
    rejects(() => parseTrexTrial(mutate((d) => delete d.flow_stats['1'].tx_pkts['0'])), ToolOutputParseError, /no count for tx port 0/);
  });

  it('accepts "N/A" where TRex had no figure, as null', () => {
    const fwd = parseTrexTrial(mutate((d) => (d.latency['10'].latency.jitter = 'N/A'))).directions[0]!.latency!;
    expect(fwd.jitterNs).to.equal(null);
  });

  it('finds the document after lines the TRex client printed first', () => {
    const r = parseTrexTrial(`connecting...\n${JSON.stringify(JSON.parse(fixture('trial-bidir-64.json')))}\n`);
    expect(r.txFrames).to.equal(20_000_000);
  });
});

describe('tools/trex histogram keys', () => {
  it('maps each key to its decade bucket in ns', () => {
    expect(trexBucketBounds('0')).to.deep.equal({ lowerNs: 0, upperNs: 9999 });
    expect(trexBucketBounds('10')).to.deep.equal({ lowerNs: 10_000, upperNs: 19_999 });
    expect(trexBucketBounds('90')).to.deep.equal({ lowerNs: 90_000, upperNs: 99_999 });
    expect(trexBucketBounds('200')).to.deep.equal({ lowerNs: 200_000, upperNs: 299_999 });
    expect(trexBucketBounds('9000')).to.deep.equal({ lowerNs: 9_000_000, upperNs: 9_999_999 });
    for (const bad of ['5', '15', '010', '-10', '1e3', '']) expect(() => trexBucketBounds(bad), bad).to.throw(ToolOutputParseError);
  });

  it('sorts buckets and drops empty ones', () => {
    expect(convertTrexHistogram({ '100': 1, '20': 0, '10': 4 })).to.deep.equal([
      { lowerNs: 10_000, upperNs: 19_999, count: 4 },
      { lowerNs: 100_000, upperNs: 199_999, count: 1 },
    ]);
  });

  it('multiplies microseconds by exactly 1000', () => {
    expect(usToNs(1)).to.equal(1000);
    expect(usToNs(14.73)).to.equal(14_730);
    expect(usToNs(0.0005)).to.equal(1);
  });
});
