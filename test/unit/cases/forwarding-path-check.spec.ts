// Where the lost frames were lost: each direction's counts lined up from the generator through
// the path's own counters back to the generator; a point counting more than the one before it
// means the figures cannot be trusted.
import { expect } from 'chai';
import { checkForwarderCounts, locateLoss } from '../../../lib/cases/forwarding-path-check.ts';

const counts = {
  txTowardTgenPort: { t1: 9_000, t0: 9_500 },
  source: 'OVS flows',
  stages: [
    { txPort: 't0', rxPort: 't1', stages: [{ point: 'OVS p0 rx', frames: 10_000 }, { point: 'OVS v0 tx', frames: 9_990 }, { point: 'VNF v0 rx', frames: 9_990 }, { point: 'VNF v1 tx', frames: 9_000 }] },
    { txPort: 't1', rxPort: 't0', stages: [{ point: 'OVS p1 rx', frames: 10_000 }, { point: 'VNF v0 tx', frames: 9_500 }] },
  ],
};

describe('cases/forwarding-path-check locateLoss', () => {
  it('lines each direction up from what the generator sent to what it received, with the loss between each pair', () => {
    const { located, problems } = locateLoss([{ txPort: 't0', rxPort: 't1', sent: 10_000, received: 8_990 }], counts);
    expect(problems).to.deep.equal([]);
    expect(located).to.have.length(1);
    expect(located[0]!.direction).to.equal('t0 -> t1');
    expect(located[0]!.stages.map((s) => s.point)).to.deep.equal(['generator sent on t0', 'OVS p0 rx', 'OVS v0 tx', 'VNF v0 rx', 'VNF v1 tx', 'generator received on t1']);
    expect(located[0]!.losses.map((l) => l.lost)).to.deep.equal([0, 10, 0, 990, 10]);
  });

  it('refuses a point that counts more frames than the one before it', () => {
    const { problems } = locateLoss([{ txPort: 't1', rxPort: 't0', sent: 10_000, received: 9_600 }], counts);
    expect(problems).to.deep.equal(['t1 -> t0: generator received on t0 counted 100 frames more than VNF v0 tx before it: frames entered the path from elsewhere, or the counters do not cover the same frames']);
  });

  it('leaves out a direction the topology did not count', () => {
    expect(locateLoss([{ txPort: 't2', rxPort: 't3', sent: 5, received: 5 }], counts)).to.deep.equal({ located: [], problems: [] });
  });
});

describe('cases/forwarding-path-check checkForwarderCounts', () => {
  it('refuses frames that reached the generator around the device, and a port the device did not count', () => {
    expect(checkForwarderCounts({ t0: 10, t1: 20 }, { txTowardTgenPort: { t0: 10, t1: 25 }, source: 's' })).to.deep.equal([]);
    expect(checkForwarderCounts({ t0: 11 }, { txTowardTgenPort: { t0: 10 }, source: 's' })).to.deep.equal(['the generator received 11 frames on t0 but the device sent only 10 toward it (s): frames went around the device']);
    expect(checkForwarderCounts({ t9: 1 }, { txTowardTgenPort: { t0: 1 }, source: 's' })).to.deep.equal(['s has no count for the port facing t9']);
  });

  it('refuses a case in which no frame went through the device', () => {
    expect(checkForwarderCounts({ t0: 0, t1: 0 }, { txTowardTgenPort: { t0: 0, t1: 0 }, source: 'VNF testpmd' })).to.deep.equal(['no frame went through the device under test (VNF testpmd: 0 sent toward the generator, which received 0)']);
  });
});
