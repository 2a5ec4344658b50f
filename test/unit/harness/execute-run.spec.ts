import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../../lib/errors.ts';
import { executeRun } from '../../../lib/harness/run.ts';
import { ReporterMultiplexer } from '../../../lib/report/reporter.ts';
import { createJunitReporter } from '../../../lib/report/junit.ts';
import { buildFakeScope } from '../../support/fake-scope.ts';
import { buildCatalogue, ENVIRONMENT, removeRunFolders, runCatalogue, summarize, type CaseSpec } from './execute-run-fakes.ts';

const BLOCKED_BY = (name: string) => `not run: blocking case ${name} did not pass`;
const DISABLED = 'disabled in testcases.yaml (enabled: false)';
const ABORTED_BEFORE = 'the run was aborted before this case started';

describe('executeRun: a selection of catalogue cases, as run_tests runs them', () => {
  afterEach(removeRunFolders);

  describe('blocking cases', () => {
    it('stops after a blocking case fails: every later case, in later tiers too, is a visible skip naming it', async () => {
      const { run, ran, caseEnds, junit } = await runCatalogue({
        cases: [
          { name: 'preflight', tier: 'preflight', blocking: true },
          { name: 'gate', tier: 'preflight', blocking: true, outcome: 'fail' },
          { name: 'timer', tier: 'latency' },
          { name: 'device_interrupt', tier: 'latency', blocking: true, enabled: false },
        ],
      });
      expect(ran).to.deep.equal(['preflight', 'gate']);
      expect(summarize(run)).to.deep.equal([
        ['preflight', 'pass', undefined],
        ['gate', 'fail', undefined],
        ['timer', 'skip', BLOCKED_BY('gate')],
        ['device_interrupt', 'skip', BLOCKED_BY('gate')],
      ]);
      expect(run.status).to.equal('fail');
      expect(run.exitCode).to.equal(68);
      // The reporters hear of every case, skipped ones included, as each is decided.
      expect(caseEnds.map((e) => [e.caseName, e.casesSoFar])).to.deep.equal([
        ['preflight', 1],
        ['gate', 2],
        ['timer', 3],
        ['device_interrupt', 4],
      ]);
      const suites = await junit();
      expect(suites['kvmfornfv.preflight.gate']?.map((c) => [c.name, c.status, c.failedBy])).to.deep.equal([['measured', 'FAILED', 'failure']]);
      expect(suites['kvmfornfv.latency.timer']?.map((c) => [c.className, c.name, c.status, c.skippedMessage])).to.deep.equal([
        ['kvmfornfv.latency.timer', 'timer', 'SKIPPED', BLOCKED_BY('gate')],
      ]);
      expect(suites['kvmfornfv.latency.device_interrupt']?.[0]?.skippedMessage).to.equal(BLOCKED_BY('gate'));
    });

    it('stops after a blocking case that could not measure (error), not only after a missed threshold', async () => {
      const { run, ran } = await runCatalogue({
        cases: [
          { name: 'preflight', tier: 'preflight', blocking: true, outcome: 'error' },
          { name: 'timer', tier: 'latency' },
        ],
      });
      expect(ran).to.deep.equal(['preflight']);
      expect(summarize(run)).to.deep.equal([
        ['preflight', 'error', undefined],
        ['timer', 'skip', BLOCKED_BY('preflight')],
      ]);
      expect(run.cases[0]?.testcases[0]?.message).to.equal('cyclictest on guest exited with 1 (preflight)');
      expect(run.exitCode).to.equal(70);
    });

    it('goes on past non-blocking cases that fail or error, and reports each as it ended', async () => {
      const { run, ran } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency', outcome: 'fail' },
          { name: 'device_interrupt', tier: 'latency', outcome: 'error' },
          { name: 'sriov_forwarding', tier: 'forwarding' },
        ],
      });
      expect(ran).to.deep.equal(['timer', 'device_interrupt', 'sriov_forwarding']);
      expect(summarize(run).map(([name, status]) => [name, status])).to.deep.equal([
        ['timer', 'fail'],
        ['device_interrupt', 'error'],
        ['sriov_forwarding', 'pass'],
      ]);
      expect(run.cases[0]?.testcases[0]?.message).to.equal('timer guest: max 150 us > limit 100 us (assert, profile test)');
      expect(run.status).to.equal('error');
      expect(run.exitCode).to.equal(70);
    });

    it('lets isBlocking override the catalogue both ways (a profile whose preflight must not block)', async () => {
      const notBlocking = await runCatalogue({
        cases: [
          { name: 'preflight', tier: 'preflight', blocking: true, outcome: 'fail' },
          { name: 'timer', tier: 'latency', blocking: true, outcome: 'fail' },
          { name: 'device_interrupt', tier: 'latency' },
        ],
        isBlocking: (c) => c.blocking && c.tier !== 'preflight',
      });
      expect(notBlocking.ran).to.deep.equal(['preflight', 'timer']);
      expect(summarize(notBlocking.run)).to.deep.equal([
        ['preflight', 'fail', undefined],
        ['timer', 'fail', undefined],
        ['device_interrupt', 'skip', BLOCKED_BY('timer')],
      ]);

      const blocking = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency', blocking: false, outcome: 'fail' },
          { name: 'device_interrupt', tier: 'latency' },
        ],
        isBlocking: () => true,
      });
      expect(blocking.ran).to.deep.equal(['timer']);
      expect(summarize(blocking.run)[1]).to.deep.equal(['device_interrupt', 'skip', BLOCKED_BY('timer')]);
    });

    it('does not block on a blocking case that was skipped (disabled or unmet) rather than failed', async () => {
      const { run, ran } = await runCatalogue({
        cases: [
          { name: 'preflight', tier: 'preflight', blocking: true, enabled: false },
          { name: 'gate', tier: 'preflight', blocking: true, dependencies: [{ INSTALLER_TYPE: '^apex$' }] },
          { name: 'timer', tier: 'latency' },
        ],
        env: { INSTALLER_TYPE: 'fuel' },
      });
      expect(ran).to.deep.equal(['timer']);
      expect(summarize(run)).to.deep.equal([
        ['preflight', 'skip', DISABLED],
        ['gate', 'skip', 'INSTALLER_TYPE="fuel" does not match /^apex$/'],
        ['timer', 'pass', undefined],
      ]);
      expect(run.status).to.equal('pass');
    });
  });

  describe('dependencies (environment regexes)', () => {
    it('skips a case whose regex does not match, naming the variable, its value and the regex, and runs one that matches', async () => {
      const { run, ran, junit } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency', dependencies: [{ DEPLOY_SCENARIO: 'kvm' }] },
          { name: 'device_interrupt', tier: 'latency', dependencies: [{ DEPLOY_SCENARIO: 'kvm' }, { INSTALLER_TYPE: '^(fuel|apex)$' }] },
          { name: 'sriov_forwarding', tier: 'forwarding', dependencies: [{ NODE_NAME: '.+' }] },
        ],
        // Only the request's env counts, never the test process's own environment.
        env: { DEPLOY_SCENARIO: 'os-nosdn-kvm-ha', INSTALLER_TYPE: 'compass' },
      });
      expect(ran).to.deep.equal(['timer']);
      expect(summarize(run)).to.deep.equal([
        ['timer', 'pass', undefined],
        ['device_interrupt', 'skip', 'INSTALLER_TYPE="compass" does not match /^(fuel|apex)$/'],
        ['sriov_forwarding', 'skip', 'NODE_NAME="" does not match /.+/'],
      ]);
      const suites = await junit();
      expect(suites['kvmfornfv.latency.device_interrupt']?.map((c) => [c.status, c.skippedMessage])).to.deep.equal([
        ['SKIPPED', 'INSTALLER_TYPE="compass" does not match /^(fuel|apex)$/'],
      ]);
      expect(suites['kvmfornfv.forwarding.sriov_forwarding']?.[0]?.skippedMessage).to.equal('NODE_NAME="" does not match /.+/');
    });
  });

  describe('disabled cases', () => {
    it('does not load a disabled case and reports it as <skipped> with the reason', async () => {
      const { run, ran, junit } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency', enabled: false },
          { name: 'device_interrupt', tier: 'latency' },
        ],
      });
      expect(ran).to.deep.equal(['device_interrupt']);
      expect(summarize(run)).to.deep.equal([
        ['timer', 'skip', DISABLED],
        ['device_interrupt', 'pass', undefined],
      ]);
      expect(run.cases[0]?.testcases.map((t) => [t.title, t.status, t.message])).to.deep.equal([['timer', 'skip', DISABLED]]);
      const suites = await junit();
      expect(suites['kvmfornfv.latency.timer']?.map((c) => [c.name, c.status, c.skippedMessage])).to.deep.equal([['timer', 'SKIPPED', DISABLED]]);
      expect(run.status).to.equal('pass');
    });

    it('never reads a run of only disabled cases as a pass', async () => {
      const { run, ran } = await runCatalogue({ cases: [{ name: 'timer', tier: 'latency', enabled: false }], selection: 'timer' });
      expect(ran).to.deep.equal([]);
      expect(run.status).to.equal('skip');
    });
  });

  describe('-t selection', () => {
    // Catalogue order is neither alphabetical nor by name; the tier preflight holds a case preflight.
    const CATALOGUE: CaseSpec[] = [
      { name: 'preflight', tier: 'preflight' },
      { name: 'preflight_extra', tier: 'preflight' },
      { name: 'timer', tier: 'latency' },
      { name: 'device_interrupt', tier: 'latency' },
      { name: 'sriov_forwarding', tier: 'forwarding' },
      { name: 'baremetal_forwarding', tier: 'forwarding' },
    ];
    const selections: Array<[string, string[]]> = [
      ['all', ['preflight', 'preflight_extra', 'timer', 'device_interrupt', 'sriov_forwarding', 'baremetal_forwarding']],
      ['latency', ['timer', 'device_interrupt']],
      ['device_interrupt', ['device_interrupt']],
      // A tier and a case of one name: the tier wins, as in run_tests.
      ['preflight', ['preflight', 'preflight_extra']],
    ];
    for (const [selection, expected] of selections) {
      it(`-t ${selection} runs ${expected.join(', ')} in catalogue order and nothing else`, async () => {
        const { run, ran } = await runCatalogue({ cases: CATALOGUE, selection });
        expect(ran).to.deep.equal(expected);
        expect(run.cases.map((c) => c.caseName)).to.deep.equal(expected);
        expect(run.cases.every((c) => c.status === 'pass')).to.equal(true);
        expect(run.options.selection).to.equal(selection);
      });
    }

    it('rejects an unknown selection before telling the reporters anything', async () => {
      let begun = 0;
      const scope = await buildFakeScope();
      const request = {
        catalogue: buildCatalogue(CATALOGUE),
        selection: 'timr',
        scope,
        environment: ENVIRONMENT,
        reporters: new ReporterMultiplexer([{ name: 'recorder', onBegin: () => void (begun += 1) }], () => {}),
        env: {},
        nodes: {},
        tools: {},
        notes: [],
      };
      let caught: unknown;
      await executeRun(request)
        .catch((e: unknown) => (caught = e))
        .finally(() => rm(scope.runDir, { recursive: true, force: true }));
      expect(caught).to.be.instanceOf(ConfigError);
      expect(String((caught as Error).message)).to.contain('"timr" is not a case, a tier or all');
      expect(begun).to.equal(0);
    });
  });

  describe('no verdict before it is reached', () => {
    it('says running, exit code 70, after every case until the last, and junit.xml carries an error until then', async () => {
      const seen: Array<[string, string, number, boolean]> = [];
      let junitDir = '';
      const { run, junit, runDir } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency' },
          { name: 'device_interrupt', tier: 'latency' },
        ],
        onCaseEnd: (result, r) => {
          // The junit reporter wrote before this one: what Jenkins would publish if the harness died now.
          const xml = readFileSync(join(junitDir, 'junit.xml'), 'utf8');
          seen.push([result.caseName, r.status, r.exitCode, /kvmfornfv\.run[\s\S]*has not reached its verdict/.test(xml)]);
        },
        onScope: (dir) => {
          junitDir = dir;
        },
      });
      expect(seen).to.deep.equal([
        ['timer', 'running', 70, true],
        ['device_interrupt', 'running', 70, true],
      ]);
      expect([run.status, run.exitCode]).to.deep.equal(['pass', 0]);
      expect(runDir).to.equal(junitDir);
      // The verdict is in: the final junit.xml (written by onEnd in the CLI) drops the error.
      await createJunitReporter(runDir).onEnd?.(run);
      expect(Object.keys(await junit())).to.deep.equal(['kvmfornfv.latency.timer', 'kvmfornfv.latency.device_interrupt']);
    });
  });

  describe('abort', () => {
    it('ends the running case as an error, runs nothing after it and keeps everything measured so far', async () => {
      const controller = new AbortController();
      const { run, ran, caseEnds, junit, runDir } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency' },
          { name: 'device_interrupt', tier: 'latency', template: 'aborted-midway' },
          { name: 'sriov_forwarding', tier: 'forwarding' },
          { name: 'baremetal_forwarding', tier: 'forwarding', enabled: false },
        ],
        controller,
        onMeasuring: () => controller.abort(new Error('aborted by SIGTERM')),
      });
      expect(ran).to.deep.equal(['timer', 'device_interrupt']);
      expect(summarize(run).map(([name, status]) => [name, status])).to.deep.equal([
        ['timer', 'pass'],
        ['device_interrupt', 'error'],
        ['sriov_forwarding', 'skip'],
        ['baremetal_forwarding', 'skip'],
      ]);
      expect(run.cases[2]?.reason).to.equal(ABORTED_BEFORE);
      expect(run.cases[3]?.reason).to.equal(ABORTED_BEFORE);
      const aborted = run.cases[1];
      expect(aborted?.testcases.map((t) => [t.title, t.status])).to.deep.equal([
        ['measures until stopped', 'error'],
        ['judges the figures', 'error'],
      ]);
      expect(aborted?.testcases[0]?.message).to.contain('stopped before the end: the run was aborted');
      expect(aborted?.testcases[1]?.message).to.equal('not run: the run was aborted');
      // Nothing measured is lost: the partial figures, the raw output and the earlier case's figures.
      expect(aborted?.details).to.deep.equal({ partial: { max_us: 37, seconds: 12 } });
      expect(aborted?.rawOutputs).to.deep.equal([join('device_interrupt', 'partial.txt')]);
      expect(await readFile(join(runDir, 'device_interrupt', 'partial.txt'), 'utf8')).to.equal('max 37 us after 12 s\n');
      expect(run.cases[0]?.details).to.deep.equal({ max_us: 42 });
      expect(run.cases[0]?.testcases[0]?.measurements).to.deep.equal({ timer_max_us: 42 });
      expect(run.status).to.equal('error');
      expect(run.exitCode).to.equal(70);
      expect(caseEnds.map((e) => e.caseName)).to.deep.equal(['timer', 'device_interrupt', 'sriov_forwarding', 'baremetal_forwarding']);
      const suites = await junit();
      expect(suites['kvmfornfv.latency.timer']?.[0]?.stdout).to.contain('<measurement><name>timer_max_us</name><value>42</value></measurement>');
      expect(suites['kvmfornfv.latency.device_interrupt']?.map((c) => [c.status, c.failedBy])).to.deep.equal([
        ['FAILED', 'error'],
        ['FAILED', 'error'],
      ]);
      expect(suites['kvmfornfv.forwarding.sriov_forwarding']?.map((c) => [c.status, c.skippedMessage])).to.deep.equal([['SKIPPED', ABORTED_BEFORE]]);
    });

    it('runs no case at all when the run is aborted before it starts', async () => {
      const controller = new AbortController();
      controller.abort(new Error('aborted by SIGINT'));
      const { run, ran } = await runCatalogue({
        cases: [
          { name: 'timer', tier: 'latency' },
          { name: 'device_interrupt', tier: 'latency' },
        ],
        controller,
      });
      expect(ran).to.deep.equal([]);
      expect(summarize(run)).to.deep.equal([
        ['timer', 'skip', ABORTED_BEFORE],
        ['device_interrupt', 'skip', ABORTED_BEFORE],
      ]);
    });
  });
});
