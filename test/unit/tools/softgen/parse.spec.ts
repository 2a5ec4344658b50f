import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseSoftgenOutput, type LatencyResult } from '../../../../lib/tools/softgen/parse.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/softgen/${name}`, import.meta.url), 'utf8');

// The documented percentile: upper bound of the bucket holding the ceil(q*n)-th sample, capped at max.
function percentileFromHistogram(l: LatencyResult, q: number): number {
  const rank = Math.max(1, Math.ceil(q * l.samples));
  let cumulative = 0;
  for (const b of l.histogram) {
    cumulative += b.count;
    if (cumulative >= rank) return Math.min(b.highNs, l.maxNs!);
  }
  return l.maxNs!;
}

describe('parseSoftgenOutput', () => {
  it('reads a one-way 10 kpps trial with exact figures', () => {
    const out = parseSoftgenOutput(fixture('trial-64-10kpps.json'), 'trial-64-10kpps.json');
    expect(out).to.include({ mode: 'trial', txMethod: 'sendmmsg', qdiscBypass: true, batch: 64, frameSize: 64, imix: false, flows: 1, drainMs: 200, interrupted: false });
    expect(out.directions).to.have.length(1);
    const d = out.directions[0]!;
    expect(d).to.include({ streamId: 1, header: 'softgen', txIf: 't0', rxIf: 't1', txFrames: 20000, txRetries: 0, lastSeq: 20000 });
    expect(d).to.include({ requestedPps: 10000, achievedTxPps: 10000, durationS: 2, rxFrames: 20000, lost: 0, lossRatio: 0, dropped: 0, duplicate: 0, outOfOrder: 0 });
    expect(d.latency).to.include({ samples: 20000, minNs: 345, avgNs: 1914.3, maxNs: 70973, jitterNs: 620.7, p50Ns: 995, p99Ns: 17279, p999Ns: 62207, p9999Ns: 70655, timestampResolutionNs: 1 });
    expect(d.latency!.histogram).to.have.length(773);
    expect(d.latency!.histogram[0]).to.deep.equal({ lowNs: 344, highNs: 345, count: 1 });
    expect(d.latency!.histogram.at(-1)).to.deep.equal({ lowNs: 70656, highNs: 71167, count: 2 });
    expect(out.rxInterfaces).to.deep.equal([{ name: 't1', ringPackets: 20000, ringDrops: 0, strays: { notIpv4Udp: 0, noMagic: 0, unknownStream: 0, malformed: 0 } }]);
  });

  it('finds the reported percentiles where the histogram puts them', () => {
    for (const name of ['trial-64-10kpps.json', 'trial-bidir-imix.json', 'trial-overload.json', 'rx-pktgen.json']) {
      for (const d of parseSoftgenOutput(fixture(name)).directions) {
        const l = d.latency!;
        expect([l.p50Ns, l.p99Ns, l.p999Ns, l.p9999Ns], `${name} stream ${d.streamId}`).to.deep.equal(
          [0.5, 0.99, 0.999, 0.9999].map((q) => percentileFromHistogram(l, q)),
        );
      }
    }
  });

  it('reads both directions of a bidirectional IMIX trial', () => {
    const out = parseSoftgenOutput(fixture('trial-bidir-imix.json'));
    expect(out).to.include({ imix: true, frameSize: null, flows: 16 });
    expect(out.directions.map((d) => [d.streamId, d.txIf, d.rxIf, d.txFrames, d.rxFrames, d.lost])).to.deep.equal([
      [11, 't0', 't1', 5000, 5000, 0],
      [12, 't1', 't0', 5000, 5000, 0],
    ]);
    expect(out.directions[1]!.achievedTxPps).to.equal(5000);
    expect(out.rxInterfaces.map((r) => r.name)).to.deep.equal(['t1', 't0']);
  });

  it('keeps a skipped sequence number as dropped, not lost', () => {
    const d = parseSoftgenOutput(fixture('trial-skip-seq.json')).directions[0]!;
    expect(d).to.include({ txFrames: 500, lastSeq: 501, rxFrames: 500, lost: 0, dropped: 1, duplicate: 0, outOfOrder: 0 });
  });

  it('reads a pktgen receive-only run with null send fields and 1 us timestamps', () => {
    const out = parseSoftgenOutput(fixture('rx-pktgen.json'));
    expect(out).to.include({ mode: 'rx', txMethod: null, qdiscBypass: null, batch: null, frameSize: null });
    const d = out.directions[0]!;
    expect(d).to.include({ streamId: 0, header: 'pktgen', txIf: null, txFrames: null, lost: null, lossRatio: null, requestedPps: null, rxFrames: 300, dropped: 0 });
    expect(d.latency).to.include({ samples: 300, timestampResolutionNs: 1000, minNs: 602, maxNs: 10773 });
  });

  it('reads a send-only run with null receive fields', () => {
    const out = parseSoftgenOutput(fixture('tx-full-speed.json'));
    const d = out.directions[0]!;
    expect(d).to.include({ txFrames: 1000000, requestedPps: 0, achievedTxPps: 1810773.7, durationS: 0.55225, rxFrames: null, latency: null, lost: null });
    expect(out.rxInterfaces).to.deep.equal([]);
  });

  it('reads an interrupted run as interrupted', () => {
    expect(parseSoftgenOutput(fixture('trial-interrupted.json')).interrupted).to.equal(true);
  });

  const rejects: Array<[string, RegExp]> = [
    ['reject-truncated.json', /complete JSON document \(truncated output\?\)/],
    ['reject-negative-count.json', /streams\.0\.rx_frames: .*>=\s*0/],
    ['reject-rx-exceeds-tx.json', /rx_frames - duplicate = 20003 exceeds tx_frames = 20000/],
    ['reject-missing-field.json', /streams\.0\.dropped: .*(received undefined|expected number)/i],
    ['reject-histogram-sum.json', /histogram: expected counts summing to samples 20000, found 20001/],
    ['reject-lost-mismatch.json', /lost: expected tx_frames - \(rx_frames - duplicate\) = 0, found 5/],
    ['reject-latency-in-us.json', /min: expected inside the first bucket \[344, 345\], found 0/],
  ];
  for (const [name, message] of rejects) {
    it(`rejects ${name}`, () => {
      expect(() => parseSoftgenOutput(fixture(name), name))
        .to.throw(ToolOutputParseError, message)
        .with.property('tool', 'kfn-softgen');
    });
  }

  it('rejects empty output and a document from another tool', () => {
    expect(() => parseSoftgenOutput('\n')).to.throw(ToolOutputParseError, /no output/);
    const other = fixture('trial-64-10kpps.json').replace('"tool":"kfn-softgen"', '"tool":"trafgen"');
    expect(() => parseSoftgenOutput(other)).to.throw(ToolOutputParseError, /tool/);
  });

  it('rejects receive figures in a send-only run', () => {
    const doc = JSON.parse(fixture('tx-full-speed.json'));
    doc.streams[0].rx_frames = 1000000;
    expect(() => parseSoftgenOutput(JSON.stringify(doc))).to.throw(ToolOutputParseError, /rx_frames: expected null in tx mode/);
  });
});
