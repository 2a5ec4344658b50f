// Checks the Python script uploaded to the tgen node without TRex: it must compile, and its
// stdlib unittest suite (test_kfn_trex_trial.py, with a fake STL API) must pass.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../lib/agents/trex/kfn-trex-trial.py', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
// No __pycache__ may appear in the source tree.
const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

describe('agents/trex kfn-trex-trial.py', function () {
  this.timeout(30_000);

  it('compiles under python3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfn-trex-compile-'));
    try {
      const r = await execa('python3', ['-c', 'import sys, py_compile; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)', SCRIPT, join(dir, 'out.pyc')], { env, reject: false });
      expect(r.exitCode, r.stderr).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes its unittest suite (helpers and a whole trial on a fake STL API)', async () => {
    const r = await execa('python3', ['-m', 'unittest', '-v', 'test_kfn_trex_trial'], { cwd: HERE, env, reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/Ran \d+ tests/);
    expect(r.stderr).to.match(/\nOK\s*$/);
  });

  it('prints one JSON error document and exits 2 for a bad spec', async () => {
    const r = await execa('python3', [SCRIPT, '--spec', '{"server": 1}'], { env, reject: false });
    expect(r.exitCode).to.equal(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).to.deep.include({ tool: 'kfn-trex-trial', version: '1.0.0' });
    expect(doc.error).to.deep.equal({ kind: 'spec', message: "spec.server: expected a non-empty string, found 1" });
  });
});
