// ci/run-pod-tests.sh with a stub `npm` first on PATH: the stub records its arguments,
// creates a run directory in --results like the suite does, and exits with STUB_EXIT.
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../ci/run-pod-tests.sh', import.meta.url));

const STUB_NPM = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$STUB_LOG"
case $1 in
  ci) mkdir -p node_modules; exit "\${STUB_CI_EXIT:-0}" ;;
  exec)
    prev=''; results=''
    for a in "$@"; do [[ $prev == --results ]] && results=$a; prev=$a; done
    mkdir -p "$results/run-$STUB_EXIT"
    echo '<testsuites/>' > "$results/run-$STUB_EXIT/junit.xml"
    write_results() {
      printf '{"status":"%s","pushes":[{"target":"influxdb","state":"pushed"},{"target":"testapi","state":"%s"}]}' "$1" "\${STUB_TESTAPI_STATE:-pushed}" > "$results/run-$STUB_EXIT/results.json"
    }
    write_results "\${STUB_STATUS:-pass}"
    if [[ -n \${STUB_READY:-} ]]; then
      # A suite in the middle of a measurement: SIGTERM makes it clean up and exit 70.
      trap 'echo got-TERM >> "$STUB_LOG"; write_results error; exit 70' TERM
      : > "$STUB_READY"
      while :; do sleep 0.05; done
    fi
    exit "$STUB_EXIT" ;;
esac
exit 99
`;

let work: string;
let repo: string;

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  npmCalls: string[];
}

async function runScript(options: { args?: string[]; env?: Record<string, string>; stubExit?: number } = {}): Promise<Outcome> {
  const log = join(work, 'npm.log');
  await rm(log, { force: true });
  const env: Record<string, string> = {
    PATH: `${join(work, 'bin')}:/usr/bin:/bin`,
    HOME: join(work, 'home'),
    STUB_LOG: log,
    STUB_EXIT: String(options.stubExit ?? 0),
    POD_FILE: join(work, 'pods', 'intel-pod10.yaml'),
    ...options.env,
  };
  const r = await execa(join(repo, 'ci', 'run-pod-tests.sh'), options.args ?? [], { env, extendEnv: false, reject: false, cwd: work });
  const npmCalls = existsSync(log) ? (await readFile(log, 'utf8')).trimEnd().split('\n') : [];
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), npmCalls };
}

describe('ci/run-pod-tests.sh', function () {
  this.timeout(30_000);

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'kfn-ci-'));
    repo = join(work, 'repo');
    await mkdir(join(repo, 'ci'), { recursive: true });
    await copyFile(SCRIPT, join(repo, 'ci', 'run-pod-tests.sh'));
    await chmod(join(repo, 'ci', 'run-pod-tests.sh'), 0o755);
    await mkdir(join(repo, 'node_modules'));
    await mkdir(join(work, 'bin'));
    await writeFile(join(work, 'bin', 'npm'), STUB_NPM, { mode: 0o755 });
    await mkdir(join(work, 'pods'));
    await writeFile(join(work, 'pods', 'intel-pod10.yaml'), 'nodes: []\n');
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  // mode × suite exit code → job exit code
  const table: Array<[mode: string, code: number, job: number]> = [
    ['gate', 0, 0], ['gate', 2, 2], ['gate', 68, 68], ['gate', 69, 69], ['gate', 70, 70], ['gate', 71, 71], ['gate', 1, 1],
    ['nightly', 0, 0], ['nightly', 2, 2], ['nightly', 68, 0], ['nightly', 69, 69], ['nightly', 70, 70], ['nightly', 71, 0], ['nightly', 1, 1],
  ];
  for (const [mode, code, job] of table) {
    it(`--mode ${mode}: suite exit ${code} → job exit ${job}`, async () => {
      const out = await runScript({ args: ['--mode', mode], stubExit: code });
      expect(out.exitCode, out.stderr).to.equal(job);
      // An UNSTABLE nightly needs a failing testcase: the script adds one when it hides a failure.
      const gateJunit = join(repo, 'results', 'ci-gate', 'junit.xml');
      expect(existsSync(gateJunit)).to.equal(code !== 0 && job === 0);
      if (existsSync(gateJunit)) expect(await readFile(gateJunit, 'utf8')).to.include(`<failure message="kvmfornfv-test exited ${code}`);
    });
  }

  // 68 and 71 outrank 69 in the suite's exit code; results.json still says the push failed.
  for (const code of [68, 71]) {
    it(`--mode nightly: suite exit ${code} with a failed push → job exit 69, not 0`, async () => {
      const failed = await runScript({ args: ['--mode', 'nightly'], stubExit: code, env: { STUB_TESTAPI_STATE: 'failed' } });
      expect(failed.exitCode, failed.stderr).to.equal(69);
      expect(failed.stdout).to.include('a result push failed');
      const skipped = await runScript({ args: ['--mode', 'nightly'], stubExit: code, env: { STUB_TESTAPI_STATE: 'skipped' } });
      expect(skipped.exitCode, skipped.stderr).to.equal(0);
    });
  }

  // A suite killed before its verdict (SIGKILL, OOM) leaves results.json saying running.
  for (const code of [0, 68, 71, 137]) {
    it(`--mode nightly: suite exit ${code} with a run that never reached its verdict → job exit ${code === 137 ? 137 : 70}`, async () => {
      const out = await runScript({ args: ['--mode', 'nightly'], stubExit: code, env: { STUB_STATUS: 'running' } });
      expect(out.exitCode, out.stderr).to.equal(code === 137 ? 137 : 70);
      expect(out.stdout).to.include('run(s) run-' + code + ' never reached a verdict');
    });
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`passes ${signal} on to the suite as SIGTERM, waits for its cleanup and reports its exit code 70`, async () => {
      const ready = join(work, 'ready');
      const log = join(work, 'npm.log');
      const env: Record<string, string> = { PATH: `${join(work, 'bin')}:/usr/bin:/bin`, HOME: join(work, 'home'), STUB_LOG: log, STUB_EXIT: '0', STUB_STATUS: 'running', STUB_READY: ready, POD_FILE: join(work, 'pods', 'intel-pod10.yaml') };
      const child = execa(join(repo, 'ci', 'run-pod-tests.sh'), ['--mode', 'nightly'], { env, extendEnv: false, reject: false, cwd: work });
      for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));
      expect(existsSync(ready), 'the stub suite started').to.equal(true);
      process.kill(child.pid as number, signal);
      const r = await child;
      expect(r.exitCode, String(r.stderr)).to.equal(70);
      expect(await readFile(log, 'utf8')).to.include('got-TERM');
      expect(String(r.stdout)).to.include(`${signal} received; passing SIGTERM to the suite`).and.include('kvmfornfv-test exited 70');
      // The copy for Jenkins is the suite's final word, written after the signal.
      expect(await readFile(join(repo, 'results', 'run-0', 'results.json'), 'utf8')).to.include('"status":"error"');
    });
  }

  it('runs the suite with the pod, selection, thresholds, baseline and push flag, results in the store', async () => {
    const out = await runScript({ args: ['--mode', 'gate'], env: { TEST_SELECTION: 'timer', THRESHOLDS: 'rt-kvm', NODE_NAME: 'intel-pod10' } });
    const store = join(work, 'home', 'kvmfornfv-results', 'intel-pod10');
    expect(out.npmCalls).to.deep.equal([`exec --offline -- kvmfornfv-test run -t timer --pod ${join(work, 'pods', 'intel-pod10.yaml')} --results ${store} --thresholds rt-kvm --baseline last -r`]);
  });

  it('passes COMPARE_ACROSS with the baseline, and drops it without one', async () => {
    const withBaseline = await runScript({ args: ['--mode', 'gate'], env: { COMPARE_ACROSS: 'kernel,qemu' } });
    expect(withBaseline.npmCalls[0]).to.match(/ --baseline last --compare-across kernel,qemu -r$/);
    const without = await runScript({ args: ['--mode', 'gate'], env: { COMPARE_ACROSS: 'kernel,qemu', BASELINE: '' } });
    expect(without.npmCalls[0]).to.not.include('--compare-across');
  });

  it('leaves out the push and the baseline when asked, and finds the pod from NODE_NAME', async () => {
    const out = await runScript({ args: ['--mode', 'gate'], env: { POD_FILE: '', NODE_NAME: 'intel-pod10', POD_DIR: join(work, 'pods'), PUSH_RESULTS: 'false', BASELINE: '' } });
    expect(out.exitCode, out.stderr).to.equal(0);
    expect(out.npmCalls[0]).to.match(/ run -t all --pod \S+\/pods\/intel-pod10\.yaml --results \S+$/);
  });

  it('copies only this build\'s run into results/, emptied first, and keeps earlier runs in the store', async () => {
    const store = join(work, 'store');
    await mkdir(join(store, 'earlier-run'), { recursive: true });
    await mkdir(join(repo, 'results', 'stale'), { recursive: true });
    const out = await runScript({ args: ['--mode', 'nightly'], env: { KFN_RESULTS_STORE: store } });
    expect(out.exitCode, out.stderr).to.equal(0);
    expect(await readdir(join(repo, 'results'))).to.deep.equal(['run-0']);
    expect((await readdir(store)).sort()).to.deep.equal(['earlier-run', 'run-0']);
  });

  it('installs with npm ci only when node_modules is missing', async () => {
    await rm(join(repo, 'node_modules'), { recursive: true });
    const first = await runScript({ args: ['--mode', 'gate'] });
    expect(first.npmCalls[0]).to.equal('ci --no-audit --no-fund');
    const second = await runScript({ args: ['--mode', 'gate'] });
    expect(second.npmCalls.some((c) => c.startsWith('ci'))).to.equal(false);
  });

  it('takes the mode from CI_LOOP when --mode is not given', async () => {
    expect((await runScript({ env: { CI_LOOP: 'daily' }, stubExit: 71 })).exitCode).to.equal(0);
    expect((await runScript({ env: { CI_LOOP: 'verify' }, stubExit: 71 })).exitCode).to.equal(71);
  });

  const badInput: Array<[string, { args?: string[]; env?: Record<string, string> }, string]> = [
    ['an unknown mode', { args: ['--mode', 'weekly'] }, '--mode must be gate or nightly, got "weekly"'],
    ['a missing pod file', { env: { POD_FILE: '/nonexistent/pod.yaml' } }, 'pod file /nonexistent/pod.yaml does not exist'],
    ['no pod at all', { env: { POD_FILE: '', NODE_NAME: '' } }, 'set POD_FILE, or NODE_NAME'],
    ['a results dir outside the workspace', { env: { RESULTS_DIR: '/tmp' } }, 'must lie inside the workspace'],
  ];
  for (const [what, options, message] of badInput) {
    it(`exits 2 without running the suite on ${what}`, async () => {
      const out = await runScript(options);
      expect(out.exitCode).to.equal(2);
      expect(out.stderr).to.include(message);
      expect(out.npmCalls.some((c) => c.startsWith('exec'))).to.equal(false);
    });
  }
});
