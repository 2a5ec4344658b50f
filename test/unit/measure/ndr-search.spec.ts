import { expect } from 'chai';
import {
  measureLatencyAtLoads,
  searchNdrPdr,
  searchTrialBounds,
  type SearchTrialContext,
  type SearchTrialOutcome,
} from '../../../lib/measure/ndr-search.ts';

/** A simulated device plus generator: loss and achieved rate as functions of the requested rate. */
interface Sim {
  loss(rate: number, ctx: SearchTrialContext): number;
  /** What the generator can send; default: whatever is asked. */
  maxTxPps?: number;
}

function simulate(sim: Sim) {
  const calls: Array<{ rate: number } & SearchTrialContext> = [];
  const runTrial = async (rate: number, ctx: SearchTrialContext): Promise<SearchTrialOutcome> => {
    calls.push({ rate, ...ctx });
    const achieved = Math.min(rate, sim.maxTxPps ?? Infinity);
    const valid = achieved >= 0.9 * rate;
    return { lossRatio: sim.loss(rate, ctx), valid, invalidReasons: valid ? [] : [`sent ${achieved} of ${rate}`], achievedTxPps: achieved };
  };
  return { calls, runTrial };
}

/** Forwards everything up to `limit` pps and drops 5 % above. */
const cliff = (limit: number): Sim => ({ loss: (r) => (r <= limit ? 0 : 0.05) });

describe('measure/ndr-search searchTrialBounds', () => {
  it('needs 11 trials per target at NFVbench resolution, 21 for two diverging targets', () => {
    expect(searchTrialBounds()).to.deep.equal({ single: 11, worst: 21 });
    expect(searchTrialBounds(0.01)).to.deep.equal({ single: 8, worst: 15 });
    expect(() => searchTrialBounds(0)).to.throw(RangeError);
  });
});

describe('measure/ndr-search searchNdrPdr', () => {
  it('finds the cliff of a device that drops above 600 000 pps in the exact NFVbench trial sequence', async () => {
    const { calls, runTrial } = simulate(cliff(600_000));
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial });
    expect(calls.map((c) => c.rate)).to.deep.equal([
      1_000_000, 500_000, 750_000, 625_000, 562_500, 593_750, 609_375, 601_562, 597_656, 599_609, 600_585,
      // verification, once for both targets (same rate)
      599_609,
    ]);
    expect(calls.map((c) => c.purpose)).to.deep.equal([...Array(11).fill('search'), 'verify']);
    expect(r.epsilonPps).to.equal(1000);
    for (const t of [r.ndr, r.pdr]) {
      expect(t).to.deep.include({ ratePps: 599_609, limitedBy: 'device-loss', isLowerBound: false, converged: true, status: 'verified', passTrial: 9 });
      expect(t.interval).to.deep.equal({ passPps: 599_609, failPps: 600_585 });
      expect(t.verification).to.deep.equal({ trial: 11, passed: true });
      expect(t.percentOfCeiling).to.be.closeTo(59.9609, 1e-9);
    }
    expect(r.trials[2]).to.deep.include({ ratePps: 750_000, valid: true, lossRatio: 0.05, verdicts: { ndr: 'loss', pdr: 'loss' } });
    expect(r.generatorLimitPps).to.equal(null);
    expect(r.notes).to.deep.equal([]);
  });

  it('separates NDR (0.001 %) from PDR (0.1 %) on a device whose loss grows with the rate', async () => {
    // Above 500 000 pps it loses 0.4 % of the excess: loss = 0.004 * (r - 500000) / r.
    const loss = (r: number) => Math.max(0, (0.004 * (r - 500_000)) / r);
    const { calls, runTrial } = simulate({ loss });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial });
    // NDR: loss <= 1e-5 up to 501 253 pps; PDR: loss <= 1e-3 up to 666 666 pps.
    expect(r.ndr.ratePps).to.be.within(501_253 - 1000, 501_253);
    expect(r.pdr.ratePps).to.be.within(666_666 - 1000, 666_666);
    expect(loss(r.ndr.ratePps)).to.be.at.most(1e-5);
    expect(loss(r.ndr.interval.failPps!)).to.be.greaterThan(1e-5);
    expect(loss(r.pdr.ratePps)).to.be.at.most(1e-3);
    // The fourth trial (625 000 pps) splits the targets: PDR passes, NDR does not.
    expect(r.trials[3]).to.deep.include({ ratePps: 625_000, verdicts: { ndr: 'loss', pdr: 'pass' } });
    expect(r.pdr.interval.failPps! - r.pdr.interval.passPps).to.be.lessThan(1000);
    expect(r.ndr.interval.failPps! - r.ndr.interval.passPps).to.be.lessThan(1000);
    const search = calls.filter((c) => c.purpose === 'search');
    expect(search.length).to.be.at.most(21);
    expect(calls.filter((c) => c.purpose === 'verify').map((c) => c.rate)).to.deep.equal([r.pdr.ratePps, r.ndr.ratePps]);
    expect([r.ndr.status, r.pdr.status]).to.deep.equal(['verified', 'verified']);
  });

  it('stops at the ceiling when the device forwards line rate, and only then', async () => {
    const { calls, runTrial } = simulate({ loss: () => 0 });
    const r = await searchNdrPdr({ ceilingPps: 14_880_952.38, ceilingSource: 'line-rate', runTrial });
    expect(calls.map((c) => [c.rate, c.purpose])).to.deep.equal([
      [14_880_952, 'search'],
      [14_880_952, 'verify'],
    ]);
    expect(r.ndr).to.deep.include({ ratePps: 14_880_952, limitedBy: 'ceiling', isLowerBound: false, status: 'verified', percentOfCeiling: 100 });
    expect(r.ndr.interval).to.deep.equal({ passPps: 14_880_952, failPps: null });
    const cal = await searchNdrPdr({ ceilingPps: 450_000, ceilingSource: 'calibration', runTrial: simulate({ loss: () => 0 }).runTrial });
    expect(cal.ndr).to.deep.include({ limitedBy: 'ceiling', isLowerBound: true });
  });

  it('never reads an invalid trial as device loss: a generator-limited rate is a lower bound', async () => {
    // The generator tops out at 700 000 pps; the device would forward 900 000. Invalid trials
    // report 50 % loss (frames the generator never sent are not lost), which must be ignored.
    const { calls, runTrial } = simulate({ maxTxPps: 700_000, loss: (r) => (r > 777_777 ? 0.5 : 0) });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial });
    expect(calls.map((c) => c.rate)).to.deep.equal([
      1_000_000, 500_000, 750_000, 875_000, 812_500, 781_250, 765_625, 773_437, 777_343, 779_296, 778_319, 777_343,
    ]);
    expect(r.trials.filter((t) => !t.valid).map((t) => t.ratePps)).to.deep.equal([1_000_000, 875_000, 812_500, 781_250, 779_296, 778_319]);
    expect(r.trials[0]!.verdicts).to.deep.equal({ ndr: 'invalid', pdr: 'invalid' });
    for (const t of [r.ndr, r.pdr]) {
      expect(t).to.deep.include({ ratePps: 777_343, limitedBy: 'generator', isLowerBound: true, status: 'verified' });
    }
    expect(r.generatorLimitPps).to.equal(778_319);
    expect(r.notes[0]).to.match(/generator could not reach 778319 pps.*lower bounds, not device limits/);
  });

  it('reports a verification trial that fails on a noisy device instead of trusting the search', async () => {
    // Clean below 600 000 pps during the search, but a burst of loss hits the verification trial.
    const { runTrial } = simulate({ loss: (r, ctx) => (ctx.purpose === 'verify' ? 0.002 : r <= 600_000 ? 0 : 0.05) });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial });
    expect(r.ndr).to.deep.include({ ratePps: 599_609, status: 'verification-failed' });
    expect(r.ndr.verification).to.deep.equal({ trial: 11, passed: false });
    expect(r.trials[11]!.verdicts).to.deep.equal({ ndr: 'loss', pdr: 'loss' });
  });

  it('lets one noisy search trial steer the search down, as NFVbench does', async () => {
    const { calls, runTrial } = simulate({ loss: (r, ctx) => (ctx.index === 1 ? 0.01 : r <= 600_000 ? 0 : 0.05) });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial, verify: false });
    expect(calls.slice(0, 3).map((c) => c.rate)).to.deep.equal([1_000_000, 500_000, 250_000]);
    expect(r.ndr.ratePps).to.be.lessThan(500_000);
    expect(r.ndr.status).to.equal('unverified');
    expect(r.ndr.verification).to.equal(null);
  });

  it('stops at the iteration cap with the best rate so far, marked as not converged', async () => {
    const { calls, runTrial } = simulate(cliff(600_000));
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial, maxSearchTrials: 4 });
    expect(calls.map((c) => [c.rate, c.purpose])).to.deep.equal([
      [1_000_000, 'search'],
      [500_000, 'search'],
      [750_000, 'search'],
      [625_000, 'search'],
      [500_000, 'verify'],
    ]);
    expect(r.ndr).to.deep.include({ ratePps: 500_000, limitedBy: 'iteration-cap', converged: false, isLowerBound: true, status: 'verified' });
    expect(r.ndr.interval).to.deep.equal({ passPps: 500_000, failPps: 625_000 });
    expect(r.notes[0]).to.match(/cap of 4 trials/);
  });

  it('finds nothing on a device that drops everything, and verifies nothing', async () => {
    const { calls, runTrial } = simulate({ loss: () => 1 });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial });
    expect(calls.map((c) => c.rate)).to.deep.equal([1_000_000, 500_000, 250_000, 125_000, 62_500, 31_250, 15_625, 7812, 3906, 1953, 976]);
    expect(r.ndr).to.deep.include({ ratePps: 0, status: 'not-found', passTrial: null, limitedBy: 'device-loss' });
    expect(r.pdr.status).to.equal('not-found');
  });

  it('hands the configured durations to search and verification trials', async () => {
    const { calls, runTrial } = simulate(cliff(2_000_000));
    await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial, trialDurationS: 5, verifyDurationS: 60 });
    expect(calls.map((c) => [c.purpose, c.durationS])).to.deep.equal([
      ['search', 5],
      ['verify', 60],
    ]);
  });

  it('uses the given loss limits and resolution', async () => {
    const { calls, runTrial } = simulate({ loss: (r) => (r <= 600_000 ? 0.004 : 0.05) });
    const r = await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial, pdrLossRatio: 0.005, epsilonFraction: 0.01 });
    expect(r.epsilonPps).to.equal(10_000);
    expect(r.ndr.status).to.equal('not-found');
    expect(r.pdr.ratePps).to.equal(593_750);
    expect(calls.filter((c) => c.purpose === 'search')).to.have.length.at.most(15);
  });

  it('stops between trials when aborted', async () => {
    const controller = new AbortController();
    const { calls, runTrial } = simulate({ loss: (_r, ctx) => (ctx.index === 1 ? (controller.abort(new Error('run aborted')), 0) : 0.05) });
    let caught: unknown;
    await searchNdrPdr({ ceilingPps: 1_000_000, ceilingSource: 'line-rate', runTrial, signal: controller.signal }).catch((e) => (caught = e));
    expect((caught as Error).message).to.equal('run aborted');
    expect(calls).to.have.length(2);
  });

  it('refuses limits and ceilings that make no sense', async () => {
    const { runTrial } = simulate(cliff(1));
    for (const bad of [{ ceilingPps: 0 }, { ndrLossRatio: 0.01, pdrLossRatio: 0.001 }, { maxSearchTrials: 0 }]) {
      let caught: unknown;
      await searchNdrPdr({ ceilingPps: 1000, ceilingSource: 'line-rate', runTrial, ...bad }).catch((e) => (caught = e));
      expect(caught, JSON.stringify(bad)).to.be.instanceOf(RangeError);
    }
  });
});

describe('measure/ndr-search measureLatencyAtLoads', () => {
  it('runs one latency trial at 10, 50 and 90 % of the NDR', async () => {
    const { calls, runTrial } = simulate({ loss: () => 0 });
    const out = await measureLatencyAtLoads({ ndrPps: 599_609, runTrial });
    expect(out.map((o) => [o.fraction, o.ratePps])).to.deep.equal([
      [0.1, 59_960],
      [0.5, 299_804],
      [0.9, 539_648],
    ]);
    expect(calls.map((c) => c.purpose)).to.deep.equal(['latency', 'latency', 'latency']);
    expect(await measureLatencyAtLoads({ ndrPps: 0, runTrial })).to.deep.equal([]);
  });
});
