import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parsePmdRxqShow, parsePmdStatsShow } from '../../../../lib/tools/ovs/pmd.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ovs/${name}`, import.meta.url), 'utf8');

describe('tools/ovs parsePmdStatsShow (OVS 3.1)', () => {
  it('reads the PMD and the main thread with cycles and percentages', () => {
    const [pmd, main] = parsePmdStatsShow(fixture('pmd-stats-show-one-pmd.txt'));
    expect(pmd).to.include({ thread: 'pmd', numaId: 0, coreId: 1, packetsReceived: 17205, idleCycles: 49935691955, processingCycles: 161010920, processingPercent: 0.32 });
    expect(pmd?.counters['simple match hits']).to.equal(17104);
    expect(pmd?.counters['avg cycles per packet']).to.equal(2911752.56);
    expect(pmd?.counters['avg. subtable lookups per megaflow hit']).to.equal(1);
    expect(main).to.include({ thread: 'main', numaId: null, coreId: null, packetsReceived: 0, idleCycles: null, processingPercent: null });
  });

  it('reads one block per PMD thread', () => {
    const threads = parsePmdStatsShow(fixture('pmd-stats-show-two-pmds.txt'));
    expect(threads.map((t) => [t.thread, t.coreId, t.packetsReceived])).to.deep.equal([
      ['pmd', 0, 512],
      ['pmd', 1, 3194],
      ['main', null, 0],
    ]);
  });

  it('reads the counters right after pmd-stats-clear as zero', () => {
    const [pmd] = parsePmdStatsShow(fixture('pmd-stats-show-cleared.txt'));
    expect(pmd).to.include({ packetsReceived: 0, processingCycles: 0, processingPercent: 0 });
    expect(pmd?.counters).not.to.have.property('avg cycles per packet');
  });

  it('refuses output that is not PMD statistics', () => {
    expect(() => parsePmdStatsShow('')).to.throw(ToolOutputParseError, /no thread|none/);
    expect(() => parsePmdStatsShow('  packets received: 1\n')).to.throw(ToolOutputParseError, /header first/);
    expect(() => parsePmdStatsShow('pmd thread numa_id 0 core_id 1:\n  packets received: lots\n')).to.throw(ToolOutputParseError, /label: number/);
    expect(() => parsePmdStatsShow('pmd thread numa_id 0 core_id 1:\n  emc hits: 3\n')).to.throw(ToolOutputParseError, /packets received/);
    expect(() => parsePmdStatsShow('"dpif-netdev/pmd-stats-show" is not a valid command\n')).to.throw(ToolOutputParseError);
  });
});

describe('tools/ovs parsePmdRxqShow (OVS 3.1)', () => {
  it('reads which queues the PMD polls and their usage', () => {
    const [pmd] = parsePmdRxqShow(fixture('pmd-rxq-show-one-pmd.txt'));
    expect(pmd).to.include({ numaId: 0, coreId: 1, isolated: false, overheadPercent: 0 });
    expect(pmd?.queues.map((q) => [q.port, q.queueId, q.enabled, q.usagePercent])).to.deep.equal([
      ['p0', 0, true, 0],
      ['p1', 0, true, 0],
      ['vhu0', 0, true, 0],
      ['vhu1', 0, true, 0],
    ]);
  });

  it('shows vhost-user queues as disabled once the VNF is gone', () => {
    const [pmd] = parsePmdRxqShow(fixture('pmd-rxq-show-vnf-gone.txt'));
    expect(pmd?.queues.filter((q) => !q.enabled).map((q) => q.port)).to.deep.equal(['vhu0', 'vhu1']);
  });

  it('reads NOT AVAIL as an unknown usage, not zero', () => {
    const threads = parsePmdRxqShow(fixture('pmd-rxq-show-two-pmds.txt'));
    expect(threads.map((t) => [t.coreId, t.queues.map((q) => q.port)])).to.deep.equal([
      [0, ['p0', 'vhu1']],
      [1, ['p1', 'vhu0']],
    ]);
    expect(threads[0]?.queues[0]?.usagePercent).to.equal(null);
    expect(threads[0]?.overheadPercent).to.equal(null);
  });

  it('refuses output without PMD threads or with unknown lines', () => {
    expect(() => parsePmdRxqShow('Displaying last 60 seconds pmd usage %\n')).to.throw(ToolOutputParseError, /pmd-cpu-mask/);
    expect(() => parsePmdRxqShow('pmd thread numa_id 0 core_id 1:\n  port p0 queue 0\n')).to.throw(ToolOutputParseError, /expected/);
    expect(() => parsePmdRxqShow('  isolated : false\n')).to.throw(ToolOutputParseError, /header first/);
  });
});
