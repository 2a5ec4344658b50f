import { expect } from 'chai';
import { DEFAULT_RULES, parseRegressionPolicy } from '../../../lib/regression/policy.ts';
import { expectConfigError, type ExpectedIssue } from '../config/expect-config-error.ts';

const FILE = 'testcases/thresholds/site.yaml';

describe('regression/policy', () => {
  it('uses NFVbench\'s 90 % throughput gate and the plan\'s latency margins by default', () => {
    const policy = parseRegressionPolicy(undefined, FILE);
    expect(policy.ruleFor('ovs_dpdk_forwarding', 'ndr')).to.deep.equal({ marginPercent: 10, action: 'assert', minDeltaUs: 0 });
    expect(policy.ruleFor('timer', 'p99').marginPercent).to.equal(20);
    expect(policy.ruleFor('timer', 'max').marginPercent).to.equal(50);
    expect(policy.compareAcross).to.deep.equal([]);
    expect(DEFAULT_RULES.pdr.marginPercent).to.equal(10);
  });

  it('applies metrics: over the defaults and cases: over metrics:, field by field', () => {
    const policy = parseRegressionPolicy(
      { compare_across: ['qemu'], metrics: { p99: { margin_percent: 25, min_delta_us: 3 } }, cases: { timer: { p99: { action: 'monitor' } } } },
      FILE,
    );
    expect(policy.ruleFor('timer', 'p99')).to.deep.equal({ marginPercent: 25, action: 'monitor', minDeltaUs: 3 });
    expect(policy.ruleFor('sriov_forwarding', 'p99')).to.deep.equal({ marginPercent: 25, action: 'assert', minDeltaUs: 3 });
    expect(policy.compareAcross).to.deep.equal(['qemu']);
  });

  const bad: Array<{ what: string; section: unknown; issue: ExpectedIssue }> = [
    { what: 'an unknown metric', section: { metrics: { p95: { margin_percent: 5 } } }, issue: { path: 'regression.metrics.p95', includes: ['unknown metric "p95"', 'ndr, pdr, p99, max'] } },
    { what: 'an unknown case', section: { cases: { tmier: { p99: {} } } }, issue: { path: 'regression.cases.tmier', includes: ['unknown case "tmier"', 'timer'] } },
    { what: 'a throughput margin of 100 %', section: { cases: { sriov_forwarding: { ndr: { margin_percent: 100 } } } }, issue: { path: 'regression.cases.sriov_forwarding.ndr.margin_percent', includes: ['below 100', 'got 100'] } },
    { what: 'a zero margin', section: { metrics: { max: { margin_percent: 0 } } }, issue: { path: 'regression.metrics.max.margin_percent', includes: ['expected a number > 0 (percent), got 0'] } },
    { what: 'a bad action', section: { metrics: { max: { action: 'warn' } } }, issue: { path: 'regression.metrics.max.action', includes: ['expected assert or monitor, got "warn"'] } },
    { what: 'a misspelt rule key', section: { metrics: { max: { margin: 5 } } }, issue: { path: 'regression.metrics.max.margin', includes: ['unknown key', 'margin_percent'] } },
    { what: 'an unknown section key', section: { margins: {} }, issue: { path: 'regression.margins', includes: ['unknown key', 'compare_across, metrics, cases'] } },
    { what: 'compare_across with an unknown part', section: { compare_across: ['duration'] }, issue: { path: 'regression.compare_across[0]', includes: ['expected one of kernel, qemu, got "duration"'] } },
    { what: 'min_delta_us on throughput', section: { metrics: { ndr: { min_delta_us: 1 } } }, issue: { path: 'regression.metrics.ndr.min_delta_us', includes: ['latency metrics only'] } },
  ];
  for (const row of bad) {
    it(`rejects ${row.what}`, () => {
      expectConfigError(() => parseRegressionPolicy(row.section, FILE), { file: FILE, issue: row.issue });
    });
  }
});
