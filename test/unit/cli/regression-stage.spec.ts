// The --baseline stage of `run`: --compare-across reaches both the baseline search and the
// comparison, a named baseline that compares nothing is a problem (not a silent pass), and
// nothing here throws, so the run's reports are always written.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../lib/errors.ts';
import { checkBaselineOption, judgeRegression, parseCompareAcross } from '../../../lib/cli/regression-stage.ts';
import { appendHistory } from '../../../lib/regression/index.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildTestProfile } from '../../support/fake-scope.ts';
import { BASELINE_FILE, loadBaseline, withRun } from '../regression/runs.ts';

const newKernel = (run: RunResult) => {
  for (const node of Object.values(run.nodes)) node.kernelRelease = '6.1.0-99-rt-amd64';
};

describe('cli/regression-stage', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kfn-regression-stage-'));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const judge = (run: RunResult, spec: string, compareAcross: ('kernel' | 'qemu')[] = []) =>
    judgeRegression({ run, spec, resultsRoot: root, profile: buildTestProfile(), compareAcross, log: () => {} });

  async function addToHistory(run: RunResult): Promise<void> {
    const dir = join(root, run.runId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'results.json'), JSON.stringify(run));
    await appendHistory({ resultsRoot: root, run, resultsFile: join(dir, 'results.json') });
  }

  it('parses --compare-across and refuses what is not kernel or qemu', () => {
    expect(parseCompareAcross(undefined)).to.deep.equal([]);
    expect(parseCompareAcross('kernel, qemu,kernel')).to.deep.equal(['kernel', 'qemu']);
    expect(() => parseCompareAcross('kernel,libvirt')).to.throw(ConfigError, /"libvirt"/);
  });

  it('reads a named baseline up front, so a typo is bad input', async () => {
    await checkBaselineOption('last');
    await checkBaselineOption(BASELINE_FILE);
    let error: unknown;
    await checkBaselineOption(join(root, 'nope.json')).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ConfigError);
  });

  it('a named baseline on another kernel compares nothing: that is a problem, not a pass', async () => {
    const judged = await judge(withRun(newKernel), BASELINE_FILE);
    expect(judged.report?.compared).to.deep.equal([]);
    expect(judged.problem).to.match(/has no figure comparable with this run: .*kernel/);
  });

  it('--compare-across kernel compares across the new kernel, and says so', async () => {
    const judged = await judge(withRun(newKernel), BASELINE_FILE, ['kernel']);
    expect(judged.problem).to.equal(undefined);
    expect(judged.report?.compared.length).to.be.greaterThan(0);
    expect(judged.report?.compared[0]?.waived.join(' ')).to.include('compare_across includes kernel');
  });

  it('--baseline last: --compare-across also decides which earlier run is alike', async () => {
    const older = loadBaseline();
    const newer = withRun(newKernel);
    newer.runId = '20261120-120000-cccc';
    newer.startedAt = '2026-11-20T12:00:00.000Z';
    await addToHistory(older);
    await addToHistory(newer);
    // This run is back on the older run's kernel: that run is the alike one...
    expect((await judge(withRun(), 'last')).report?.baseline?.runId).to.equal(older.runId);
    // ...unless kernels may differ: then the most recent run is alike, and compared.
    const across = await judge(withRun(), 'last', ['kernel']);
    expect(across.report?.baseline?.runId).to.equal(newer.runId);
    expect(across.report?.compared.length).to.be.greaterThan(0);
  });

  it('never throws: an unreadable baseline becomes a problem the run reports', async () => {
    const judged = await judge(withRun(), join(root, 'vanished.json'));
    expect(judged.report).to.equal(undefined);
    expect(judged.problem).to.match(/could not be judged: .*vanished\.json/);
  });
});
