// The OPNFV CI environment, with Xtesting's defaults, read in one place so results,
// TestAPI and InfluxDB all carry the same metadata.
import type { RunEnvironment } from '../results/model.ts';

export function readOpnfvEnvironment(env: NodeJS.ProcessEnv = process.env): RunEnvironment & { testDbUrl: string; testDbExtUrl: string } {
  const value = (name: string, fallback: string) => (env[name] && env[name] !== '' ? (env[name] as string) : fallback);
  return {
    installerType: value('INSTALLER_TYPE', 'unknown'),
    deployScenario: value('DEPLOY_SCENARIO', 'scenario'),
    nodeName: value('NODE_NAME', ''),
    buildTag: value('BUILD_TAG', 'none'),
    ciLoop: value('CI_LOOP', 'daily'),
    testDbUrl: value('TEST_DB_URL', 'http://testresults.opnfv.org/test/api/v1/results'),
    testDbExtUrl: value('TEST_DB_EXT_URL', 'http://testresults.opnfv.org/test/api/v1/results'),
  };
}
