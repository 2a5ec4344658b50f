import { expect } from 'chai';
import { formatForwardingTable, type ForwardingTableEntry } from '../../../lib/report/forwarding-table.ts';

const summary = (p50: number, p99: number, max: number) => ({ unit: 'ns' as const, p50, p99, max });
const entry = (over: Partial<ForwardingTableEntry> = {}): ForwardingTableEntry => ({
  frameSize: 64,
  direction: 'bidirectional',
  ndrPps: 178_402,
  pdrPps: 190_000,
  ndr: { isLowerBound: false, limitedBy: 'device-loss', confirmedBy: 'verification' },
  ceilingPps: 713_612.75,
  ceilingSource: 'calibration',
  lossAtRate: { ratePps: 71_361, lossPercent: 0, valid: true },
  latency: { where: '90 % of NDR, both directions merged', summary: summary(1_500_000, 3_620_863, 4_030_463) },
  calibration: { maxTxPps: 713_612, latency: [{ summary: summary(1623, 160_767, 1_625_601) }, { summary: summary(1655, 169_983, 2_848_253) }] },
  ...over,
});

describe('report/forwarding-table formatForwardingTable', () => {
  it('prints rates in pps and latency in us beside the generator\'s own', () => {
    const lines = formatForwardingTable([entry(), entry({ frameSize: 1518, ndrPps: 100, ndr: { isLowerBound: true, limitedBy: 'generator', confirmedBy: 'verification' }, pdrPps: null, lossAtRate: { ratePps: 5, lossPercent: 1.29, valid: true }, latency: null, calibration: null })]).split('\n');
    expect(lines[0]).to.match(/^frame\s+NDR pps\s+PDR pps\s+ceiling pps\s+loss at rate\s+p50 us\s+p99 us\s+max us\s+gen p99 us$/);
    expect(lines[1]).to.match(/^64 B\s+178402\s+190000\s+713613 \(gen\)\s+0 % @71361\s+1500\s+3621\s+4030\s+170$/);
    expect(lines[2]).to.match(/^1518 B\s+100\*\s+\?\s+713613 \(gen\)\s+1\.29 % @5\s+-\s+-\s+-\s+-$/);
    expect(lines.join('\n')).to.include('latency: 90 % of NDR, both directions merged');
  });

  it('says when the fixed-rate trial was the generator\'s fault', () => {
    const text = formatForwardingTable([entry({ lossAtRate: { ratePps: 1, lossPercent: 50, valid: false } })]);
    expect(text.split('\n')[1]).to.include('invalid');
  });
});
