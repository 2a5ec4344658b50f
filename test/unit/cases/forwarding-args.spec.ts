import { expect } from 'chai';
import { z } from 'zod';
import { ConfigError } from '../../../lib/errors.ts';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import { planForwarding } from '../../../lib/cases/forwarding-plan.ts';
import { baremetalArgsShape } from '../../../lib/topology/baremetal.ts';
import { DEFAULT_FRAME_SIZES } from '../../../lib/traffic/plan.ts';

const parse = (args: unknown) => parseForwardingArgs(args, { caseName: 'baremetal_forwarding', extra: baremetalArgsShape });
const issues = (args: unknown): Array<[string, string]> => {
  try {
    parse(args);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => [i.path, i.message]);
  }
  return expect.fail('expected a ConfigError') as never;
};

describe('cases/forwarding-args parseForwardingArgs', () => {
  it('fills NFVbench-like defaults and bare metal\'s own', () => {
    const a = parse({});
    expect(a.frame_sizes).to.deep.equal([...DEFAULT_FRAME_SIZES]);
    expect(a).to.include({ trial_duration_s: 30, ndr_loss_percent: 0.001, pdr_loss_percent: 0.1, search_resolution_percent: 0.1, direction: 'bidirectional', generator: 'softgen', flows: 1 });
    expect(a.latency_loads).to.deep.equal([10, 50, 90]);
    expect(a).to.include({ forwarder: 'testpmd', forward_mode: 'io', port_kind: 'auto' });
    expect(a.testpmd).to.include({ memory_mb: 1024, mbufs: 8192, driver: 'vfio-pci' });
  });

  it('reads the lab catalogue entry\'s values, imix in any case', () => {
    const a = parse({ frame_sizes: [64, 1518, 'IMIX'], trial_duration_s: 5, budget_s: 290, verify_fallbacks: [0.5, 0.1], forward_mode: 'macswap' });
    expect(a.frame_sizes).to.deep.equal([64, 1518, 'imix']);
    expect(a.verify_fallbacks).to.deep.equal([0.5, 0.1]);
    expect(a.forward_mode).to.equal('macswap');
  });

  it('names every bad key with its path under the case', () => {
    const found = issues({ frame_sizes: [63, 64, 64], latency_loads: [0, 120], direction: 'both', generator: 'ixia', framesizes: [64], testpmd: { mbufs: 1024 } });
    const paths = found.map(([p]) => p);
    expect(paths).to.include.members([
      'baremetal_forwarding.run.args.frame_sizes[0]',
      'baremetal_forwarding.run.args.latency_loads[0]',
      'baremetal_forwarding.run.args.latency_loads[1]',
      'baremetal_forwarding.run.args.direction',
      'baremetal_forwarding.run.args.generator',
      'baremetal_forwarding.run.args.framesizes',
      'baremetal_forwarding.run.args.testpmd.mbufs',
    ]);
    expect(found.find(([p]) => p.endsWith('frame_sizes[0]'))![1]).to.match(/64 to 9216 bytes/);
    expect(issues({ frame_sizes: [64, 'imix', 64] })).to.deep.equal([['baremetal_forwarding.run.args.frame_sizes', 'frame size 64 is listed twice']]);
    expect(found.find(([p]) => p.endsWith('framesizes'))![1]).to.match(/unknown key/);
  });

  it('refuses an NDR loss above the PDR loss', () => {
    expect(issues({ ndr_loss_percent: 1, pdr_loss_percent: 0.1 })).to.deep.equal([['baremetal_forwarding.run.args.ndr_loss_percent', 'expected at most pdr_loss_percent (0.1), got 1']]);
  });

  it('takes a topology\'s own keys and refuses them for another', () => {
    const extra = { bridge: z.string().default('br0') };
    expect(parseForwardingArgs({ bridge: 'br-int' }, { caseName: 'ovs_dpdk_forwarding', extra }).bridge).to.equal('br-int');
    expect(() => parseForwardingArgs({ bridge: 'br-int' }, { caseName: 'sriov_forwarding' })).to.throw(ConfigError, /sriov_forwarding\.run\.args\.bridge: unknown key/);
  });
});

describe('cases/forwarding-plan planForwarding', () => {
  it('fits the lab entry (64 and 1518 B, --duration 5) within its budget, cutting the search', () => {
    const a = parse({ frame_sizes: [64, 1518], trial_duration_s: 5, budget_s: 290, setup_overhead_s: 20, search_resolution_percent: 1, verify_fallbacks: [0.5, 0.1] });
    const plan = planForwarding(a, { durationOverrideS: 5, calibrationTrials: 2 });
    expect(plan.estimate.totalS).to.be.at.most(290);
    expect(plan.maxSearchTrials).to.be.within(6, 15);
    expect(plan.converges).not.to.equal('always');
    expect(plan.calibrationDurationS).to.equal(5);
    // 2 sizes x (search + 2 verify + 4 fallbacks + 3 latency + 1 fixed) x 7 s + 20 s + 2 x 2 calibrations x 7 s
    expect(plan.estimate.totalS).to.equal(2 * (plan.maxSearchTrials + 10) * 7 + 20 + 28);
    // One frame size, for its hook's timeout: its trials and its two calibrations.
    expect(plan.perFrameSizeS).to.equal((plan.maxSearchTrials + 10) * 7 + 14);
  });

  it('lets --duration override the trial length and caps the search at max_search_iterations', () => {
    const plan = planForwarding(parse({ trial_duration_s: 60, max_search_iterations: 9 }), { durationOverrideS: 10, calibrationTrials: 0 });
    expect(plan.trialDurationS).to.equal(10);
    expect(plan.maxSearchTrials).to.equal(9);
    expect(plan.calibrationDurationS).to.equal(10);
  });

  it('refuses a budget the shortest useful sweep does not fit', () => {
    expect(() => planForwarding(parse({ budget_s: 100 }), { calibrationTrials: 2 })).to.throw(ConfigError, /shortest useful sweep/);
  });
});
