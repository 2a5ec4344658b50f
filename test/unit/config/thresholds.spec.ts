import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PROFILES_DIR, loadThresholds, resolveProfilePath, type Limit } from '../../../lib/config/thresholds.ts';
import { catchConfigError, expectConfigError, type ExpectedIssue } from './expect-config-error.ts';

const dir = fileURLToPath(new URL('../../fixtures/config/thresholds/', import.meta.url));
const fixture = (name: string) => `${dir}${name}`;
const TIMER_METRICS = ['min', 'avg', 'max', 'p50', 'p99', 'p999', 'p9999', 'overflows'];
const knownMetrics = { timer: TIMER_METRICS, forwarding_sriov: ['throughput', 'latency_avg'] };

/** The parts of a limit a verdict depends on, for exact comparisons. */
const brief = (l: Limit) => ({ metric: l.metric, max: l.max, min: l.min, unit: l.unit, action: l.action, nodes: l.nodes, origin: l.origin });

describe('config/thresholds: bad profiles', () => {
  const table: Array<{ fixture: string; issue: ExpectedIssue }> = [
    { fixture: 'bad-max.yaml', issue: { path: 'cases.timer[2].max', includes: ['expected a number >= 0, got "fast"'] } },
    { fixture: 'max-and-min.yaml', issue: { path: 'cases.timer[0]', includes: ['give exactly one of max or min, got both'] } },
    { fixture: 'no-bound.yaml', issue: { path: 'cases.timer[0]', includes: ['give exactly one of max or min, got neither'] } },
    { fixture: 'bad-unit.yaml', issue: { path: 'cases.timer[0].unit', includes: ['unit "usec" is not one of ns, us, ms, s, pps, kpps, mpps, bps, gbps, percent, count'] } },
    { fixture: 'bad-action.yaml', issue: { path: 'cases.timer[0].action', includes: ['expected assert or monitor, got "warn"'] } },
    { fixture: 'zero-min.yaml', issue: { path: 'cases.forwarding_sriov[0].min', includes: ['expected a number > 0, got 0'] } },
    { fixture: 'unknown-metric.yaml', issue: { path: 'cases.timer[1].metric', includes: [`expected one of ${TIMER_METRICS.join(', ')}, got "p95"`] } },
    { fixture: 'unknown-case.yaml', issue: { path: 'cases.tmier', includes: ['unknown case "tmier"', 'expected one of timer, forwarding_sriov'] } },
    { fixture: 'no-cases.yaml', issue: { path: 'cases', includes: ['missing', 'expected a mapping of case name to a list of limits'] } },
    { fixture: 'empty-case.yaml', issue: { path: 'cases.timer', includes: ['expected at least one limit'] } },
    { fixture: 'duplicate-limit.yaml', issue: { path: 'cases.timer[1]', includes: ['expected one limit per metric and nodes', '"max"'] } },
    { fixture: 'section-not-mapping.yaml', issue: { path: 'regression', includes: ['expected a mapping', 'got 10'] } },
    { fixture: 'bad-override.yaml', issue: { path: 'pod_overrides.intel-pod10.timer[0].max', includes: ['expected a number >= 0, got -5'] } },
    { fixture: 'unknown-limit-key.yaml', issue: { path: 'cases.timer[0].maximum', includes: ['unknown key', 'max, min'] } },
    { fixture: 'no-such-profile.yaml', issue: { path: '', includes: ['cannot read the file (no such file)', 'expected a threshold profile'] } },
  ];
  for (const row of table) {
    it(`${row.fixture}: ${row.issue.path || '(top level)'}`, () => {
      expectConfigError(() => loadThresholds(fixture(row.fixture), { knownMetrics }), { file: fixture(row.fixture), issue: row.issue });
    });
  }

  it('checks metric names only when the caller knows them', () => {
    expect(loadThresholds(fixture('unknown-metric.yaml')).limitsFor('timer').map((l) => l.metric)).to.deep.equal(['max', 'p95']);
  });

  it('lists the available profiles for an unknown name', () => {
    expectConfigError(() => loadThresholds('rt-kmv'), {
      file: join(DEFAULT_PROFILES_DIR, 'rt-kmv.yaml'),
      issue: { path: '', includes: ['no threshold profile named "rt-kmv"', 'expected one of lab, opnfv-tc028, rt-kvm'] },
    });
  });
});

describe('config/thresholds: good profiles', () => {
  it('tells profile names from file paths', () => {
    expect(resolveProfilePath('lab', '/p')).to.deep.equal({ file: '/p/lab.yaml', byName: true });
    for (const path of ['lab.yaml', './lab', 'x/y.yml', '/etc/site.YAML']) expect(resolveProfilePath(path, '/p')).to.deep.equal({ file: path, byName: false });
  });

  it('loads a profile by name from another profiles folder', () => {
    const profile = loadThresholds('site-a', { profilesDir: join(dir, 'profiles') });
    expect(profile.name).to.equal('site-a');
    expect(profile.file).to.equal(join(dir, 'profiles', 'site-a.yaml'));
    expect(profile.limitsFor('timer').map(brief)).to.deep.equal([{ metric: 'max', max: 80, min: undefined, unit: 'us', action: 'assert', nodes: undefined, origin: 'profile' }]);
  });

  describe('per-pod overrides', () => {
    const file = fixture('override.yaml');

    it('without a matching pod, gives the base limits', () => {
      for (const podName of [undefined, 'other-pod']) {
        const profile = loadThresholds(file, { knownMetrics, podName });
        expect(profile.podOverride).to.equal(undefined);
        expect(profile.limitsFor('timer').map(brief)).to.deep.equal([
          { metric: 'avg', max: 100, min: undefined, unit: 'us', action: 'assert', nodes: undefined, origin: 'profile' },
          { metric: 'max', max: 1000, min: undefined, unit: 'us', action: 'assert', nodes: ['guest'], origin: 'profile' },
          { metric: 'max', max: 500, min: undefined, unit: 'us', action: 'assert', nodes: ['host'], origin: 'profile' },
        ]);
      }
    });

    it('replaces the limit with the same metric and nodes, keeps the others and adds new ones', () => {
      const profile = loadThresholds(file, { knownMetrics, podName: 'intel-pod10' });
      expect(profile.podOverride).to.equal('intel-pod10');
      expect(profile.limitsFor('timer').map(brief)).to.deep.equal([
        { metric: 'avg', max: 100, min: undefined, unit: 'us', action: 'assert', nodes: undefined, origin: 'profile' },
        { metric: 'max', max: 2000, min: undefined, unit: 'us', action: 'assert', nodes: ['guest'], origin: 'pod_override' },
        { metric: 'max', max: 500, min: undefined, unit: 'us', action: 'assert', nodes: ['host'], origin: 'profile' },
        { metric: 'p99', max: 200, min: undefined, unit: 'us', action: 'monitor', nodes: undefined, origin: 'pod_override' },
      ]);
      expect(profile.limitsFor('forwarding_sriov').map(brief)).to.deep.equal([
        { metric: 'throughput', max: undefined, min: 10, unit: 'mpps', action: 'monitor', nodes: undefined, origin: 'profile' },
      ]);
    });

    it('passes later-feature sections through and knows no limits for other cases', () => {
      const profile = loadThresholds(file, { podName: 'intel-pod10' });
      expect(profile).to.include({ name: 'site', description: 'site profile with an override for intel-pod10', file });
      expect(profile.sections).to.deep.equal({ preflight: { require_isolcpus: true, kernel: { realtime: true } } });
      expect(profile.limitsFor('device_interrupt')).to.deep.equal([]);
    });
  });

  describe('the shipped profiles', () => {
    const expected: Record<string, Array<[string, number, 'assert' | 'monitor']>> = {
      'opnfv-tc028': [['min', 50, 'assert'], ['avg', 100, 'assert'], ['max', 1000, 'assert']],
      'rt-kvm': [['max', 40, 'assert'], ['p99', 20, 'monitor']],
      lab: [['avg', 1000, 'assert'], ['max', 250000, 'assert'], ['p99', 10000, 'assert'], ['p9999', 50000, 'monitor']],
    };
    for (const [name, limits] of Object.entries(expected)) {
      it(`${name}: timer limits as documented, in microseconds`, () => {
        const profile = loadThresholds(name);
        expect(profile.name).to.equal(name);
        expect(Object.keys(profile.limitsByCase)).to.include('timer');
        expect(profile.limitsFor('timer').map((l) => [l.metric, l.max, l.action])).to.deep.equal(limits);
        expect(profile.limitsFor('timer').every((l) => l.unit === 'us' && l.min === undefined && l.nodes === undefined)).to.equal(true);
      });

      it(`${name}: documents the format and names its source`, () => {
        const text = readFileSync(join(DEFAULT_PROFILES_DIR, `${name}.yaml`), 'utf8');
        expect(text.startsWith('# Format of a threshold profile')).to.equal(true);
        expect(text).to.match(/^# Source: /m);
      });
    }

    it('a profile error still names the profile file', () => {
      const error = catchConfigError(() => loadThresholds('lab', { knownMetrics: { timer: ['max'] } }));
      expect(error.file).to.equal(join(DEFAULT_PROFILES_DIR, 'lab.yaml'));
      expect(error.issues.map((i) => i.path).filter((p) => p.startsWith('cases.timer'))).to.deep.equal(['cases.timer[0].metric', 'cases.timer[2].metric', 'cases.timer[3].metric']);
    });
  });
});
