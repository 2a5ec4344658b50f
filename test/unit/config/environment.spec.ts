// The OPNFV environment with Xtesting's defaults (opnfv/functest-xtesting,
// xtesting/utils/env.py INPUTS): what results carry and what dependencies are matched on.
import { expect } from 'chai';
import { applyXtestingDefaults, readOpnfvEnvironment } from '../../../lib/config/environment.ts';

describe('config/environment', () => {
  it('takes Xtesting\'s defaults for an empty environment', () => {
    expect(readOpnfvEnvironment({})).to.deep.equal({
      installerType: 'unknown',
      deployScenario: 'os-nosdn-nofeature-noha',
      nodeName: '',
      buildTag: 'none',
      ciLoop: 'daily',
      testDbUrl: 'http://testresults.opnfv.org/test/api/v1/results',
    });
  });

  it('reads every variable when set, and treats an empty one as unset', () => {
    const env = readOpnfvEnvironment({
      INSTALLER_TYPE: 'fuel',
      DEPLOY_SCENARIO: 'os-nosdn-kvm_ovs_dpdk-ha',
      NODE_NAME: 'intel-pod10',
      BUILD_TAG: 'jenkins-kvmfornfv-daily-master-intel-pod10-215',
      CI_LOOP: 'weekly',
      TEST_DB_URL: 'file:///tmp/results.jsonl',
      TEST_DB_EXT_URL: 'http://testresults.opnfv.org/test/api/v1/results',
    });
    expect(env).to.include({ installerType: 'fuel', deployScenario: 'os-nosdn-kvm_ovs_dpdk-ha', nodeName: 'intel-pod10', ciLoop: 'weekly', testDbUrl: 'file:///tmp/results.jsonl', testDbExtUrl: 'http://testresults.opnfv.org/test/api/v1/results' });
    expect(readOpnfvEnvironment({ DEPLOY_SCENARIO: '', CI_LOOP: '' })).to.include({ deployScenario: 'os-nosdn-nofeature-noha', ciLoop: 'daily' });
  });

  it('gives dependencies the defaults too, as Xtesting\'s env.get() does, and keeps other variables', () => {
    const env = applyXtestingDefaults({ DEPLOY_SCENARIO: '', POD_ARCH: 'x86_64' });
    expect(env).to.include({ DEPLOY_SCENARIO: 'os-nosdn-nofeature-noha', CI_LOOP: 'daily', POD_ARCH: 'x86_64' });
    expect(env).to.not.have.property('INSTALLER_TYPE');
  });
});
