// -r: the result pushes of Xtesting's run_tests -r, to TestAPI (TEST_DB_URL, with the
// TEST_DB_TOKEN access token when set) and to InfluxDB (INFLUXDB_URL). A failed push never touches the local results; it only
// lowers the exit code to 69 when nothing more serious happened.
import { readOpnfvEnvironment } from '../config/environment.ts';
import { join } from 'node:path';
import { createInfluxDbReporter } from '../report/influxdb.ts';
import { hasPushFailures, type PushReporter } from '../report/push-http.ts';
import type { Reporter } from '../report/reporter.ts';
import { serializeRunResult } from '../report/results-json.ts';
import { createTestApiReporter } from '../report/testapi.ts';
import { writeFileAtomic } from '../report/write-file-atomic.ts';
import { EXIT } from '../results/exit-codes.ts';

/** Creating them checks the URLs, so a bad URL is exit 2 before any node is touched. */
export function createPushReporters(options: { enabled: boolean; log: (line: string) => void; env?: NodeJS.ProcessEnv }): PushReporter[] {
  if (!options.enabled) return [];
  const env = options.env ?? process.env;
  return [
    // The token is read from the environment only (never from a file), and only here.
    createTestApiReporter({ url: readOpnfvEnvironment(env).testDbUrl, token: env.TEST_DB_TOKEN, log: options.log }),
    createInfluxDbReporter({ url: env.INFLUXDB_URL, log: options.log }),
  ];
}

/** Runs after the pushes: records their outcome in the run and rewrites results.json. */
export function settlePushOutcome(pushReporters: readonly PushReporter[], runDir: string): Reporter {
  return {
    name: 'push outcome',
    async onEnd(run) {
      if (pushReporters.length === 0) return;
      run.pushes = pushReporters.map(({ outcome }) => ({ target: outcome.target, state: outcome.state, accepted: outcome.accepted, failures: outcome.failures.map((f) => f.message) }));
      for (const reporter of pushReporters) {
        const { target, state, notes, failures } = reporter.outcome;
        run.notes.push(`${target} push: ${state}${notes.length ? ` (${notes.join('; ')})` : ''}`);
        for (const failure of failures) run.notes.push(`${target} push failed (${failure.reason}): ${failure.message}`);
      }
      if (hasPushFailures(pushReporters) && run.exitCode === EXIT.ok) run.exitCode = EXIT.pushFailed;
      await writeFileAtomic(join(runDir, 'results.json'), serializeRunResult(run));
    },
  };
}
