import { expect } from 'chai';
import { extractForwardingFigures, extractTimerFigures, FIGURE_EXTRACTORS } from '../../../lib/regression/figures.ts';
import type { CaseResult } from '../../../lib/results/model.ts';
import { loadBaseline, timerOf } from './runs.ts';

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
    expect(figures[0]?.context).to.deep.equal({ load: 'idle', durationS: 60 });
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

  it('registers every case of the catalogue that has figures to gate', () => {
    expect(Object.keys(FIGURE_EXTRACTORS)).to.have.members(['timer', 'baremetal_forwarding', 'sriov_forwarding', 'ovs_dpdk_forwarding']);
  });
});
