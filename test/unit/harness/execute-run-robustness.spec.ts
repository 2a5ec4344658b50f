// executeRun where it used to break: a bad dependency regex, an abort between cases, two
// cases sharing one suite file, and mocha's process listeners outliving their case.
import { expect } from 'chai';
import { removeRunFolders, runCatalogue, summarize } from './execute-run-fakes.ts';

const ABORTED_BEFORE = 'the run was aborted before this case started';

describe('executeRun: robustness', () => {
  afterEach(removeRunFolders);

  // A bad regex must cost one case, not the results already measured (the CLI replaced
  // the whole run when executeRun threw).
  it('keeps the cases already measured when a dependency regex is invalid', async () => {
    const { run } = await runCatalogue({
      cases: [
        { name: 'timer', tier: 'latency' },
        { name: 'device_interrupt', tier: 'latency', dependencies: [{ INSTALLER_TYPE: '(fuel' }] },
        { name: 'sriov_forwarding', tier: 'forwarding' },
      ],
      env: { INSTALLER_TYPE: 'fuel' },
    });
    expect(summarize(run).map(([name, status]) => [name, status])).to.deep.equal([
      ['timer', 'pass'],
      ['device_interrupt', 'error'],
      ['sriov_forwarding', 'pass'],
    ]);
    expect(run.cases[1]?.reason).to.contain('INSTALLER_TYPE').and.to.contain('(fuel');
  });

  // An abort that lands between two cases leaves only passes and skips.
  it('never reports a run aborted between two cases as a pass', async () => {
    const controller = new AbortController();
    const { run, ran } = await runCatalogue({
      cases: [
        { name: 'timer', tier: 'latency' },
        { name: 'device_interrupt', tier: 'latency' },
      ],
      controller,
      // SIGTERM arrives just as the first case has been reported.
      onCaseEnd: (result) => {
        if (result.caseName === 'timer') controller.abort(new Error('aborted by SIGTERM'));
      },
    });
    expect(ran).to.deep.equal(['timer']);
    expect(summarize(run)[1]).to.deep.equal(['device_interrupt', 'skip', ABORTED_BEFORE]);
    expect(run.status).to.not.equal('pass');
    expect(run.exitCode).to.equal(70);
  });

  // The test plan runs one suite under several loads: each case must load its suite afresh.
  it('runs two cases that share one suite file, each with its own args', async () => {
    const { run, ran } = await runCatalogue({
      cases: [
        { name: 'timer_idle', tier: 'latency', suite: 'scripted-outcome' },
        { name: 'timer_cpu_load', tier: 'latency', suite: 'scripted-outcome', outcome: 'fail' },
      ],
    });
    expect(ran).to.deep.equal(['timer_idle', 'timer_cpu_load']);
    expect(summarize(run).map(([name, status]) => [name, status])).to.deep.equal([
      ['timer_idle', 'pass'],
      ['timer_cpu_load', 'fail'],
    ]);
  });

  // An ended case's mocha runner rethrew a later case's stray async error and killed the run.
  it('leaves no process listener behind once the cases have ended', async () => {
    const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const { run } = await runCatalogue({
      cases: [
        { name: 'timer', tier: 'latency' },
        { name: 'device_interrupt', tier: 'latency' },
      ],
    });
    expect(summarize(run).map(([name, status]) => [name, status])).to.deep.equal([
      ['timer', 'pass'],
      ['device_interrupt', 'pass'],
    ]);
    expect([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')]).to.deep.equal(before);
  });
});
