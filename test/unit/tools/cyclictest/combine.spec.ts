import { expect } from 'chai';
import { MeasurementError, ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseCyclictestRun, type CyclictestResult } from '../../../../lib/tools/cyclictest/combine.ts';
import { readFixture, replaceOnce } from './fixtures.ts';

interface ThreadFigures {
  cpu: number;
  cycles: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  overflows: number;
  p50: number | null;
  p99: number | null;
}

interface Case {
  name: string;
  json: string;
  stdout: string;
  limit: number;
  threads: ThreadFigures[];
  overall: { samples: number; min: number | null; avg: number | null; max: number | null; overflows: number; p50: number | null; p99: number | null; p999: number | null };
}

// Figures read from the fixtures; the percentiles marked "by hand" were counted from the rows.
const CASES: Case[] = [
  {
    name: 'one-thread-h200',
    json: 'one-thread-h200.json',
    stdout: 'one-thread-h200.stdout.txt',
    limit: 200,
    // p50 by hand: rank 1492; count(≤19) = 1260, count(≤20) = 1871. p99: rank 2955; count(≤37) = 2952, count(≤38) = 2956.
    threads: [{ cpu: 1, cycles: 2984, min: 16, avg: 26.17, max: 13580, overflows: 3, p50: 20, p99: 38 }],
    overall: { samples: 2984, min: 16, avg: 26.17, max: 13580, overflows: 3, p50: 20, p99: 38, p999: null },
  },
  {
    name: 'two-threads-h200',
    json: 'two-threads-h200.json',
    stdout: 'two-threads-h200.stdout.txt',
    limit: 200,
    threads: [
      { cpu: 0, cycles: 6000, min: 11, avg: 20.97, max: 355, overflows: 5, p50: 20, p99: 28 },
      { cpu: 1, cycles: 6000, min: 9, avg: 25.85, max: 179, overflows: 0, p50: 20, p99: 49 },
    ],
    // By hand on the merged rows (11995 in buckets + 5 overflows): p99 rank 11880, count(≤47) = 11824,
    // count(≤48) = 11902; p99.9 rank 11988, count(≤127) = 11987, count(≤129) = 11989.
    overall: { samples: 12000, min: 9, avg: 23.41, max: 355, overflows: 5, p50: 20, p99: 48, p999: 129 },
  },
  {
    name: 'two-threads-h200 with the 2.7+ stdout layout',
    json: 'two-threads-h200.json',
    stdout: 'two-threads-h200-v2.7.stdout.txt',
    limit: 200,
    threads: [
      { cpu: 0, cycles: 6000, min: 11, avg: 20.97, max: 355, overflows: 5, p50: 20, p99: 28 },
      { cpu: 1, cycles: 6000, min: 9, avg: 25.85, max: 179, overflows: 0, p50: 20, p99: 49 },
    ],
    overall: { samples: 12000, min: 9, avg: 23.41, max: 355, overflows: 5, p50: 20, p99: 48, p999: 129 },
  },
  {
    name: 'overflow-h50-stress',
    json: 'overflow-h50-stress.json',
    stdout: 'overflow-h50-stress.stdout.txt',
    limit: 50,
    // Thread 0: 50 of 3000 overflowed, p99 rank 2970 > 2950 in buckets: unknown, ≥ 50 µs.
    // Overall by hand: rank 5940 of 6000; count(≤46) = 5930, count(≤47) = 5940.
    threads: [
      { cpu: 0, cycles: 3000, min: 14, avg: 21.24, max: 108, overflows: 50, p50: 19, p99: null },
      { cpu: 1, cycles: 3000, min: 16, avg: 21.29, max: 38, overflows: 0, p50: 21, p99: 29 },
    ],
    overall: { samples: 6000, min: 14, avg: 21.27, max: 108, overflows: 50, p50: 20, p99: 47, p999: null },
  },
  {
    name: 'break-b30',
    json: 'break-b30.json',
    stdout: 'break-b30.stdout.txt',
    limit: 50,
    threads: [
      { cpu: 0, cycles: 12, min: 14, avg: 16.92, max: 21, overflows: 0, p50: null, p99: null },
      { cpu: 1, cycles: 11, min: 18, avg: 21.55, max: 38, overflows: 0, p50: null, p99: null },
    ],
    overall: { samples: 23, min: 14, avg: 19.13, max: 38, overflows: 0, p50: 19, p99: null, p999: null },
  },
  {
    name: 'not-quiet-l50',
    json: 'not-quiet-l50.json',
    stdout: 'not-quiet-l50.stdout.txt',
    limit: 50,
    threads: [
      { cpu: 0, cycles: 50, min: 16, avg: 18.74, max: 35, overflows: 0, p50: 18, p99: null },
      { cpu: 1, cycles: 50, min: 17, avg: 37.62, max: 884, overflows: 1, p50: 20, p99: null },
    ],
    overall: { samples: 100, min: 16, avg: 28.18, max: 884, overflows: 1, p50: 19, p99: null, p999: null },
  },
  {
    name: 'zero-cycles-sigint',
    json: 'zero-cycles-sigint.json',
    stdout: 'zero-cycles-sigint.stdout.txt',
    limit: 20,
    threads: [
      { cpu: 0, cycles: 0, min: null, avg: null, max: null, overflows: 0, p50: null, p99: null },
      { cpu: 1, cycles: 0, min: null, avg: null, max: null, overflows: 0, p50: null, p99: null },
    ],
    overall: { samples: 0, min: null, avg: null, max: null, overflows: 0, p50: null, p99: null, p999: null },
  },
];

function run(json: string, stdout: string | null, limit: number | null, expectedCpus?: number[]): CyclictestResult {
  const input = { jsonText: json, stdout, histogramLimitUs: limit };
  return parseCyclictestRun(expectedCpus === undefined ? input : { ...input, expectedCpus });
}

function figures(r: CyclictestResult): ThreadFigures[] {
  return r.threads.map((t) => ({ cpu: t.cpu, cycles: t.cycles, min: t.min, avg: t.avg, max: t.max, overflows: t.overflows, p50: t.summary.p50, p99: t.summary.p99 }));
}

function rejects(fn: () => unknown, kind: typeof ToolOutputParseError | typeof MeasurementError, message: RegExp): void {
  expect(fn).to.throw(kind, message);
}

describe('tools/cyclictest/combine', () => {
  describe('recorded runs', () => {
    for (const c of CASES) {
      it(c.name, () => {
        const r = run(readFixture(c.json), readFixture(c.stdout), c.limit);
        expect(r.version).to.equal('2.40');
        expect(r.histogramLimitUs).to.equal(c.limit);
        expect(figures(r)).to.deep.equal(c.threads);
        const { samples, min, avg, max, overflows, p50, p99, p999 } = r.overall;
        expect({ samples, min, avg, max, overflows, p50, p99, p999 }).to.deep.equal(c.overall);
        // cyclictest reports the true max, so it is never a bound here.
        expect(r.overall.maxIsLowerBound).to.equal(false);
      });
    }

    it('gives the same result for the 2.4 and 2.7+ stdout layouts of one run', () => {
      const json = readFixture('two-threads-h200.json');
      expect(run(json, readFixture('two-threads-h200-v2.7.stdout.txt'), 200)).to.deep.equal(run(json, readFixture('two-threads-h200.stdout.txt'), 200));
    });

    it('notes why an overflowed percentile is missing, with the lower bound', () => {
      const r = run(readFixture('overflow-h50-stress.json'), readFixture('overflow-h50-stress.stdout.txt'), 50);
      expect(r.threads[0]?.summary.notes['p99']).to.include('≥ 50 us');
      expect(r.overall.notes['p999']).to.equal('needs ≥ 10000 samples, have 6000');
    });

    it('reports the break thread by index and the break value', () => {
      const r = run(readFixture('break-b30.json'), readFixture('break-b30.stdout.txt'), 50);
      expect([r.breakThread, r.breakValue]).to.deep.equal([1, 38]);
      const clean = run(readFixture('two-threads-h200.json'), readFixture('two-threads-h200.stdout.txt'), 200);
      expect('breakThread' in clean).to.equal(false);
    });

    it('withholds every figure of a zero-cycle run, saying why', () => {
      const r = run(readFixture('zero-cycles-sigint.json'), readFixture('zero-cycles-sigint.stdout.txt'), 20);
      expect(r.threads[0]?.summary.notes['max']).to.equal('thread 0 (CPU 0) completed 0 cycles');
      expect(r.overall.notes['max']).to.include('not every CPU was measured');
    });

    it('reads a run without -h from its JSON alone: exact min/avg/max, no percentiles', () => {
      const r = run(readFixture('no-histogram.json'), null, null);
      expect(figures(r).map((t) => [t.cycles, t.min, t.avg, t.max])).to.deep.equal([
        [2000, 14, 19.83, 306],
        [1334, 16, 23.75, 689],
      ]);
      expect(r.overall).to.deep.include({ samples: 3334, min: 14, max: 689, p99: null, overflows: 0 });
      expect(r.overall.notes['p99']).to.include('without -h');
    });

    it('checks the thread CPUs against the ones asked for', () => {
      const json = readFixture('two-threads-h200.json');
      const stdout = readFixture('two-threads-h200.stdout.txt');
      expect(run(json, stdout, 200, [0, 1]).threads).to.have.length(2);
      rejects(() => run(json, stdout, 200, [1, 2]), MeasurementError, /CPUs 0,1, expected 1,2/);
    });
  });

  describe('one thread with 0 cycles, the other with samples (hand-made, shaped like zero-cycles-sigint)', () => {
    const json = `{"file_version": 1, "cmdline:": "cyclictest -q -h 20 -t 2", "rt_test_version:": "2.40",
      "start_time": "x", "end_time": "y", "return_code": 0, "num_threads": 2, "resolution_in_ns": 0,
      "thread": {"0": {"histogram": {"5": 20, "7": 5}, "cycles": 25, "min": 5, "max": 7, "avg": 5.40, "cpu": 2, "node": 0},
                 "1": {"histogram": {}, "cycles": 0, "min": 1000000, "max": 0, "avg": -nan, "cpu": 3, "node": 0}}}`;
    const stdout = [
      '# Histogram',
      '000005 000020\t000000',
      '000007 000005\t000000',
      '# Min Latencies: 00005 1000000',
      '# Avg Latencies: 00005 00000',
      '# Max Latencies: 00007 00000',
      '# Histogram Overflows: 00000 00000',
      '# Histogram Overflow at cycle number:',
      '# Thread 0:',
      '# Thread 1:',
      '',
    ].join('\n');

    it('keeps the measured thread and withholds the overall figures', () => {
      const r = run(json, stdout, 20);
      expect(r.threads[0]?.summary).to.deep.include({ samples: 25, min: 5, max: 7, p50: 5 });
      expect(r.threads[1]?.summary).to.deep.include({ samples: 0, max: null });
      expect(r.overall).to.deep.include({ samples: 25, min: null, max: null, p50: null });
      expect(r.overall.notes['max']).to.equal('thread 1 (CPU 3) completed 0 cycles: not every CPU was measured');
    });
  });

  describe('rejects', () => {
    const json = (): string => readFixture('two-threads-h200.json');
    const stdout = (): string => readFixture('two-threads-h200.stdout.txt');
    const overflowJson = (): string => readFixture('overflow-h50-stress.json');
    const overflowStdout = (): string => readFixture('overflow-h50-stress.stdout.txt');

    it('stdout from another run (thread counts differ)', () => {
      rejects(() => run(json(), readFixture('one-thread-h200.stdout.txt'), 200), ToolOutputParseError, /2 threads, stdout has 1/);
    });

    it('cycles that do not match buckets + overflows', () => {
      const edited = replaceOnce(json(), /"cycles": 6000,(\s+)"min": 11,/, '"cycles": 6001,$1"min": 11,');
      rejects(() => run(edited, stdout(), 200), ToolOutputParseError, /stdout reports 5 overflows, the JSON implies 6/);
    });

    it('a max that differs between the JSON and stdout', () => {
      rejects(() => run(replaceOnce(json(), '"max": 179', '"max": 180'), stdout(), 200), ToolOutputParseError, /min\/max/);
    });

    it('buckets that differ between the JSON and stdout', () => {
      rejects(() => run(replaceOnce(json(), '"179": 1', '"178": 1'), stdout(), 200), ToolOutputParseError, /buckets differ/);
    });

    it('an overflowed run whose max is below the limit (both sources agreeing)', () => {
      // Thread 0 overflowed 50 times at -h 50; claim max 49 in both files.
      const j = replaceOnce(overflowJson(), '"max": 108', '"max": 49');
      const s = replaceOnce(overflowStdout(), '# Max Latencies: 00108 00038', '# Max Latencies: 00049 00038');
      rejects(() => run(j, s, 50), ToolOutputParseError, /50 samples overflowed -h 50, yet max is 49/);
    });

    it('a histogram limit other than the -h on the command line', () => {
      rejects(() => run(json(), stdout(), 2000), ToolOutputParseError, /-h 200, but the histogram limit given is 2000/);
    });

    it('a histogram limit that does not match the 2.4 row count when the command line does not say', () => {
      const edited = replaceOnce(json(), ' -h 200 ', ' ');
      rejects(() => run(edited, stdout(), 300), ToolOutputParseError, /200 histogram rows/);
    });

    it('a nan average on a thread with cycles', () => {
      rejects(() => run(replaceOnce(json(), '"avg": 25.85', '"avg": nan'), stdout(), 200), ToolOutputParseError, /avg is nan with 6000 cycles/);
    });

    it('a min that is not the lowest bucket', () => {
      const j = replaceOnce(json(), '"min": 9', '"min": 8');
      const s = replaceOnce(stdout(), '# Min Latencies: 00011 00009', '# Min Latencies: 00011 00008');
      rejects(() => run(j, s, 200), ToolOutputParseError, /min is 8 but the lowest bucket is 9/);
    });

    it('a JSON without histogram keys for a run with -h', () => {
      const j = json().replace(/"histogram": \{[^}]*\},/g, '');
      rejects(() => run(j, stdout(), 200), ToolOutputParseError, /no "histogram" key/);
    });

    it('a run with -h but no stdout', () => {
      rejects(() => run(json(), null, 200), MeasurementError, /needs its stdout/);
    });

    it('a non-zero return_code', () => {
      rejects(() => run(replaceOnce(json(), '"return_code": 0', '"return_code": 1'), stdout(), 200), MeasurementError, /return_code 1/);
    });

    it('a run in ns (-N)', () => {
      rejects(() => run(replaceOnce(json(), '"resolution_in_ns": 0', '"resolution_in_ns": 1'), stdout(), 200), MeasurementError, /-N/);
    });
  });
});
