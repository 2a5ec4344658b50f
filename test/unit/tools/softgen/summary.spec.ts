import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseSoftgenOutput } from '../../../../lib/tools/softgen/parse.ts';
import { buildLatencySummary } from '../../../../lib/tools/softgen/summary.ts';

const latencyOf = (name: string) =>
  parseSoftgenOutput(readFileSync(new URL(`../../../fixtures/softgen/${name}`, import.meta.url), 'utf8')).directions[0]!.latency!;

describe('buildLatencySummary', () => {
  it('keeps every percentile of a 20000-sample trial, in ns', () => {
    const s = buildLatencySummary(latencyOf('trial-64-10kpps.json'));
    expect(s).to.include({ unit: 'ns', samples: 20000, min: 345, avg: 1914.3, max: 70973, p50: 995, p99: 17279, p999: 62207, p9999: 70655, overflows: 0, maxIsLowerBound: false });
    expect(s.notes).to.not.have.property('p9999');
  });

  it('drops percentiles that 500 samples cannot support, with a note', () => {
    const s = buildLatencySummary(latencyOf('trial-skip-seq.json'));
    expect(s).to.include({ samples: 500, p50: 2159, p99: 9343, p999: null, p9999: null });
    expect(s.notes.p999).to.equal('500 samples cannot support p999 (needs 1000)');
  });

  it('notes the 1 us resolution of kernel pktgen timestamps', () => {
    expect(buildLatencySummary(latencyOf('rx-pktgen.json')).notes.resolution).to.match(/1000 ns resolution \(kernel pktgen header\)/);
  });
});
