import { expect } from 'chai';
import { findHistogramArg, parseCyclictestJson, repairNonFiniteNumbers } from '../../../../lib/tools/cyclictest/parse-json.ts';
import { readFixture, replaceOnce } from './fixtures.ts';
import { catchParseError } from '../../../support/catch-error.ts';


describe('tools/cyclictest/parse-json', () => {
  describe('recorded files (cyclictest V 2.40)', () => {
    it('reads the keys with trailing colons, sysinfo and every thread (two-threads-h200)', () => {
      const r = parseCyclictestJson(readFixture('two-threads-h200.json'));
      expect(r.version).to.equal('2.40');
      expect(r.cmdline).to.equal('cyclictest -m -p99 -i1000 -q --json=/tmp/ctrec/b.json -h 200 -a 0-1 -t 2 --mainaffinity=0 -D 6');
      expect(r.histogramArg).to.equal(200);
      expect(r.numThreads).to.equal(2);
      expect(r.nsResolution).to.equal(false);
      expect(r.returnCode).to.equal(0);
      expect(r.sysinfo).to.deep.equal({
        sysname: 'Linux',
        nodename: 'vm',
        release: '6.18.44-fc-v669',
        version: '#1 SMP PREEMPT_DYNAMIC @0',
        machine: 'x86_64',
        realtime: false,
      });
      const [t0, t1] = r.threads;
      expect(t0).to.deep.include({ thread: 0, cpu: 0, cycles: 6000, min: 11, max: 355, avg: 20.97 });
      expect(t1).to.deep.include({ thread: 1, cpu: 1, cycles: 6000, min: 9, max: 179, avg: 25.85 });
      expect(t1?.histogram?.get(9)).to.equal(1);
      expect(t1?.histogram?.get(179)).to.equal(1);
      // Only non-zero buckets are listed, and they hold every sample but the overflows.
      expect([...(t0?.histogram?.values() ?? [])].reduce((a, b) => a + b, 0)).to.equal(5995);
      expect([...(t1?.histogram?.values() ?? [])].reduce((a, b) => a + b, 0)).to.equal(6000);
    });

    it('repairs `-nan` averages to null (zero-cycles-sigint)', () => {
      const r = parseCyclictestJson(readFixture('zero-cycles-sigint.json'));
      expect(r.threads.map((t) => [t.cycles, t.avg, t.min, t.max])).to.deep.equal([
        [0, null, 1000000, 0],
        [0, null, 1000000, 0],
      ]);
      expect(r.threads[0]?.histogram?.size).to.equal(0);
    });

    it('gives an empty map for `"histogram": {}` without -h (no-histogram)', () => {
      const r = parseCyclictestJson(readFixture('no-histogram.json'));
      expect(r.histogramArg).to.equal(null);
      expect(r.threads.map((t) => t.histogram?.size)).to.deep.equal([0, 0]);
      expect(r.threads.map((t) => t.cycles)).to.deep.equal([2000, 1334]);
    });

    it('gives null when the histogram key is absent, as 2.7 writes without -h', () => {
      const text = readFixture('no-histogram.json').replace(/"histogram": \{\s*\},\n/g, '');
      const r = parseCyclictestJson(text);
      expect(r.threads.map((t) => t.histogram)).to.deep.equal([null, null]);
    });

    it('reads -N as ns resolution', () => {
      const text = replaceOnce(readFixture('one-thread-h200.json'), '"resolution_in_ns": 0', '"resolution_in_ns": 1');
      expect(parseCyclictestJson(text).nsResolution).to.equal(true);
    });
  });

  describe('repairNonFiniteNumbers', () => {
    it('replaces nan, -nan and inf in value positions only', () => {
      const input = '{"a": nan, "b":-nan,"c" : inf, "cmd:": "x: nan", "d": "nan", "e": 1}';
      expect(repairNonFiniteNumbers(input)).to.equal('{"a": null, "b":null,"c" : null, "cmd:": "x: nan", "d": "nan", "e": 1}');
    });

    it('keeps escaped quotes inside strings from ending them', () => {
      const input = '{"cmdline:": "a \\": nan", "avg": nan}';
      expect(JSON.parse(repairNonFiniteNumbers(input))).to.deep.equal({ 'cmdline:': 'a ": nan', avg: null });
    });
  });

  describe('findHistogramArg', () => {
    const table: Array<[string, number | null]> = [
      ['cyclictest -q -h 200 -D 3', 200],
      ['cyclictest -q -h200', 200],
      ['cyclictest --histogram=90 -q', 90],
      ['cyclictest -H 50', 50],
      ['cyclictest --histfile=/tmp/h -q', null],
      ['cyclictest -q -D 3', null],
    ];
    for (const [cmdline, expected] of table) {
      it(`${JSON.stringify(cmdline)} → ${expected}`, () => expect(findHistogramArg(cmdline)).to.equal(expected));
    }
  });

  describe('rejects', () => {
    it('an empty file', () => {
      expect(catchParseError(() => parseCyclictestJson('  \n')).message).to.include('empty');
    });

    it('a truncated file, naming the line', () => {
      const full = readFixture('two-threads-h200.json');
      const err = catchParseError(() => parseCyclictestJson(full.slice(0, full.indexOf('"1": {'))));
      expect(err.message).to.include('invalid JSON');
      expect(err.lineNumber).to.be.a('number').and.be.greaterThan(20);
    });

    it('a non-numeric value, naming the line', () => {
      const text = replaceOnce(readFixture('one-thread-h200.json'), '"cycles": 2984', '"cycles": 29x4');
      const err = catchParseError(() => parseCyclictestJson(text));
      expect(err.line).to.include('29x4');
    });

    it('a nan where a count belongs', () => {
      const text = replaceOnce(readFixture('one-thread-h200.json'), '"max": 13580', '"max": nan');
      expect(catchParseError(() => parseCyclictestJson(text)).message).to.include('thread.0.max');
    });

    it('a missing field', () => {
      const text = replaceOnce(readFixture('one-thread-h200.json'), /"cycles": 2984,\n\s*/, '');
      expect(catchParseError(() => parseCyclictestJson(text)).message).to.include('thread.0.cycles');
    });

    it('threads that do not match num_threads', () => {
      const text = replaceOnce(readFixture('two-threads-h200.json'), '"num_threads": 2', '"num_threads": 3');
      expect(catchParseError(() => parseCyclictestJson(text)).message).to.include('num_threads is 3');
    });

    it('a non-integer bucket key', () => {
      const text = replaceOnce(readFixture('one-thread-h200.json'), '"16": 23', '"16.5": 23');
      expect(catchParseError(() => parseCyclictestJson(text)).message).to.include('16.5');
    });
  });
});
