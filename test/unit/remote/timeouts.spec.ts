import { expect } from 'chai';
import { timeoutFor } from '../../../lib/remote/timeouts.ts';

describe('remote/timeouts', () => {
  const table: Array<[number, Parameters<typeof timeoutFor>[1], number]> = [
    [0, {}, 60_000], // slack alone beats the 30 s floor
    [10, {}, 75_000],
    [120, {}, 240_000],
    [3600, {}, 5_460_000],
    [0, { slackS: 0 }, 30_000], // floor
    [100, { factor: 2, slackS: 10, floorS: 5 }, 210_000],
  ];
  for (const [seconds, scaling, expected] of table) {
    it(`gives ${expected} ms for a ${seconds} s measurement with ${JSON.stringify(scaling)}`, () => {
      expect(timeoutFor(seconds, scaling)).to.equal(expected);
    });
  }

  it('rejects negative and non-finite lengths', () => {
    expect(() => timeoutFor(-1)).to.throw(RangeError, /measurementSeconds/);
    expect(() => timeoutFor(Number.NaN)).to.throw(RangeError);
    expect(() => timeoutFor(10, { factor: Infinity })).to.throw(RangeError, /factor/);
  });
});
