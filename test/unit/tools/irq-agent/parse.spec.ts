import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../../lib/tools/irq-agent/parse.ts';

const FIXTURES = new URL('../../../fixtures/irq-agent/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

// Mutates a fixture's JSON and returns it as one line, as the agent would print it.
function mutate(name: string, change: (doc: any) => void): string {
  const doc = JSON.parse(fixture(name));
  change(doc);
  return `${JSON.stringify(doc)}\n`;
}

function expectParseError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ToolOutputParseError').to.be.instanceOf(ToolOutputParseError);
  expect((caught as Error).message).to.match(pattern);
}

describe('tools/irq-agent parseIrqRecvSummary', () => {
  it('reads the loopback self-check: 2 of 2000 withheld, exact figures', () => {
    const r = parseIrqRecvSummary(fixture('loopback-skip2.irqrecv.json'), { source: 'loopback-skip2.irqrecv.json' });
    expect(r.stoppedBy).to.equal('end-frame');
    expect(r.clockDomain).to.equal('same-host');
    expect(r.wireClock).to.equal('CLOCK_REALTIME');
    expect(r.rxTimestamp).to.equal('software');
    expect(r.rt).to.deep.equal({ cpu: 1, ranOnCpu: 1, policy: 'SCHED_FIFO', priority: 90, mlockall: true, mlockallError: null });
    expect(r.frames).to.deep.include({ received: 1998, unique: 1998, missed: 2, duplicate: 0, outOfOrder: 0, stray: 0, late: 0 });
    expect([r.lateNs, r.lateNsSource]).to.deep.equal([1_000_000, 'frame-period']);
    expect(r.frames).to.deep.include({ lastSeq: 2000, lastSeqSource: 'announced', tailKnown: true, expect: 2000 });
    const w = r.wireToHandler!;
    expect([w.samples, w.minNs, w.avgNs, w.maxNs]).to.deep.equal([1998, 7628, 41787.2, 237835]);
    expect([w.p50Ns, w.p99Ns, w.p999Ns, w.p9999Ns]).to.deep.equal([38655, 76287, 129535, 237835]);
    expect(w.buckets).to.have.length(271);
    expect(w.buckets[0]).to.deep.equal({ lowerNs: 7616, upperNs: 7647, count: 1 });
    const rx = r.receiveToHandler;
    expect([rx.samples, rx.minNs, rx.p50Ns, rx.p99Ns, rx.maxNs]).to.deep.equal([1998, 6786, 37631, 75775, 237106]);
    expect(r.receiveToHandlerSource).to.match(/software receive timestamp \(ts\[0\]\).*after the interrupt/);
  });

  it('keeps CLOCK_REALTIME ns exact although they exceed 2^53', () => {
    const r = parseIrqRecvSummary(fixture('loopback-skip2.irqrecv.json'));
    expect(r.startRealtimeNs).to.equal('1795619505002370023');
    expect(r.endRealtimeNs).to.equal('1795619507106308716');
  });

  it('reads the veth run: CLOCK_MONOTONIC frames and the hardware-timestamp fallback reason', () => {
    const r = parseIrqRecvSummary(fixture('veth-monotonic.irqrecv.json'));
    expect(r.wireClock).to.equal('CLOCK_MONOTONIC');
    expect(r.rxTimestamp).to.equal('software');
    expect(r.hwTimestampIface).to.equal('kfnirqt-b0');
    expect(r.hwFallbackReason).to.match(/^SIOCGHWTSTAMP on kfnirqt-b0: Operation not supported/);
    expect([r.lateNs, r.lateNsSource]).to.deep.equal([100_000, 'option']);
    expect(r.frames).to.deep.include({ missed: 2, late: 56, unique: 1998 });
    expect(r.wireToHandler!.p99Ns).to.equal(243711);
  });

  it('reports no wire-to-handler figure under unsynchronised, and counts stray frames apart', () => {
    const r = parseIrqRecvSummary(fixture('unsync-stray.irqrecv.json'));
    expect(r.clockDomain).to.equal('unsynchronised');
    expect(r.wireToHandler).to.equal(null);
    expect(r.wireToHandlerReason).to.match(/unsynchronised/);
    expect(r.clockOffsetNs).to.equal(null);
    expect(r.frames).to.deep.include({ stray: 5, received: 300, unique: 300, missed: 0, late: null });
    expect([r.lateNs, r.lateNsSource]).to.deep.equal([2_000_000, 'frame-period']);
    expect(r.receiveToHandler.samples).to.equal(300);
    expect(r.stoppedBy).to.equal('SIGTERM');
  });

  it('reads negative wire figures (wrong offset) as counted, not bucketed', () => {
    const r = parseIrqRecvSummary(fixture('ptp-offset.irqrecv.json'));
    expect(r.clockOffsetNs).to.equal(50000);
    expect(r.wireToHandler).to.deep.include({ samples: 1000, negatives: 999, minNs: -47011, p50Ns: 0, p99Ns: 0 });
    expect(r.wireToHandler!.buckets.reduce((s, b) => s + b.count, 0)).to.equal(1);
  });

  const rejects: Array<[string, () => string, RegExp]> = [
    ['empty stdout', () => '\n', /found nothing/],
    ['truncated JSON', () => fixture('loopback-skip2.irqrecv.json').slice(0, 900), /invalid JSON.*truncated/],
    ['a missing field', () => mutate('loopback-skip2.irqrecv.json', (d) => delete d.frames.missed), /frames\.missed/],
    ['a negative count', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.frames.stray = -1)), /frames\.stray/],
    [
      'a wire-to-handler figure under unsynchronised',
      () => mutate('unsync-stray.irqrecv.json', (d) => {
        d.wire_to_handler = d.receive_to_handler;
        d.wire_to_handler_reason = null;
      }),
      /expected no wire_to_handler figure under clock_domain unsynchronised/,
    ],
    ['a late count under unsynchronised', () => mutate('unsync-stray.irqrecv.json', (d) => (d.frames.late = 0)), /frames\.late null/],
    ['missed that does not add up', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.frames.missed = 0)), /missed = last_seq - unique/],
    ['buckets that do not sum to count', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.wire_to_handler.count = 1999)), /buckets .* = count/],
    ['a p99 its buckets do not give', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.wire_to_handler.p99 = 40000)), /expected p99 76287 from the buckets, found 40000/],
    ['min outside the first bucket', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.receive_to_handler.min = 100)), /min 100 inside the first bucket/],
    ['a measured count that is not the unique count', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.frames.unique = 1997)), /unique/],
    ['another tool', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.tool = 'kfn-irqgen')), /tool/],
    ['an unknown format version', () => mutate('loopback-skip2.irqrecv.json', (d) => (d.format = 2)), /format/],
  ];
  for (const [what, text, pattern] of rejects) {
    it(`rejects ${what}`, () => expectParseError(() => parseIrqRecvSummary(text()), pattern));
  }

  it('names the offending line and source in the error', () => {
    const text = `noise\n${fixture('loopback-skip2.irqrecv.json').slice(0, 50)}\n`;
    try {
      parseIrqRecvSummary(text, { source: 'guest:/tmp/kfn/irqrecv.out' });
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(ToolOutputParseError);
      expect((e as ToolOutputParseError).lineNumber).to.equal(2);
      expect((e as Error).message).to.contain('(guest:/tmp/kfn/irqrecv.out) at line 2');
    }
  });
});

describe('tools/irq-agent parseIrqGenSummary', () => {
  it('reads the generator of the loopback self-check, exact figures', () => {
    const g = parseIrqGenSummary(fixture('loopback-skip2.irqgen.json'));
    expect(g).to.deep.include({ clock: 'CLOCK_REALTIME', periodNs: 1_000_000, stoppedBy: 'count', lastSeq: 2000 });
    expect(g).to.deep.include({ framesSent: 1998, framesSkipped: 2, sendErrors: 0, endFramesSent: 3, overruns: 0 });
    expect(g.startRealtimeNs).to.equal('1795619505003536095');
    const p = g.pacingError;
    expect([p.samples, p.minNs, p.avgNs, p.maxNs, p.p50Ns, p.p99Ns]).to.deep.equal([1998, 8076, 18963, 90110, 17919, 42495]);
  });

  it('reads the veth generator: bound interface, duration, monotonic clock', () => {
    const g = parseIrqGenSummary(fixture('veth-monotonic.irqgen.json'));
    expect(g).to.deep.include({ iface: 'kfnirqt-a0', clock: 'CLOCK_MONOTONIC', stoppedBy: 'duration', framesSkipped: 2 });
  });

  it('reads overruns (sends more than a period late)', () => {
    expect(parseIrqGenSummary(fixture('ptp-offset.irqgen.json')).overruns).to.equal(1);
  });

  it('rejects frame counts that do not add up to last_seq', () => {
    const text = mutate('loopback-skip2.irqgen.json', (d) => (d.frames_skipped = 0));
    expectParseError(() => parseIrqGenSummary(text), /frames_sent \+ frames_skipped \+ send_errors = last_seq/);
  });

  it('rejects a pacing histogram with a sample count other than frames sent', () => {
    const text = mutate('loopback-skip2.irqgen.json', (d) => {
      d.frames_sent = 1997;
      d.send_errors = 1;
    });
    expectParseError(() => parseIrqGenSummary(text), /one pacing sample per frame sent/);
  });

  it('rejects a receiver summary given as a generator one', () => {
    expectParseError(() => parseIrqGenSummary(fixture('loopback-skip2.irqrecv.json')), /tool/);
  });
});
