import { expect } from 'chai';
import {
  DEFAULT_FRAME_SIZES,
  estimatePlanSeconds,
  fitSearchTrialsToBudget,
  parseFrameSizes,
  planLatencyLoads,
  resolveCeiling,
} from '../../../lib/traffic/plan.ts';
import { catchConfigError } from '../../support/catch-error.ts';


describe('traffic/plan parseFrameSizes', () => {
  it('reads sizes and imix in the given order', () => {
    expect(parseFrameSizes('64,1518,imix')).to.deep.equal([64, 1518, 'imix']);
    expect(parseFrameSizes(' 128 , IMIX ')).to.deep.equal([128, 'imix']);
  });

  it('sweeps RFC 2544 sizes, 1280 and IMIX by default', () => {
    expect(DEFAULT_FRAME_SIZES).to.deep.equal([64, 128, 256, 512, 1024, 1280, 1518, 'imix']);
  });

  it('names each bad item by position and what was found', () => {
    const e = catchConfigError(() => parseFrameSizes('64,15x8,32,imix,64'));
    expect(e.file).to.equal('--frame-sizes');
    expect(e.issues).to.deep.equal([
      { path: 'item 2', message: 'expected an integer number of bytes or "imix", found "15x8"' },
      { path: 'item 3', message: 'expected 64 to 9216 bytes (Ethernet frame including FCS), found 32' },
      { path: 'item 5', message: '64 is listed twice' },
    ]);
    expect(e.message).to.match(/^--frame-sizes: item 2: expected an integer/);
    expect(catchConfigError(() => parseFrameSizes('64,,128')).issues[0]!.path).to.equal('item 2');
    expect(catchConfigError(() => parseFrameSizes('')).issues[0]!.message).to.match(/empty value/);
    expect(catchConfigError(() => parseFrameSizes('-64')).issues[0]!.message).to.match(/found "-64"/);
  });
});

describe('traffic/plan resolveCeiling', () => {
  it('climbs to the slowest tx port line rate', () => {
    const c = resolveCeiling({ txPorts: [{ name: 'a', lineRateBps: 10e9 }, { name: 'b', lineRateBps: 25e9 }], frameSize: 64 });
    expect(c.source).to.equal('line-rate');
    expect(Math.floor(c.ceilingPps)).to.equal(14_880_952);
  });

  it('uses the calibrated rate on ports without a line rate, and refuses to guess one', () => {
    expect(resolveCeiling({ txPorts: [{ name: 'veth' }], frameSize: 64, calibratedPps: 450_000 })).to.deep.equal({ ceilingPps: 450_000, source: 'calibration' });
    expect(catchConfigError(() => resolveCeiling({ txPorts: [{ name: 'veth' }, { name: 'p1', lineRateBps: 1e9 }], frameSize: 64 })).message).to.match(
      /port veth has no lineRateBps.*calibrat/,
    );
  });
});

describe('traffic/plan planLatencyLoads', () => {
  it('asks for 10, 50 and 90 % of the NDR', () => {
    expect(planLatencyLoads(1_000_000)).to.deep.equal([
      { fraction: 0.1, ratePps: 100_000 },
      { fraction: 0.5, ratePps: 500_000 },
      { fraction: 0.9, ratePps: 900_000 },
    ]);
    expect(planLatencyLoads(5)).to.deep.equal([{ fraction: 0.5, ratePps: 2 }, { fraction: 0.9, ratePps: 4 }]);
    expect(planLatencyLoads(0)).to.deep.equal([]);
  });
});

describe('traffic/plan budget', () => {
  it('adds every trial at its duration plus overhead, the search at its cap', () => {
    const e = estimatePlanSeconds({ frameSizes: [64, 1518], trialDurationS: 5, maxSearchTrials: 11, calibrationTrials: 1, trialOverheadS: 2, fixedOverheadS: 20 });
    expect(e.trialsPerFrameSize).to.equal(11 + 2 + 3 + 1);
    expect(e.totalTrials).to.equal(34);
    expect(e.totalS).to.equal(34 * 7 + 20);
    expect(e.breakdown).to.equal(
      '2 frame size(s) (64, 1518) x 17 trials (11 search + 2 verification + 3 latency + 1 calibration) x (5 s + 2 s overhead) + 20 s setup = 258 s at most',
    );
  });

  it('plans --duration 5 with frame sizes 64 and 1518 within 5 minutes on the lab pod', () => {
    const fit = fitSearchTrialsToBudget({
      plan: { frameSizes: parseFrameSizes('64,1518'), trialDurationS: 5, calibrationTrials: 1, trialOverheadS: 2, fixedOverheadS: 20 },
      budgetS: 300,
    });
    expect(fit.estimate.totalS).to.be.at.most(300);
    // 11 trials take one target to the 0.1 % resolution.
    expect(fit.maxSearchTrials).to.be.at.least(11);
    expect(fit.converges).to.equal('single-target');
    expect(fitSearchTrialsToBudget({ plan: { frameSizes: [64], trialDurationS: 1, trialOverheadS: 0 }, budgetS: 3600 }).converges).to.equal('always');
  });

  it('refuses a budget the shortest useful sweep does not fit, saying what it needs', () => {
    const e = catchConfigError(() =>
      fitSearchTrialsToBudget({ plan: { frameSizes: [64, 128, 1518], trialDurationS: 30, trialOverheadS: 3 }, budgetS: 300 }),
    );
    expect(e.message).to.match(/expected at least 1089 s for the shortest useful sweep, found a budget of 300 s: 3 frame size\(s\)/);
    expect(e.message).to.match(/fewer frame sizes or a shorter --duration/);
  });
});
