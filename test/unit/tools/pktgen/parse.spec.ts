import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parsePktgenDevice, parsePktgenScriptOutput } from '../../../../lib/tools/pktgen/parse.ts';

const FIXTURES = new URL('../../../fixtures/pktgen/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

function rejects(text: string, pattern: RegExp): ToolOutputParseError {
  let caught: unknown;
  try {
    parsePktgenDevice(text, 'test');
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ToolOutputParseError').to.be.instanceOf(ToolOutputParseError);
  expect((caught as Error).message).to.match(pattern);
  return caught as ToolOutputParseError;
}

describe('tools/pktgen parsePktgenDevice', () => {
  it('reads the documented example of pktgen.rst', () => {
    expect(parsePktgenDevice(fixture('eth4-rst-example.txt'))).to.deep.equal({
      countRequested: 100_000,
      packets: 100_000,
      elapsedUs: 15_430,
      computeUs: 15_405,
      idleUs: 25,
      pktSize: 60,
      frags: 0,
      pps: 6_480_562,
      mbps: 3110,
      bps: 3_110_669_760,
      errors: 0,
    });
  });

  it('reads the older pktgen.txt example, whose bps counts the FCS and which had errors', () => {
    const r = parsePktgenDevice(fixture('eth1-pktgen-txt-example.txt'));
    expect(r).to.deep.include({ countRequested: 10_000_000, packets: 10_000_000, elapsedUs: 13_101_142, idleUs: 880_401, pps: 763_292, bps: 390_805_504, errors: 39_664 });
  });

  it('rejects a device that was configured but never ran (fixture configured-not-run.txt)', () => {
    const e = rejects(fixture('configured-not-run.txt'), /configured but never ran/);
    expect(e.line).to.equal('Result: OK: rate=1000000');
    expect(e.lineNumber).to.equal(19);
  });

  it('names a down link when pktgen stopped the device before it built a frame (-1frags, fixture link-down.txt)', () => {
    const e = rejects(fixture('link-down.txt'), /before it built a frame \(-1frags, 0 sent\): the link of kfnp-t0 is down or has no carrier/);
    expect(e.message).to.not.match(/never ran/);
    expect(e.line).to.equal('Result: OK: 7(c7+d0) usec, 0 (60byte,-1frags)');
  });

  it('rejects results that are not a finished run or do not add up', () => {
    const rst = fixture('eth4-rst-example.txt');
    rejects(rst.replace(/Result: OK: .*/, 'Result: Idle'), /did not finish a run: pktgen says "Idle"/);
    rejects(rst.replace('Result: OK: 15430(c15405+d25)', 'Result: OK: 15430(c15000+d25)'), /compute 15000 us \+ idle 25 us should make the 15430 us/);
    rejects(rst.replace('6480562pps', '6000000pps'), /6000000 pps does not match 100000 frames in 15430 us/);
    rejects(rst.replace('(3110669760bps)', '(3110669761bps)'), /3110669761 bps is neither/);
    rejects(rst.replace('3110Mb/sec', '3111Mb/sec'), /3111 Mb\/sec does not match/);
    rejects(rst.replace('pkts-sofar: 100000', 'pkts-sofar: 99999'), /Current says pkts-sofar 99999/);
    rejects(rst.replace('Params: count 100000', 'Params: count 1000'), /100000 frames sent but the count was 1000/);
    rejects(rst.replace(/\n6480562pps.*\n/, '\n'), /expected "<n>pps/);
    rejects('cat: /proc/net/pktgen/eth4@0: No such file or directory\n', /expected a "Result:" line/);
  });
});

describe('tools/pktgen parsePktgenScriptOutput', () => {
  it('splits the script output at the device markers', () => {
    const out = [
      '==> /proc/net/pktgen/eth4@kfn0 <==',
      fixture('eth4-rst-example.txt'),
      '==> /proc/net/pktgen/eth5@kfn1 <==',
      fixture('eth1-pktgen-txt-example.txt'),
    ].join('\n');
    const runs = parsePktgenScriptOutput(out, ['/proc/net/pktgen/eth4@kfn0', '/proc/net/pktgen/eth5@kfn1']);
    expect(runs.get('/proc/net/pktgen/eth4@kfn0')!.packets).to.equal(100_000);
    expect(runs.get('/proc/net/pktgen/eth5@kfn1')!.packets).to.equal(10_000_000);
    expect(() => parsePktgenScriptOutput(out, ['/proc/net/pktgen/eth6@kfn0'])).to.throw(ToolOutputParseError, /eth6@kfn0/);
  });
});
