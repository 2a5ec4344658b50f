// junit.xml as Jenkins reads it: buildJunitXml (lib/report/junit.ts) from the RunResult
// fixtures, read back through test/support/jenkins-junit-reader.ts (which follows
// jenkinsci/junit-plugin), and validated against the JUnit XSD of the Jenkins xUnit plugin.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJunitXml, buildPassingOutput, PASSING_OUTPUT_MAX, testcaseProperties } from '../../../lib/report/junit.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { loadLabAllRun } from '../../fixtures/report/lab-runs.ts';
import { loadRunFixture, RUN_FIXTURES } from '../../fixtures/report/run-fixtures.ts';
import { parseTimestampAsJenkins, readJenkinsJunit, readMeasurementTags, timeToFloat, trimStdio } from '../../support/jenkins-junit-reader.ts';

const XSD = fileURLToPath(new URL('../../fixtures/junit/jenkins-xunit-junit-10.xsd', import.meta.url));

describe('report/junit as Jenkins reads it', () => {
  describe('names, statuses, times', () => {
    for (const name of RUN_FIXTURES) {
      it(`${name}: package kvmfornfv.<tier>, class <case>, time in seconds, for every testcase`, () => {
        const run = loadRunFixture(name);
        const suites = readJenkinsJunit(buildJunitXml(run));
        expect(suites.map((s) => s.name)).to.deep.equal(run.cases.map((c) => `kvmfornfv.${c.tier}.${c.caseName}`));
        run.cases.forEach((result, i) => {
          const suite = suites[i];
          expect(suite?.duration).to.be.closeTo(result.durationMs / 1000, 1e-9);
          const expected = result.testcases.length > 0 ? result.testcases : [{ title: result.caseName, durationMs: result.durationMs }];
          expect(suite?.cases.map((c) => [c.packageName, c.simpleClassName, c.name, c.duration])).to.deep.equal(
            expected.map((t) => [`kvmfornfv.${result.tier}`, result.caseName, t.title, t.durationMs / 1000]),
          );
        });
      });
    }

    it('pass, fail (<failure>), error (<error>) and skip (<skipped> with its reason)', () => {
      const run = loadRunFixture('daily-mixed');
      const [timer, irq, sriov] = readJenkinsJunit(buildJunitXml(run));
      expect(timer?.cases.map((c) => [c.status, c.failedBy])).to.deep.equal([
        ['PASSED', undefined],
        ['FAILED', 'failure'],
      ]);
      expect(timer?.cases[1]?.errorDetails).to.equal(run.cases[0]?.testcases[1]?.message);
      expect(irq?.cases[0]).to.include({ status: 'FAILED', failedBy: 'error', errorDetails: run.cases[1]?.testcases[0]?.message });
      expect(irq?.cases[0]?.errorStackTrace).to.equal(run.cases[1]?.testcases[0]?.details);
      expect(sriov?.cases).to.have.length(1);
      expect(sriov?.cases[0]).to.include({ status: 'SKIPPED', skippedMessage: 'pod intel-pod10 has no NIC with SR-IOV virtual functions' });
    });

    it('suite timestamps carry a zone and give the case start', () => {
      for (const name of RUN_FIXTURES) {
        const run = loadRunFixture(name);
        readJenkinsJunit(buildJunitXml(run)).forEach((suite, i) => {
          expect(suite.timestamp).to.match(/(Z|[+-]\d{2}:\d{2})$/);
          expect(suite.startTimeMs).to.equal(Date.parse(run.cases[i]?.startedAt ?? ''));
        });
      }
    });

    it('every testcase property is kept on its suite as `<testcase name> :: <key>`, value as text', () => {
      for (const name of RUN_FIXTURES) {
        const run = loadRunFixture(name);
        readJenkinsJunit(buildJunitXml(run)).forEach((suite, i) => {
          for (const tc of run.cases[i]?.testcases ?? []) {
            const expected = Object.fromEntries(Object.entries(tc.properties).map(([k, v]) => [k, String(v)]));
            expect(testcaseProperties(suite.properties, tc.title), `${name}: ${tc.title}`).to.deep.equal(expected);
          }
        });
      }
      const [timer] = readJenkinsJunit(buildJunitXml(loadRunFixture('daily-mixed')));
      expect(timer?.properties).to.include({ 'vnf-guest: max ≤ 1000 us (assert) :: measured': '1312', 'vnf-guest: max ≤ 1000 us (assert) :: outcome': 'fail' });
    });

    // The recorded lab run (test/fixtures/report/lab-all.run.source.md): 28 failed advisory checks.
    it('keeps a failed advisory check a passing testcase, and lists every finding in the suite\'s system-out', () => {
      const run = loadLabAllRun();
      const [preflight] = readJenkinsJunit(buildJunitXml(run));
      const advisory = run.cases[0]!.testcases.filter((t) => t.properties.severity === 'advisory' && t.properties.outcome === 'fail');
      expect(advisory).to.have.length(28);
      for (const tc of advisory) {
        expect(preflight?.cases.find((c) => c.name === tc.title)?.status).to.equal('PASSED');
        expect(testcaseProperties(preflight!.properties, tc.title)).to.include({ severity: 'advisory', outcome: 'fail' });
      }
      // What Jenkins shows on the suite page of a passing suite: whole, not trimmed.
      const out = preflight?.stdout ?? '';
      expect(out).to.not.include('[truncated');
      expect(out.split('\n')[0]).to.equal('28 advisory findings in preflight: checks that failed under severity advisory. Their testcases pass (severity=advisory, outcome=fail) so that they do not fail the job; each one\'s output says what was expected, what was found and the fix.');
      for (const tc of advisory) {
        const [node, check] = [tc.title.slice(0, tc.title.indexOf(': ')), String(tc.properties.check)];
        expect(out.split('\n').find((l) => l.startsWith(`${node}: `))?.split(', ').map((x) => x.replace(`${node}: `, ''))).to.include(check);
      }
      // A suite without findings has no system-out of its own.
      expect(readJenkinsJunit(buildJunitXml(loadRunFixture('daily-mixed'))).every((s) => s.stdout === undefined)).to.equal(true);
    });

    it('suite properties name the pod, installer, scenario and build', () => {
      const [timer] = readJenkinsJunit(buildJunitXml(loadRunFixture('daily-mixed')));
      expect(timer?.properties).to.include({ pod_name: 'intel-pod10', installer: 'fuel', scenario: 'os-nosdn-kvm_ovs_dpdk-ha', build_tag: 'jenkins-kvmfornfv-daily-master-intel-pod10-215' });
    });
  });

  describe('measurements for the Measurement Plots plugin', () => {
    it('every testcase measurement is readable from its system-out, values as written', () => {
      for (const name of RUN_FIXTURES) {
        const run = loadRunFixture(name);
        const cases = readJenkinsJunit(buildJunitXml(run)).flatMap((s) => s.cases);
        const testcases = run.cases.flatMap((c) => (c.testcases.length > 0 ? c.testcases : [undefined]));
        testcases.forEach((tc, i) => {
          const expected = Object.fromEntries(Object.entries(tc?.measurements ?? {}).map(([k, v]) => [k, String(v)]));
          expect(readMeasurementTags(cases[i]?.stdout ?? ''), `${name} #${i}`).to.deep.equal(expected);
        });
      }
    });

    it('system-out text with ]]>, & and < survives the CDATA and still yields the tags', () => {
      const run = loadRunFixture('forwarding-frames');
      const tc = run.cases[0]?.testcases[0];
      tc!.systemOut = 'a ]]> b & <c> "d"';
      const [suite] = readJenkinsJunit(buildJunitXml(run));
      expect(suite?.cases[0]?.stdout?.endsWith('\na ]]> b & <c> "d"')).to.equal(true);
      expect(readMeasurementTags(suite?.cases[0]?.stdout ?? '')).to.deep.equal({ pvp_64_max_us: '61', pvp_64_p99_us: '34', pvp_64_rx_mpps: '7.41' });
    });

    // Jenkins keeps only 500 characters at each end of a passing test's output unless the
    // junit step sets keepLongStdio; Measurement Plots reads that trimmed text.
    it('keeps a long passing output within what Jenkins keeps: every tag survives without keepLongStdio', () => {
      const run = longOutputRun();
      const xml = buildJunitXml(run);
      const expected = Object.keys(run.cases[0]?.testcases[0]?.measurements ?? {});
      const stdout = readJenkinsJunit(xml)[0]?.cases[0]?.stdout ?? '';
      expect(stdout.length).to.be.at.most(PASSING_OUTPUT_MAX);
      expect(stdout).to.not.include('[truncated');
      expect(Object.keys(readMeasurementTags(stdout))).to.deep.equal(expected);
      const text = run.cases[0]!.testcases[0]!.systemOut!;
      expect(stdout).to.include('\n… (cut: the whole output is in results.json and the case log) …\n');
      expect(stdout.endsWith(text.slice(-80))).to.equal(true);
      expect(stdout).to.include(text.slice(0, 80));
    });

    it('keeps a failing testcase\'s output whole: that is where people look', () => {
      const run = longOutputRun();
      const tc = run.cases[0]!.testcases[0]!;
      tc.status = 'fail';
      tc.message = 'max 2975 us > 2000 us';
      const stdout = readJenkinsJunit(buildJunitXml(run))[0]?.cases[0]?.stdout ?? '';
      expect(stdout.endsWith(tc.systemOut!)).to.equal(true);
    });

    it('never cuts the tags, and leaves short output alone', () => {
      const tags = '<measurement><name>x</name><value>1</value></measurement>';
      expect(buildPassingOutput(tags, 'short')).to.equal(`${tags}\nshort`);
      const manyTags = tags.repeat(30);
      expect(buildPassingOutput(manyTags, 'text '.repeat(50))).to.equal(manyTags);
      expect(buildPassingOutput('', 'word '.repeat(400)).length).to.be.at.most(PASSING_OUTPUT_MAX);
    });
  });

  describe('the reader follows the plugin', () => {
    const xml = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="outer" tests="0" failures="0" errors="0">
    <testsuite name="inner" package="pkg" timestamp="2026-03-12T10:15:02" tests="3" failures="1" errors="1">
      <testcase name="both" classname="a.b.C" time="1,234.5"><failure message="f">F</failure><error message="e">E</error></testcase>
      <testcase name="x.y.z" time="oops"/>
      <testcase name="empty-failure" classname="Root" time="0.5"><failure/></testcase>
    </testsuite>
  </testsuite>
</testsuites>`;
    const [inner] = readJenkinsJunit(xml);

    it('walks nested suites, prefixes the package, and skips suites without testcases', () => {
      expect(readJenkinsJunit(xml).map((s) => s.name)).to.deep.equal(['pkg.inner']);
    });
    it('checks <error> before <failure>, whatever their order', () => {
      expect(inner?.cases[0]).to.include({ status: 'FAILED', failedBy: 'error', errorDetails: 'e', errorStackTrace: 'E' });
    });
    it('reads time as float seconds with commas dropped, 0 when unreadable', () => {
      expect(inner?.cases.map((c) => c.duration)).to.deep.equal([1234.5, 0, 0.5]);
      expect(timeToFloat(undefined)).to.equal(0);
    });
    it('takes the suite name as class when classname is absent, and (root) as package without a dot', () => {
      expect(inner?.cases[1]).to.include({ className: 'inner', packageName: '(root)', name: 'x.y.z' });
      expect(inner?.cases[2]).to.include({ packageName: '(root)', simpleClassName: 'Root', status: 'FAILED' });
    });
    it('reads a timestamp without a zone as UTC', () => {
      expect(inner?.startTimeMs).to.equal(Date.UTC(2026, 2, 12, 10, 15, 2));
      expect(parseTimestampAsJenkins('2026-03-12T12:15:02+0200')).to.equal(Date.UTC(2026, 2, 12, 10, 15, 2));
      expect(parseTimestampAsJenkins('12/03/2026')).to.equal(undefined);
    });
    it('trims output to 500 characters at each end', () => {
      const text = `${'a'.repeat(500)}${'m'.repeat(7)}${'z'.repeat(500)}`;
      expect(trimStdio(text, 500, false)).to.equal(`${'a'.repeat(500)}\n...[truncated 7 chars]...\n${'z'.repeat(500)}`);
      expect(trimStdio(text.slice(7), 500, false)).to.equal(text.slice(7));
    });
  });

  describe('against the JUnit XSD of the Jenkins xUnit plugin (xmllint)', function () {
    let dir: string;
    before(function () {
      if (spawnSync('xmllint', ['--version']).error) {
        if (process.env.CI) throw new Error('xmllint is not installed: the CI must install the Debian package libxml2-utils');
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'kfn-junit-xsd-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const validate = (xml: string, file: string): string[] => {
      const path = join(dir, file);
      writeFileSync(path, xml);
      const result = spawnSync('xmllint', ['--noout', '--schema', XSD, path], { encoding: 'utf8' });
      return result.stderr
        .split('\n')
        .filter((l) => l.includes('Schemas validity error'))
        .map((l) => l.replace(/^.*Schemas validity error : /, ''));
    };

    for (const name of RUN_FIXTURES) {
      it(`${name}: valid`, () => {
        expect(validate(buildJunitXml(loadRunFixture(name)), `${name}.xml`)).to.deep.equal([]);
      });
    }

    it('the recorded lab run, with advisory findings in a suite\'s system-out: valid', () => {
      expect(validate(buildJunitXml(loadLabAllRun()), 'lab-all.xml')).to.deep.equal([]);
    });

    it('a testcase that carries its own <properties> is refused: the reason they live on the suite', () => {
      const xml = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="t"><properties><property name="k" value="v"/></properties></testcase></testsuite></testsuites>';
      expect(validate(xml, 'testcase-properties.xml')).to.deep.equal(["Element 'properties': This element is not expected."]);
    });

    it('the schema itself is usable: a broken document is refused', () => {
      expect(validate('<testsuites><testsuite name="x"><testcase/></testsuite></testsuites>', 'broken.xml').length).to.be.greaterThan(0);
      expect(execFileSync('xmllint', ['--noout', XSD]).toString()).to.equal('');
    });
  });
});

function longOutputRun(): RunResult {
  const run = loadRunFixture('lab-timer-pass');
  const tc = run.cases[0]?.testcases[0];
  const rows = Array.from({ length: 8 }, (_, t) => `host thread ${t} (cpu ${t + 1})     15000       4    88.4    2975     81    212    1204    2410         0`);
  tc!.systemOut = ['where                     samples  min us  avg us  max us  p50 us  p99 us  p999 us  p9999 us  overflows', ...rows].join('\n');
  return run;
}
