import { expect } from 'chai';
import { enforceVerdict, evaluateLimit, ThresholdFailure, UnjudgeableFigure, type LimitSpec } from '../../../lib/verdict/limits.ts';
import { convert, formatValue } from '../../../lib/verdict/units.ts';

const maxLimit: LimitSpec = { metric: 'max', max: 1000, unit: 'us', action: 'assert' };
const minLimit: LimitSpec = { metric: 'ndr', min: 1, unit: 'mpps', action: 'assert' };
const fig = (value: number | null, where: string, unit = 'us') => ({ value, unit, where });

describe('evaluateLimit', () => {
  it('lets the worst thread decide and names it', () => {
    const v = evaluateLimit(maxLimit, [fig(80, 'guest thread 0 (cpu 1)'), fig(3021, 'guest thread 1 (cpu 2)'), fig(90, 'guest thread 2 (cpu 3)')]);
    expect(v.outcome).to.equal('fail');
    expect(v.message).to.equal('guest thread 1 (cpu 2): max 3021 us > limit 1000 us');
  });

  it('passes at exactly the limit and fails just above it', () => {
    expect(evaluateLimit(maxLimit, [fig(1000, 'host')]).outcome).to.equal('pass');
    expect(evaluateLimit(maxLimit, [fig(1000.5, 'host')]).outcome).to.equal('fail');
  });

  it('converts units before comparing (ns measured against a µs limit)', () => {
    expect(evaluateLimit(maxLimit, [fig(999_000, 'guest', 'ns')]).outcome).to.equal('pass');
    expect(evaluateLimit(maxLimit, [fig(1_001_000, 'guest', 'ns')]).outcome).to.equal('fail');
  });

  it('judges min limits from below', () => {
    expect(evaluateLimit(minLimit, [fig(2_000_000, 'host', 'pps')]).outcome).to.equal('pass');
    const v = evaluateLimit(minLimit, [fig(900_000, 'host 64 B', 'pps')]);
    expect(v.outcome).to.equal('fail');
    expect(v.message).to.equal('host 64 B: ndr 0.9 Mpps < limit 1 Mpps');
  });

  it('never passes what was not measured', () => {
    expect(evaluateLimit(maxLimit, []).outcome).to.equal('unknown');
    const v = evaluateLimit(maxLimit, [fig(10, 'host'), { value: null, unit: 'us', where: 'guest', note: 'needs 1000 samples, have 12' }]);
    expect(v.outcome).to.equal('unknown');
    expect(v.message).to.contain('needs 1000 samples');
  });

  it('fails an unknown value whose known lower bound already breaks the limit', () => {
    const v = evaluateLimit(maxLimit, [{ value: null, unit: 'us', where: 'guest thread 0', atLeast: 20000 }]);
    expect(v.outcome).to.equal('fail');
    expect(v.message).to.contain('> 20000 us');
  });

  it('still fails on a real violation when another figure is unknown', () => {
    const v = evaluateLimit(maxLimit, [fig(5000, 'host'), { value: null, unit: 'us', where: 'guest' }]);
    expect(v.outcome).to.equal('fail');
  });
});

describe('enforceVerdict', () => {
  it('throws ThresholdFailure for assert and reports monitor violations without throwing', () => {
    const failing = evaluateLimit(maxLimit, [fig(2000, 'guest')]);
    expect(() => enforceVerdict(failing, { profile: 'opnfv-tc028' })).to.throw(ThresholdFailure, /2000 us > limit 1000 us \(assert, profile opnfv-tc028\)/);
    const monitored = evaluateLimit({ ...maxLimit, action: 'monitor' }, [fig(2000, 'guest')]);
    expect(enforceVerdict(monitored, { profile: 'p' })).to.deep.equal({ monitorViolation: true });
    expect(enforceVerdict(evaluateLimit(maxLimit, [fig(5, 'g')]), { profile: 'p' })).to.deep.equal({ monitorViolation: false });
  });

  it('throws for an unknown figure even under monitor', () => {
    const unknown = evaluateLimit({ ...maxLimit, action: 'monitor' }, [fig(null, 'guest')]);
    expect(() => enforceVerdict(unknown, { profile: 'p' })).to.throw(UnjudgeableFigure);
  });
});

describe('units', () => {
  it('converts within a dimension and refuses across', () => {
    expect(convert(1, 'ms', 'us')).to.equal(1000);
    expect(convert(1500, 'kpps', 'mpps')).to.equal(1.5);
    expect(() => convert(1, 'us', 'pps')).to.throw(/cannot convert/);
    expect(formatValue(0.123456, 'percent')).to.equal('0.1235 %');
  });
});
