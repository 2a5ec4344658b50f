import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseCyclictestRun } from '../../../../lib/tools/cyclictest/combine.ts';
import { readFixture, replaceOnce } from './fixtures.ts';

// cyclictest writes --json before its threads finish their last loop, and prints stdout after
// (rt-tests src/cyclictest/cyclictest.c v2.4-v2.10, see one-thread-h200-last-loop.source.md):
// stdout may hold exactly one more sample per thread, never more.
describe('tools/cyclictest/last-loop: the one loop stdout may hold beyond the JSON', () => {
  const json = (): string => readFixture('one-thread-h200.json');
  const bucketExtra = (): string => readFixture('one-thread-h200-last-loop.stdout.txt');
  const overflowExtra = (): string => readFixture('one-thread-h200-last-overflow.stdout.txt');
  const run = (stdout: string) => parseCyclictestRun({ jsonText: json(), stdout, histogramLimitUs: 200 });

  it('takes the extra in-histogram sample into every figure, with a note', () => {
    const t = run(bucketExtra()).threads[0]!;
    expect(t).to.deep.include({ cycles: 2985, min: 16, max: 13580, avg: 26.17, overflows: 3 });
    expect(t.buckets.find((b) => b.value === 19)).to.deep.equal({ value: 19, count: 714 });
    expect(t.summary.samples).to.equal(2985);
    expect(t.summary.notes['lastLoop']).to.match(/one sample more than the --json file \(a sample of 19 µs\)/);
  });

  it('keeps a last sample that overflowed: the run\'s max is stdout\'s, not the JSON\'s', () => {
    const r = run(overflowExtra());
    expect(r.threads[0]).to.deep.include({ cycles: 2985, min: 16, max: 15000, avg: 31.19, overflows: 4 });
    expect(r.overall).to.deep.include({ samples: 2985, max: 15000, overflows: 4 });
    expect(r.threads[0]!.summary.notes['lastLoop']).to.match(/over the 200 µs histogram limit/);
  });

  it('changes nothing and notes nothing when both hold the same samples', () => {
    const t = run(readFixture('one-thread-h200.stdout.txt')).threads[0]!;
    expect(t).to.deep.include({ cycles: 2984, avg: 26.17, max: 13580 });
    expect(t.summary.notes).to.not.have.property('lastLoop');
  });

  const tamper = (text: string, edits: Array<[string, string]>): string => edits.reduce((s, [from, to]) => replaceOnce(s, from, to), text);
  const cases: Array<[string, string, RegExp]> = [
    ['two more samples in one bucket', tamper(bucketExtra(), [['000019 000714\n', '000019 000715\n'], ['# Total: 000002982', '# Total: 000002983']]), /bucket 19: 713 in the JSON, 715 on stdout/],
    ['one more sample in each of two buckets', tamper(bucketExtra(), [['000020 000611\n', '000020 000612\n'], ['# Total: 000002982', '# Total: 000002983']]), /stdout holds 2 samples the JSON does not: cyclictest can finish at most one loop/],
    ['a bucketed and an overflowed extra sample', tamper(overflowExtra(), [['000019 000713\n', '000019 000714\n'], ['# Total: 000002981', '# Total: 000002982']]), /stdout holds 2 samples/],
    ['a sample fewer on stdout', tamper(readFixture('one-thread-h200.stdout.txt'), [['000019 000713\n', '000019 000712\n'], ['# Total: 000002981', '# Total: 000002980']]), /bucket 19: 713 in the JSON, 712 on stdout/],
    ['a new max that no overflow explains', tamper(bucketExtra(), [['# Max Latencies: 13580', '# Max Latencies: 14000']]), /min\/max are 16\/13580 in the JSON but 16\/14000 on stdout, which one more sample in \[19, 19\] µs cannot explain/],
    ['a new min above the extra sample', tamper(bucketExtra(), [['# Min Latencies: 00016', '# Min Latencies: 00015']]), /cannot explain/],
    ['an average one sample cannot move that far', tamper(bucketExtra(), [['# Avg Latencies: 00026', '# Avg Latencies: 00027']]), /avg is 26\.17 over 2984 cycles in the JSON but 27 on stdout/],
  ];
  for (const [name, stdout, pattern] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => run(stdout)).to.throw(ToolOutputParseError, pattern);
    });
  }
});
