// A dry run connects to nothing and measures nothing, so -r must push nothing: no payload
// to a file:// TEST_DB_URL (and, by the same rule, none to the public TestAPI by default).
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCliProcess } from '../../support/cli.ts';

describe('CLI: run --dry-run -r', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'kfn-dry-push-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // A host without rt_cpus makes the timer case an error even in a dry run: an executed
  // case, which a real run would push.
  const POD = fileURLToPath(new URL('../../fixtures/config/pod/cpus-missing.yaml', import.meta.url));

  it('writes its results but pushes no payload, even for a case that ended in error', async () => {
    const payloads = join(dir, 'testapi.jsonl');
    const run = await runCliProcess(['run', '-t', 'timer', '--pod', POD, '--dry-run', '-r', '--results', join(dir, 'results')], { env: { TEST_DB_URL: pathToFileURL(payloads).href } });
    expect(run.exitCode, run.stderr).to.equal(70);
    expect(run.stdout).to.include('results.json');
    expect(existsSync(payloads)).to.equal(false);
  });

  it('still refuses a bad TEST_DB_URL with exit 2', async () => {
    const run = await runCliProcess(['run', '-t', 'timer', '--dry-run', '-r', '--results', join(dir, 'results')], { env: { TEST_DB_URL: 'ftp://example.org/results' } });
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.include('TEST_DB_URL');
  });
});
