import { expect } from 'chai';
import { listCaseMetrics } from '../../../lib/cases/metrics.ts';
import { loadCatalogue } from '../../../lib/config/catalogue.ts';
import { listThresholdProfiles, loadThresholds } from '../../../lib/config/thresholds.ts';
import { ConfigError } from '../../../lib/errors.ts';

describe('case metrics registry', () => {
  it('covers every measuring case of the catalogue', () => {
    const measuring = loadCatalogue().tiers.filter((t) => t.name !== 'preflight').flatMap((t) => t.cases.map((c) => c.caseName));
    expect(Object.keys(listCaseMetrics()).sort()).to.deep.equal(measuring.sort());
  });

  it('accepts every shipped profile', () => {
    for (const name of listThresholdProfiles()) expect(() => loadThresholds(name, { knownMetrics: listCaseMetrics() }), name).not.to.throw();
  });

  it('rejects a metric no case reports', () => {
    const metrics = listCaseMetrics();
    expect(metrics.timer).to.include('max');
    expect(metrics.timer).not.to.include('avg_latency');
    expect(() => loadThresholds('test/fixtures/config/thresholds/unknown-metric.yaml', { knownMetrics: metrics })).to.throw(ConfigError);
  });
});
