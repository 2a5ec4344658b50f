import { expect } from 'chai';
import { EXIT, exitCodeFor, outcomeOfCases } from '../../../lib/results/exit-codes.ts';

describe('exit codes', () => {
  it('keep the precedence bad input > not measured > threshold > regression > push', () => {
    const all = { badInput: true, notMeasured: true, thresholdFailed: true, regression: true, pushFailed: true };
    expect(exitCodeFor(all)).to.equal(2);
    expect(exitCodeFor({ ...all, badInput: false })).to.equal(70);
    expect(exitCodeFor({ thresholdFailed: true, regression: true, pushFailed: true })).to.equal(68);
    expect(exitCodeFor({ regression: true, pushFailed: true })).to.equal(71);
    expect(exitCodeFor({ pushFailed: true })).to.equal(69);
    expect(exitCodeFor({})).to.equal(0);
  });

  it('derive not-measured and threshold failures from case statuses', () => {
    const cases = (...statuses: string[]) => ({ cases: statuses.map((status) => ({ status })) }) as never;
    expect(exitCodeFor(outcomeOfCases(cases('pass', 'fail', 'error')))).to.equal(EXIT.notMeasured);
    expect(exitCodeFor(outcomeOfCases(cases('pass', 'fail', 'skip')))).to.equal(EXIT.thresholdFailed);
    expect(exitCodeFor(outcomeOfCases(cases('pass', 'skip')))).to.equal(EXIT.ok);
  });

  it('a run whose every case was skipped measured nothing (70), unless it was a dry run', () => {
    const cases = (...statuses: string[]) => ({ cases: statuses.map((status) => ({ status })) }) as never;
    expect(exitCodeFor(outcomeOfCases(cases('skip', 'skip')))).to.equal(EXIT.notMeasured);
    expect(exitCodeFor(outcomeOfCases(cases('skip', 'skip'), { dryRun: true }))).to.equal(EXIT.ok);
  });
});
