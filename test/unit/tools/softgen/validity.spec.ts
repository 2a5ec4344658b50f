import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseSoftgenOutput, type SoftgenOutput } from '../../../../lib/tools/softgen/parse.ts';
import { checkTrialValidity, isTrialValid } from '../../../../lib/tools/softgen/validity.ts';

const load = (name: string): SoftgenOutput =>
  parseSoftgenOutput(readFileSync(new URL(`../../../fixtures/softgen/${name}`, import.meta.url), 'utf8'));

function withRate(out: SoftgenOutput, requested: number, achieved: number): SoftgenOutput {
  return { ...out, directions: out.directions.map((d) => ({ ...d, requestedPps: requested, achievedTxPps: achieved })) };
}

describe('softgen trial validity', () => {
  it('accepts a recorded trial that kept its rate', () => {
    expect(checkTrialValidity(load('trial-64-10kpps.json'))).to.deep.equal({ valid: true, reasons: [] });
    expect(isTrialValid(load('trial-bidir-imix.json'))).to.equal(true);
  });

  it('rejects the recorded trial that asked 5 Mpps of a 1.5 Mpps generator', () => {
    const v = checkTrialValidity(load('trial-overload.json'));
    expect(v.valid).to.equal(false);
    expect(v.reasons).to.deep.equal([
      'stream 7: achieved 1527594.2 pps is 30.6 % of the requested 5000000 pps (minimum 90 %): the generator could not keep up',
    ]);
  });

  it('draws the line at exactly 90 % of the requested rate', () => {
    const out = load('trial-64-10kpps.json');
    expect(isTrialValid(withRate(out, 10000, 9000))).to.equal(true);
    expect(isTrialValid(withRate(out, 10000, 8999.9))).to.equal(false);
  });

  it('has no rate rule for as-fast-as-possible runs', () => {
    expect(isTrialValid(load('tx-full-speed.json'))).to.equal(true);
  });

  it('rejects interrupted runs, receiver ring drops and negative latencies', () => {
    expect(checkTrialValidity(load('trial-interrupted.json')).reasons).to.deep.equal([
      'the run was interrupted (SIGINT/SIGTERM) before it finished',
    ]);
    const out = load('trial-64-10kpps.json');
    const dropped = { ...out, rxInterfaces: out.rxInterfaces.map((r) => ({ ...r, ringDrops: 12 })) };
    expect(checkTrialValidity(dropped).reasons).to.deep.equal([
      "t1: the receiver's own ring dropped 12 frames, so part of the loss is the generator's",
    ]);
    const stepped = { ...out, directions: out.directions.map((d) => ({ ...d, latency: { ...d.latency!, negative: 3 } })) };
    expect(checkTrialValidity(stepped).reasons[0]).to.match(/stream 1: 3 negative latencies/);
  });
});
