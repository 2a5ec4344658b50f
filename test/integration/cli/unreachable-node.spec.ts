// A node that cannot be reached must give JUnit errors, never a pass, and the run must
// still write results.json. The "node" is a closed port on loopback: no traffic leaves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCliProcess } from '../../support/cli.ts';
import { readJenkinsJunit } from '../../support/jenkins-junit-reader.ts';
import type { RunResult } from '../../../lib/results/model.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CLI: an unreachable node', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'kfn-unreachable-'));
  const results = join(dir, 'results');
  let exitCode: number;

  before(async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    const port = await closedPort();
    const node = (name: string, role: string) =>
      `  - {name: ${name}, role: ${role}, ip: 127.0.0.1, ssh_port: ${port}, user: root, key_filename: ${join(dir, 'id')}, rt_cpus: "1", housekeeping_cpus: "0", host_key: {fingerprint: "SHA256:${'A'.repeat(43)}"}}`;
    writeFileSync(join(dir, 'pod.yaml'), `pod_name: unreachable-pod\nnodes:\n${node('host', 'host')}\n${node('guest', 'guest')}\n`);
    const run = await runCliProcess(['run', '-t', 'timer', '--pod', join(dir, 'pod.yaml'), '--thresholds', 'lab', '--results', results], { timeoutMs: 100_000 });
    exitCode = run.exitCode;
  });

  it('exits 70 (could not measure)', () => {
    expect(exitCode).to.equal(70);
  });

  it('reports every declared test of every node as a JUnit error with the cause', () => {
    const [runId] = readdirSync(results).filter((f) => f !== 'history.jsonl');
    const cases = readJenkinsJunit(readFileSync(join(results, runId ?? '', 'junit.xml'), 'utf8')).flatMap((s) => s.cases);
    expect(cases.length).to.be.greaterThan(4);
    for (const c of cases) {
      expect(c.status, c.name).to.equal('FAILED');
      expect(c.failedBy, c.name).to.equal('error');
      expect(c.errorDetails ?? '', c.name).to.match(/ECONNREFUSED|refused|connect/i);
    }
  });

  it('still writes results.json, with the cases as errors', () => {
    const [runId] = readdirSync(results).filter((f) => f !== 'history.jsonl');
    const run = JSON.parse(readFileSync(join(results, runId ?? '', 'results.json'), 'utf8')) as RunResult;
    expect(run.exitCode).to.equal(70);
    expect(run.cases.map((c) => [c.caseName, c.status])).to.deep.equal([['timer', 'error']]);
  });
});
