import { expect } from 'chai';
import { PhaseClock } from '../../../lib/harness/phases.ts';
import { runCase } from '../../../lib/harness/run-case.ts';
import { overheadMs } from '../../../lib/results/phases.ts';
import { buildFakeScope, catalogueCase } from '../../support/fake-scope.ts';

/** A clock the test moves by hand. */
function manualClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('harness/phases PhaseClock', () => {
  it('gives each instant to the innermost open phase, the rest to other, and sums to the wall time', () => {
    const c = manualClock();
    const clock = new PhaseClock({ now: c.now });
    c.advance(5); // before any phase: other
    const measure = clock.enter('measure');
    c.advance(100);
    const collect = clock.enter('collect'); // a read-back inside the measurement
    c.advance(30);
    collect();
    c.advance(20);
    measure();
    measure(); // closing twice changes nothing
    const judge = clock.enter('judge');
    c.advance(7); // still open when totals are read
    const totals = clock.totals();
    expect(totals).to.deep.equal({ connect: 0, provision: 0, build: 0, measure: 120, collect: 30, judge: 7, cleanup: 0, other: 5 });
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).to.equal(162);
    expect(overheadMs(totals)).to.equal(42);
    judge();
  });

  it('counts overlapping phases (two nodes at once) to the one entered last, never twice', () => {
    const c = manualClock();
    const clock = new PhaseClock({ now: c.now });
    const a = clock.enter('measure');
    c.advance(10);
    const b = clock.enter('connect');
    c.advance(10);
    a(); // measure ends while connect still runs
    c.advance(10);
    b();
    expect(clock.totals()).to.include({ measure: 10, connect: 20, other: 0 });
  });

  it('closes a phase whose function throws', async () => {
    const c = manualClock();
    const clock = new PhaseClock({ now: c.now });
    await clock.run('build', async () => {
      c.advance(50);
      throw new Error('gcc failed');
    }).catch(() => undefined);
    c.advance(5);
    expect(clock.totals()).to.include({ build: 50, other: 5 });
  });
});

describe('harness/phases in a case result', () => {
  it('records where a case spent its time, from the suite\'s phases, its tests and its undo steps', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('phased'));
    expect(result.status).to.equal('pass');
    const p = result.phasesMs;
    if (!p) throw new Error('no phasesMs');
    expect(p.provision).to.be.at.least(28);
    expect(p.measure).to.be.at.least(58);
    expect(p.collect).to.be.at.least(38);
    expect(p.judge).to.be.at.least(23);
    expect(p.cleanup).to.be.at.least(28);
    const sum = Object.values(p).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - result.durationMs)).to.be.at.most(10);
  });
});
