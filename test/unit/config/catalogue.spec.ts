import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadCatalogue, selectCases, unmetDependency } from '../../../lib/config/catalogue.ts';
import { ConfigError } from '../../../lib/errors.ts';

const writeCatalogue = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'kfn-cat-')), 'testcases.yaml');
  writeFileSync(file, text);
  return file;
};

describe('catalogue (testcases/testcases.yaml)', () => {
  const catalogue = loadCatalogue();

  it('declares the tiers and cases of the test plan with the conventional names', () => {
    expect(catalogue.tiers.map((t) => [t.name, t.cases.map((c) => c.caseName)])).to.deep.equal([
      ['preflight', ['preflight']],
      ['latency', ['timer', 'oslat', 'hwlatdetect', 'device_interrupt']],
      ['forwarding', ['baremetal_forwarding', 'sriov_forwarding', 'ovs_dpdk_forwarding']],
    ]);
  });

  it('marks oslat, and only it, as busy-polling: lab groups run it in turns', () => {
    const busy = catalogue.tiers.flatMap((t) => t.cases).filter((c) => c.busyPolls).map((c) => c.caseName);
    expect(busy).to.deep.equal(['oslat']);
  });

  it('selects a case, a tier or all, as run_tests does', () => {
    expect(selectCases(catalogue, 'timer').map((c) => c.caseName)).to.deep.equal(['timer']);
    expect(selectCases(catalogue, 'latency').map((c) => c.caseName)).to.deep.equal(['timer', 'oslat', 'hwlatdetect', 'device_interrupt']);
    expect(selectCases(catalogue, 'all')).to.have.length(8);
  });

  it('rejects an unknown selection, listing the valid ones', () => {
    expect(() => selectCases(catalogue, 'timr')).to.throw(ConfigError, /-t: "timr" is not a case, a tier or all; expected one of: all, preflight, latency, forwarding, preflight, timer/);
  });

  it('skips a case whose dependency regex does not match, saying why', () => {
    const tc = { ...selectCases(catalogue, 'timer')[0]!, dependencies: [{ INSTALLER_TYPE: '^(fuel|apex)$' }] };
    expect(unmetDependency(tc, { INSTALLER_TYPE: 'compass' })).to.equal('INSTALLER_TYPE="compass" does not match /^(fuel|apex)$/');
    expect(unmetDependency(tc, { INSTALLER_TYPE: 'fuel' })).to.equal(undefined);
  });

  it('names the file, the field and the expectation for a bad catalogue', () => {
    const file = writeCatalogue('tiers:\n  - name: latency\n    testcases:\n      - case_name: Timer\n        project_name: yardstick\n        run: {}\n');
    try {
      loadCatalogue(file);
      expect.fail('loadCatalogue accepted a bad catalogue');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).to.contain(`${file}: tiers[0].testcases[0].case_name`);
      expect(message).to.contain('tiers[0].testcases[0].project_name');
      expect(message).to.contain('tiers[0].testcases[0].run.name');
    }
  });

  it('rejects a dependency that is not a regular expression when the catalogue is loaded', () => {
    const file = writeCatalogue('tiers:\n  - name: latency\n    testcases:\n      - {case_name: timer, project_name: kvmfornfv, dependencies: [{DEPLOY_SCENARIO: "os-(nosdn"}], run: {name: timer}}\n');
    expect(() => loadCatalogue(file)).to.throw(ConfigError, /tiers\[0\]\.testcases\[0\]\.dependencies\[0\]\.DEPLOY_SCENARIO: expected a regular expression/);
  });

  it('rejects duplicate case names, since -t could not tell them apart', () => {
    const tc = '      - {case_name: timer, project_name: kvmfornfv, run: {name: timer}}\n';
    const file = writeCatalogue(`tiers:\n  - name: latency\n    testcases:\n${tc}  - name: more\n    testcases:\n${tc}`);
    expect(() => loadCatalogue(file)).to.throw(ConfigError, /tiers\[1\]\.testcases\[0\]\.case_name: duplicate case name "timer"/);
  });

  it('refuses an Xtesting criteria other than 100, saying why, and takes 100 or none', () => {
    const tc = (criteria: string) => `tiers:\n  - name: latency\n    testcases:\n      - {case_name: timer, project_name: kvmfornfv, ${criteria}run: {name: timer}}\n`;
    expect(() => loadCatalogue(writeCatalogue(tc('criteria: 90, ')))).to.throw(
      ConfigError,
      /tiers\[0\]\.testcases\[0\]\.criteria: expected 100 \(or no criteria\): in Xtesting a case passes when its result reaches criteria percent.*a lower criteria would pass a case with failed limits.*action: monitor/,
    );
    expect(() => loadCatalogue(writeCatalogue(tc('criteria: 0, ')))).to.throw(ConfigError, /criteria: expected 100/);
    expect(loadCatalogue(writeCatalogue(tc('criteria: 100, '))).tiers[0]!.cases).to.have.length(1);
    expect(loadCatalogue(writeCatalogue(tc(''))).tiers[0]!.cases).to.have.length(1);
  });
});
