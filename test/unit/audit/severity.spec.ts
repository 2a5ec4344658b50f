import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ALL_CHECKS, CHECK_IDS } from '../../../lib/audit/index.ts';
import { DEFAULT_PREFLIGHT_POLICY, parsePreflightPolicy, resolveSeverity, type PreflightPolicy } from '../../../lib/audit/severity.ts';
import { loadThresholds } from '../../../lib/config/thresholds.ts';
import { catchConfigError } from '../../support/catch-error.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/config/thresholds/${name}`, import.meta.url));

function loadPolicy(nameOrFile: string): PreflightPolicy {
  const profile = loadThresholds(nameOrFile);
  return parsePreflightPolicy(profile.sections.preflight, profile.file);
}


const check = (id: string) => ALL_CHECKS.find((c) => c.id === id) as (typeof ALL_CHECKS)[number];

describe('preflight severities from a threshold profile', () => {
  it('reads every kind of setting, an id winning over its category and the category over the default', () => {
    const policy = loadPolicy(fixture('preflight-mixed.yaml'));
    expect(policy.blocking).to.equal(false);
    expect(policy.default).to.equal('blocking');
    expect(resolveSeverity(policy, check('kernel.preempt-rt'))).to.equal('advisory');
    expect(resolveSeverity(policy, check('cmdline.isolcpus'))).to.equal('advisory');
    expect(resolveSeverity(policy, check('cmdline.iommu'))).to.equal('blocking');
    expect(resolveSeverity(policy, check('runtime.ksm'))).to.equal('off');
    expect(resolveSeverity(policy, check('runtime.watchdog'))).to.equal('blocking');
  });

  it('makes every check blocking, and the tier blocking, when a profile has no preflight: section', () => {
    const policy = parsePreflightPolicy(undefined, 'x.yaml');
    expect(policy).to.deep.equal(DEFAULT_PREFLIGHT_POLICY);
    expect(ALL_CHECKS.map((c) => resolveSeverity(policy, c))).to.satisfy((s: string[]) => s.every((v) => v === 'blocking'));
    expect(parsePreflightPolicy({}, 'x.yaml')).to.deep.equal({ blocking: true, default: 'blocking', checks: {} });
  });

  it('rejects an unknown check id and an unknown category, naming the valid ones', () => {
    const error = catchConfigError(() => loadPolicy(fixture('preflight-unknown-id.yaml')));
    expect(error.file).to.equal(fixture('preflight-unknown-id.yaml'));
    const [id, category] = error.issues;
    expect(id?.path).to.equal('preflight.checks["kernel.preempt_rt"]');
    expect(id?.message).to.include('unknown check id "kernel.preempt_rt"').and.include('kernel.preempt-rt').and.include(CHECK_IDS.at(-1) as string);
    expect(category?.path).to.equal('preflight.checks["gpu.*"]');
    expect(category?.message).to.equal('unknown check category "gpu"; expected one of kernel.*, cmdline.*, runtime.*, guest-placement.*, forwarding.*');
  });

  it('rejects values that are not severities, a non-boolean blocking and unknown keys, all at once', () => {
    const error = catchConfigError(() => loadPolicy(fixture('preflight-bad-value.yaml')));
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(byPath['preflight.blocking']).to.equal('expected true or false, got "yes"');
    expect(byPath['preflight.default']).to.equal('expected one of blocking, advisory, off, got "warn"');
    expect(byPath['preflight.checks["cmdline.isolcpus"]']).to.equal('expected one of blocking, advisory, off, got "maybe"');
    expect(byPath['preflight.require_isolcpus']).to.match(/^unknown key; expected one of blocking, default, checks/);
    expect(error.message).to.include(fixture('preflight-bad-value.yaml'));
  });

  it('rejects a section that is not a mapping of settings', () => {
    const error = catchConfigError(() => parsePreflightPolicy({ checks: ['kernel.preempt-rt'] }, 'p.yaml'));
    expect(error.issues[0]?.path).to.equal('preflight.checks');
    expect(error.issues[0]?.message).to.match(/^expected a mapping of check id/);
  });

  describe('shipped profiles', () => {
    it('lab: the tier does not block, and what a VM lab cannot have is advisory', () => {
      const policy = loadPolicy('lab');
      expect(policy.blocking).to.equal(false);
      for (const id of ['kernel.preempt-rt', 'cmdline.isolcpus', 'cmdline.nohz-full', 'runtime.irq-affinity', 'runtime.rt-throttling']) {
        expect(resolveSeverity(policy, check(id)), id).to.equal('advisory');
      }
      expect(resolveSeverity(policy, check('runtime.housekeeping'))).to.equal('blocking');
    });

    it('rt-kvm: the tier blocks and the kernel, its command line and the runtime settings block', () => {
      const policy = loadPolicy('rt-kvm');
      expect(policy.blocking).to.equal(true);
      for (const id of ['kernel.preempt-rt', 'cmdline.isolcpus', 'cmdline.nohz-full', 'runtime.rt-throttling', 'guest-placement.vcpu-pinning']) {
        expect(resolveSeverity(policy, check(id)), id).to.equal('blocking');
      }
      expect(ALL_CHECKS.filter((c) => resolveSeverity(policy, c) === 'off')).to.deep.equal([]);
    });

    it('opnfv-tc028: kernel and command line advisory (TC028 audited nothing), runtime settings still fail', () => {
      const policy = loadPolicy('opnfv-tc028');
      expect(policy.blocking).to.equal(false);
      for (const c of ALL_CHECKS.filter((c) => c.category === 'kernel' || c.category === 'cmdline')) {
        expect(resolveSeverity(policy, c), c.id).to.equal('advisory');
      }
      expect(resolveSeverity(policy, check('runtime.rt-throttling'))).to.equal('blocking');
    });
  });
});
