// Pod files in the shapes of Yardstick's own (see each fixture's header: opnfv/yardstick
// 63d0e99fa2e4, etc/yardstick/nodes/) load in a dry run with their notes and the exit code
// README documents, and no password or inline key of theirs reaches any output.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadPod } from '../../../lib/config/pod.ts';
import { podSecrets } from '../../../lib/config/pod-model.ts';
import { runCliProcess } from '../../support/cli.ts';

const pods: Array<{ file: string; exitCode: number; notes: string[]; secrets?: false }> = [
  // Compute nodes that name no CPU lists: their cases cannot be planned (70).
  { file: 'yardstick-ipmi-pod.yaml', exitCode: 70, notes: ['has role Jumpserver: kept, but no test case uses it', 'Yardstick keys ipmi_ip, ipmi_user, ipmi_pwd are accepted but not used'] },
  { file: 'yardstick-nsb-pod.yaml', exitCode: 70, notes: ['has Yardstick NSB role vnf__0: read as guest', 'Yardstick keys host, interfaces, routing_table, nd_route_tbl are accepted but not used'] },
  { file: 'yardstick-odl-pod.yaml', exitCode: 70, notes: ['has role Opendaylight: kept', 'has role Gateway: kept', 'has role Opendaylight-Cluster-Leader: kept'], secrets: false },
  // CPU lists given: every case plans, nothing is measured (0).
  { file: 'yardstick-passwords-pod.yaml', exitCode: 0, notes: ['has its private key inline (pkey)', 'key rack is neither', 'has role tg__0: kept'] },
];

function readTree(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? readTree(path) : readFileSync(path, 'utf8')))
    .join('\n');
}

describe("CLI: run --dry-run on Yardstick's pod files", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'kfn-yardstick-pods-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const pod of pods) {
    it(`${pod.file}: exit ${pod.exitCode}, its notes, and none of its secrets in any output`, async () => {
      const file = `test/fixtures/config/pod/${pod.file}`;
      const results = join(dir, pod.file);
      const run = await runCliProcess(['run', '-t', 'all', '--pod', file, '--dry-run', '--results', results]);
      expect(run.exitCode, run.stderr).to.equal(pod.exitCode);
      for (const note of pod.notes) expect(run.stdout).to.include(note);
      const secrets = podSecrets(loadPod(file, { env: {} }), {});
      expect(secrets.length > 0, 'the fixture has secrets to look for').to.equal(pod.secrets !== false);
      const everything = `${run.stdout}\n${run.stderr}\n${readTree(results)}`;
      expect(everything, 'the commands for the nodes were printed').to.include('(dry-run)');
      for (const secret of secrets) expect(everything.includes(secret), `secret ${secrets.indexOf(secret)} of ${pod.file} printed`).to.equal(false);
    });
  }
});
