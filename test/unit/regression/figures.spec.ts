import { expect } from 'chai';
import { loadCatalogue } from '../../../lib/config/catalogue.ts';
import { extractDeviceInterruptFigures, extractForwardingFigures, extractTimerFigures, FIGURE_EXTRACTORS } from '../../../lib/regression/figures.ts';
import { parseRegressionPolicy } from '../../../lib/regression/policy.ts';
import type { CaseResult } from '../../../lib/results/model.ts';
import { buildIrqDetails, loadBaseline, timerOf } from './runs.ts';

const caseOf = (name: string): CaseResult => {
  const found = loadBaseline().cases.find((c) => c.caseName === name);
  if (!found) throw new Error(`no ${name} in the fixture`);
  return found;
};

describe('regression/figures', () => {
  it('takes p99 and max of each timer node\'s overall summary, with load and duration', () => {
    const { figures, notes } = extractTimerFigures(caseOf('timer'));
    expect(notes).to.deep.equal([]);
    expect(figures.map((f) => [f.id, f.value])).to.deep.equal([
      ['timer host host all threads p99', 10],
      ['timer host host all threads max', 20],
      ['timer guest guest all threads p99', 20],
      ['timer guest guest all threads max', 40],
    ]);
    expect(figures[0]?.context).to.deep.equal({
      load: 'idle',
      durationS: 60,
      conditions: { 'cyclictest interval (interval_us)': '1000 us', 'cyclictest priority (priority)': '99', 'accelerator (accelerator)': 'none recorded' },
    });
  });

  it('turns an overflowed max into a lower bound, never a value', () => {
    const run = loadBaseline();
    Object.assign(timerOf(run, 'guest').overall.summary, { max: 20000, maxIsLowerBound: true, notes: {} });
    const max = extractTimerFigures(run.cases[0] as CaseResult).figures.find((f) => f.id === 'timer guest guest all threads max');
    expect(max).to.include({ value: null, atLeast: 20000 });
    expect(max?.note).to.include('lower bound');
  });

  it('rejects timer details of another shape with a note instead of guessing', () => {
    const timer = { ...caseOf('timer'), details: { guest: { overall: { where: 'x' } }, host: 'cyclictest failed' } };
    const { figures, notes } = extractTimerFigures(timer);
    expect(figures).to.deep.equal([]);
    expect(notes).to.have.length(2);
    expect(notes[0]).to.include('details.guest is not a timer measurement');
  });

  it('reads forwarding trials and notes absent or malformed ones', () => {
    const fwd = caseOf('ovs_dpdk_forwarding');
    expect(extractForwardingFigures(fwd).figures.map((f) => `${f.where} ${f.metric} ${f.value}`)).to.deep.equal([
      '64 B frames ndr 10000000', '64 B frames pdr 10500000', '1518 B frames ndr 800000', '1518 B frames pdr 812000',
    ]);
    expect(extractForwardingFigures({ ...fwd, details: {} }).notes[0]).to.include('details.throughput is absent');
    expect(extractForwardingFigures({ ...fwd, details: { throughput: [{ frameSize: 64 }] } }).notes[0]).to.include('lacks frameSize or durationS');
    expect(extractForwardingFigures({ ...fwd, details: { throughput: [{ frameSize: 'jumbo', durationS: 5 }] } }).notes[0]).to.include('lacks frameSize or durationS');
    const imix = extractForwardingFigures({ ...fwd, details: { throughput: [{ frameSize: 'imix', durationS: 5, ndrPps: 1000, pdrPps: null }] } });
    expect(imix.figures.map((f) => [f.id, f.value, f.context.frameSize])).to.deep.equal([
      ['ovs_dpdk_forwarding pod imix B frames ndr', 1000, 'imix'],
      ['ovs_dpdk_forwarding pod imix B frames pdr', null, 'imix'],
    ]);
  });

  it('reads p99 and max of wire-to-handler and receive-to-handler from a recorded device_interrupt run', () => {
    const result = { ...caseOf('timer'), caseName: 'device_interrupt', details: { guest: buildIrqDetails('veth-monotonic') } };
    const { figures, notes } = extractDeviceInterruptFigures(result);
    expect(notes).to.deep.equal([]);
    expect(figures.map((f) => [f.id, f.value, f.unit])).to.deep.equal([
      ['device_interrupt guest wire_to_handler p99', 243711, 'ns'],
      ['device_interrupt guest wire_to_handler max', 342248, 'ns'],
      ['device_interrupt guest receive_to_handler p99', 242687, 'ns'],
      ['device_interrupt guest receive_to_handler max', 308465, 'ns'],
    ]);
    expect(figures[0]?.context).to.deep.equal({
      load: 'idle',
      durationS: 2,
      conditions: {
        'interrupt period (period_us)': '1000 us',
        'receiver priority (priority)': 'SCHED_FIFO 90',
        'clock case (clock_domain)': 'same-host',
        'receive timestamps (hw_timestamps)': 'software',
        'accelerator (accelerator)': 'none recorded',
      },
    });
  });

  it('keeps a device_interrupt latency the clock case cannot give as a null figure with the reason, and notes malformed entries', () => {
    const unsync = { ...caseOf('timer'), caseName: 'device_interrupt', details: { guest: buildIrqDetails('unsync-stray'), tgen: { period_ns: 'x' } } };
    const { figures, notes } = extractDeviceInterruptFigures(unsync);
    const wire = figures.find((f) => f.id === 'device_interrupt guest wire_to_handler p99');
    expect(wire).to.include({ value: null });
    expect(wire?.note).to.include('clock domain unsynchronised');
    expect(figures.find((f) => f.id === 'device_interrupt guest receive_to_handler p99')?.value).to.equal(197631);
    expect(figures[0]?.context.conditions).to.include({ 'interrupt period (period_us)': '2000 us', 'receiver priority (priority)': 'SCHED_OTHER' });
    expect(notes).to.deep.equal(['device_interrupt: details.tgen is not a device interrupt measurement ({ period_ns, wire_to_handler, receive_to_handler, ... }); skipped']);
  });

  it('has an extractor for every latency and forwarding case of testcases/testcases.yaml, and none for unknown cases', () => {
    const cases = loadCatalogue().tiers.flatMap((t) => t.cases);
    const gated = cases.filter((c) => c.tier === 'latency' || c.tier === 'forwarding').map((c) => c.caseName);
    // A catalogue that lost its tiers would make the check below pass on nothing.
    expect(gated).to.include.members(['timer', 'device_interrupt', 'ovs_dpdk_forwarding']);
    expect(gated.filter((name) => FIGURE_EXTRACTORS[name] === undefined)).to.deep.equal([]);
    // The profile's regression.cases names are checked against the registry: no stale names there.
    expect(Object.keys(FIGURE_EXTRACTORS).filter((name) => !cases.some((c) => c.caseName === name))).to.deep.equal([]);
  });

  it('lets a profile set device_interrupt margins, now that it has figures', () => {
    const policy = parseRegressionPolicy({ cases: { device_interrupt: { p99: { margin_percent: 40 } } } }, 'thresholds.yaml');
    expect(policy.ruleFor('device_interrupt', 'p99').marginPercent).to.equal(40);
  });
});
