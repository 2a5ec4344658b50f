import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseTestpmdStats, parseTestpmdVersion } from '../../../../lib/tools/testpmd/parse.ts';

const FIXTURES = new URL('../../../fixtures/testpmd/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

describe('tools/testpmd parseTestpmdStats', () => {
  it('reads the per-port and accumulated blocks of a bidirectional io run (real output, periodic screens before them)', () => {
    const stats = parseTestpmdStats(fixture('io-bidir-64.stdout'), { expectedPorts: 2 });
    expect(stats.forwardMode).to.equal('io');
    expect(stats.quitAtOnce).to.equal(false);
    expect(stats.macs).to.deep.equal({ 0: '16:B4:3C:44:0B:EE', 1: '2E:C3:FB:50:7A:33' });
    expect(stats.ports.map((p) => [p.port, p.rxPackets, p.txPackets, p.rxDropped, p.txDropped])).to.deep.equal([
      [0, 150_000, 150_000, 0, 0],
      [1, 150_000, 150_000, 0, 0],
    ]);
    expect(stats.accumulated).to.include({ rxPackets: 300_000, txPackets: 300_000, rxTotal: 300_000, txTotal: 300_000 });
  });

  it('agrees with the generator that ran through it: every frame received was forwarded', () => {
    const stats = parseTestpmdStats(fixture('io-bidir-64.stdout'));
    const softgen = JSON.parse(fixture('io-bidir-64.softgen.json')) as { streams: Array<{ rx_frames: number }> };
    const received = softgen.streams.reduce((s, x) => s + x.rx_frames, 0);
    expect(stats.accumulated.txPackets).to.equal(received);
  });

  it('reads a one-way macswap run: port 0 only receives, port 1 only sends', () => {
    const stats = parseTestpmdStats(fixture('macswap-oneway-1518-flood.stdout'), { expectedPorts: 2 });
    expect(stats.forwardMode).to.equal('macswap');
    expect(stats.ports[0]).to.include({ rxPackets: 3_056_428, txPackets: 0 });
    expect(stats.ports[1]).to.include({ rxPackets: 0, txPackets: 3_056_428 });
  });

  it('flags a testpmd that quit at once because it had no --stats-period', () => {
    const stats = parseTestpmdStats(fixture('no-stats-period.stdout'));
    expect(stats.quitAtOnce).to.equal(true);
    expect(stats.accumulated.rxPackets).to.equal(0);
  });

  it('reads RX-error and RX-nombufs when testpmd prints them (only when non-zero)', () => {
    const text = fixture('io-bidir-64.stdout').replace(
      /(Forward statistics for port 0 [^\n]*\n[^\n]*\n)/,
      '$1  RX-error: 7\n  RX-nombufs: 12            \n',
    );
    const stats = parseTestpmdStats(text);
    expect(stats.ports[0]).to.include({ rxErrors: 7, rxNoMbufs: 12 });
    expect(stats.ports[1]).to.include({ rxErrors: 0, rxNoMbufs: 0 });
  });

  it('rejects a testpmd killed before it could print its forward statistics (real output)', () => {
    expect(() => parseTestpmdStats(fixture('killed-sigkill.stdout'))).to.throw(ToolOutputParseError, /Accumulated forward statistics/);
  });

  it('rejects a testpmd that never started', () => {
    expect(() => parseTestpmdStats(fixture('exit-mbufs-1024.stdout'))).to.throw(ToolOutputParseError, /found none/);
  });

  const edits: Array<[string, (t: string) => string, RegExp]> = [
    ['a block cut short', (t) => t.replace(/(Forward statistics for port 1 [^\n]*\n[^\n]*\n)[^\n]*\n/, '$1'), /lacks txPackets, txDropped, txTotal/],
    ['an accumulated count that is not the sum of the ports', (t) => t.replace(/(Accumulated[^\n]*\n  RX-packets: )300000(\s+RX-dropped: 0\s+RX-total: )300000/, '$1300001$2300001'), /not the sum over the ports/],
    ['a total that is not packets + dropped', (t) => t.replace(/(port 0 [^\n]*\n  RX-packets: 150000\s+RX-dropped: 0\s+RX-total: )150000/, '$1150001'), /RX-total 150001 is not/],
    ['a count that is not a number', (t) => t.replace(/(port 1 [^\n]*\n  RX-packets: )150000/, '$1-5'), /expected a count/],
    ['a port listed twice', (t) => t.replace('Forward statistics for port 1 ', 'Forward statistics for port 0 '), /two forward statistics blocks/],
  ];
  for (const [what, edit, message] of edits) {
    it(`rejects ${what}`, () => {
      const text = edit(fixture('io-bidir-64.stdout'));
      expect(text).not.to.equal(fixture('io-bidir-64.stdout'));
      expect(() => parseTestpmdStats(text)).to.throw(ToolOutputParseError, message);
    });
  }

  it('rejects a port count other than the one the topology started', () => {
    expect(() => parseTestpmdStats(fixture('io-bidir-64.stdout'), { expectedPorts: 4 })).to.throw(ToolOutputParseError, /expected forward statistics for 4 ports, found 2/);
  });
});

describe('tools/testpmd parseTestpmdVersion', () => {
  it('reads the DPDK version that -v prints on stderr', () => {
    expect(parseTestpmdVersion(fixture('io-bidir-64.stderr'))).to.equal('22.11.11');
  });

  it('answers null without the -v line', () => {
    expect(parseTestpmdVersion('EAL: Detected CPU lcores: 2\n')).to.equal(null);
  });
});
