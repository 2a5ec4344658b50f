import { expect } from 'chai';
import { ConfigError } from '../../../lib/errors.ts';
import { formatCpuList, parseCpuList, tryParseCpuList } from '../../../lib/config/cpu-list.ts';

describe('config/cpu-list', () => {
  const good: Array<[unknown, number[]]> = [
    ['2-5,8', [2, 3, 4, 5, 8]],
    ['0', [0]],
    [' 0 , 2 - 3 ', [0, 2, 3]],
    ['8,2-3', [2, 3, 8]],
    [[3, 1], [1, 3]],
    [[], []],
    [7, [7]],
  ];
  for (const [input, cpus] of good) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      expect(tryParseCpuList(input)).to.deep.equal({ ok: true, cpus });
    });
  }

  const bad: Array<[unknown, string]> = [
    ['3-1', 'range 3-1 runs backwards'],
    ['a', '"a" is not a CPU number'],
    ['-1', 'cannot be negative'],
    [[-1], 'cannot be negative'],
    [-2, 'cannot be negative'],
    ['1,1', 'CPU 1 is listed twice'],
    ['1-3,2', 'CPU 2 is listed twice'],
    [[1, 1], 'CPU 1 is listed twice'],
    ['', 'the list is empty'],
    ['  ', 'the list is empty'],
    ['1.5', 'is not a CPU number'],
    [[1.5], 'is not a whole CPU number'],
    [['1'], 'is not a whole CPU number'],
    ['2-', 'is not a CPU number'],
    ['1;2', 'is not a CPU number'],
    ['1,,2', 'is not a CPU number'],
    ['0-99999', 'above 8191'],
    [null, 'not text or a list'],
    [{ cpus: 1 }, 'not text or a list'],
  ];
  for (const [input, reason] of bad) {
    it(`rejects ${JSON.stringify(input)}: ${reason}`, () => {
      const r = tryParseCpuList(input);
      expect(r.ok).to.equal(false);
      if (r.ok) return;
      expect(r.message).to.include('expected a CPU list such as "2-5,8"');
      expect(r.message).to.include(reason);
    });
  }

  it('parseCpuList throws a ConfigError naming where the list came from', () => {
    expect(() => parseCpuList('3-1', { file: 'cli', path: '--rt-cpus' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('cli: --rt-cpus: expected a CPU list');
    expect(parseCpuList([4, 2])).to.deep.equal([2, 4]);
  });

  const formatted: Array<[number[], string]> = [
    [[2, 3, 4, 5, 8], '2-5,8'],
    [[5, 1, 2], '1-2,5'],
    [[0], '0'],
    [[0, 2, 4], '0,2,4'],
    [[1, 1, 2], '1-2'],
    [[], ''],
  ];
  for (const [cpus, text] of formatted) {
    it(`formats ${JSON.stringify(cpus)} as "${text}"`, () => {
      expect(formatCpuList(cpus)).to.equal(text);
    });
  }

  it('round-trips through format and parse', () => {
    for (const text of ['0-3,8-11,15', '1', '0,2,4-6']) {
      expect(formatCpuList(parseCpuList(text))).to.equal(text);
    }
  });
});
