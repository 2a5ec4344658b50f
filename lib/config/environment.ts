// The OPNFV CI environment, with Xtesting's defaults, read in one place so results,
// TestAPI, InfluxDB and the catalogue's dependencies all see the same values.
import type { RunEnvironment } from '../results/model.ts';

/**
 * Xtesting's defaults (opnfv/functest-xtesting, xtesting/utils/env.py, INPUTS); its other
 * inputs (INSTALLER_TYPE, BUILD_TAG, NODE_NAME, TEST_DB_EXT_URL) default to unset.
 */
export const XTESTING_DEFAULTS = {
  CI_LOOP: 'daily',
  DEPLOY_SCENARIO: 'os-nosdn-nofeature-noha',
  TEST_DB_URL: 'http://testresults.opnfv.org/test/api/v1/results',
} as const;

/** The environment as Xtesting's env.get() sees it: an unset or empty input takes its default. */
export function applyXtestingDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [name, fallback] of Object.entries(XTESTING_DEFAULTS)) if (!out[name]) out[name] = fallback;
  return out;
}

// Unset inputs that results must still carry as text are shown as Xtesting's reports do
// for None: 'unknown' (installer) and 'none' (build tag).
export function readOpnfvEnvironment(env: NodeJS.ProcessEnv = process.env): RunEnvironment & { testDbUrl: string; testDbExtUrl?: string } {
  const e = applyXtestingDefaults(env);
  const environment: RunEnvironment & { testDbUrl: string; testDbExtUrl?: string } = {
    installerType: e.INSTALLER_TYPE || 'unknown',
    deployScenario: e.DEPLOY_SCENARIO as string,
    nodeName: e.NODE_NAME || '',
    buildTag: e.BUILD_TAG || 'none',
    ciLoop: e.CI_LOOP as string,
    testDbUrl: e.TEST_DB_URL as string,
  };
  if (e.TEST_DB_EXT_URL) environment.testDbExtUrl = e.TEST_DB_EXT_URL;
  return environment;
}
