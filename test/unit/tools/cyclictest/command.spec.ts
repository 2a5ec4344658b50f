import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import { buildCyclictestCommand, type CyclictestParams } from '../../../../lib/tools/cyclictest/command.ts';
import { findHistogramArg } from '../../../../lib/tools/cyclictest/parse-json.ts';

const BASE: CyclictestParams = { rtCpus: [2, 3], mainCpu: 0, durationS: 60, jsonPath: '/tmp/kfn-r1/cyclictest.json' };

function issues(params: CyclictestParams): string[] {
  try {
    buildCyclictestCommand(params);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('tools/cyclictest/command', () => {
  it('builds the default command: every RT CPU a thread, a large histogram, JSON to a file', () => {
    const c = buildCyclictestCommand(BASE);
    expect(c.argv).to.deep.equal([
      'cyclictest', '-m', '-q', '-p99', '-i1000', '-h', '20000', '-a', '2-3', '-t', '2',
      '--mainaffinity=0', '-D', '60', '--json=/tmp/kfn-r1/cyclictest.json',
    ]);
    expect(c).to.deep.include({ jsonPath: '/tmp/kfn-r1/cyclictest.json', histogramLimitUs: 20000, threadCpus: [2, 3], expectedDurationMs: 60000 });
  });

  it('never passes -d (forced to 0 by -h) or -n (rejected by 2.4)', () => {
    const argv = buildCyclictestCommand(BASE).argv;
    expect(argv.filter((a) => /^-[dn]/.test(a))).to.deep.equal([]);
  });

  it('orders thread CPUs as -a does (ascending) and takes loops, break, binary, priority, interval', () => {
    const c = buildCyclictestCommand({
      ...BASE,
      durationS: undefined,
      rtCpus: [5, 1, 3],
      mainCpu: 0,
      loops: 120000,
      breakUs: 1000,
      binary: '/opt/rt-tests/cyclictest',
      priority: 95,
      intervalUs: 200,
      histogramUs: 90,
    });
    expect(c.argv).to.deep.equal([
      '/opt/rt-tests/cyclictest', '-m', '-q', '-p95', '-i200', '-h', '90', '-a', '1,3,5', '-t', '3',
      '--mainaffinity=0', '-l', '120000', '-b', '1000', '--json=/tmp/kfn-r1/cyclictest.json',
    ]);
    expect(c.threadCpus).to.deep.equal([1, 3, 5]);
    expect(c.expectedDurationMs).to.equal(24000);
  });

  it('writes -h so that the JSON parser reads the same limit back from the command line', () => {
    const c = buildCyclictestCommand({ ...BASE, histogramUs: 750 });
    expect(findHistogramArg(c.argv.join(' '))).to.equal(750);
  });

  const bad: Array<[string, CyclictestParams, string]> = [
    ['no RT CPU', { ...BASE, rtCpus: [] }, 'rtCpus: expected at least one RT CPU'],
    ['a CPU listed twice', { ...BASE, rtCpus: [2, 2] }, 'rtCpus: a CPU is listed twice: 2,2'],
    ['a negative CPU', { ...BASE, rtCpus: [-1] }, 'rtCpus[0]: expected a whole number ≥ 0, got -1'],
    ['the housekeeping CPU among the RT CPUs', { ...BASE, mainCpu: 3 }, 'mainCpu: CPU 3 is also an RT CPU'],
    ['both duration and loops', { ...BASE, loops: 10 }, 'durationS: expected exactly one of durationS and loops'],
    ['neither duration nor loops', { ...BASE, durationS: undefined }, 'durationS: expected exactly one of durationS and loops'],
    ['a fractional duration', { ...BASE, durationS: 1.5 }, 'durationS: expected a whole number ≥ 1, got 1.5'],
    ['priority 100', { ...BASE, priority: 100 }, 'priority: expected a whole number from 1 to 99, got 100'],
    ['a zero histogram', { ...BASE, histogramUs: 0 }, 'histogramUs: expected a whole number from 1 to 1000000, got 0'],
    ['a zero interval', { ...BASE, intervalUs: 0 }, 'intervalUs: expected a whole number ≥ 1, got 0'],
    ['a JSON path with a space', { ...BASE, jsonPath: '/tmp/a b.json' }, 'jsonPath: expected a non-empty path without whitespace'],
    ['an empty binary', { ...BASE, binary: ' ' }, 'binary: expected a command name or path'],
  ];
  for (const [what, params, message] of bad) {
    it(`rejects ${what}`, () => expect(issues(params).some((i) => i.startsWith(message))).to.equal(true, issues(params).join('\n')));
  }

  it('reports every problem at once', () => {
    expect(issues({ ...BASE, priority: 0, intervalUs: -5, jsonPath: '' })).to.have.length(3);
  });
});
