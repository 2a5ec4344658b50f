// The Jenkins jobs as Jenkins would receive them: `jenkins-jobs test` renders jenkins/*.yaml
// to config.xml, and the checks read that XML, not the YAML.
import { expect } from 'chai';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JENKINS_DIR = fileURLToPath(new URL('../../../jenkins/', import.meta.url));
const JJB = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'jenkins-jobs')).find((p) => existsSync(p));

/** Parsed config.xml: element names as keys, text as strings. */
type Xml = Record<string, any>;
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'hudson.model.StringParameterDefinition' });

const title = JJB ? 'jenkins/ (Jenkins Job Builder)' : 'jenkins/ (Jenkins Job Builder): SKIPPED, jenkins-jobs is not installed (apt-get install jenkins-job-builder)';

describe(title, function () {
  this.timeout(60_000);
  const jobs = new Map<string, Xml>();
  let out: string;

  before(async function () {
    if (!JJB) {
      if (process.env.CI) throw new Error('jenkins-jobs is not installed: the CI must install the Debian package jenkins-job-builder');
      this.skip();
    }
    out = await mkdtemp(join(tmpdir(), 'kfn-jjb-'));
    const r = await execa(JJB as string, ['test', '-r', JENKINS_DIR, '-o', out, '--config-xml'], { reject: false });
    expect(r.exitCode, String(r.stderr)).to.equal(0);
    for (const name of ['kvmfornfv-daily-intel-pod10', 'kvmfornfv-verify-intel-pod10', 'kvmfornfv-release-verify-intel-pod10']) {
      jobs.set(name, parser.parse(await readFile(join(out, name, 'config.xml'), 'utf8')).project);
    }
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  const param = (job: Xml, name: string) => (job.properties['hudson.model.ParametersDefinitionProperty'].parameterDefinitions['hudson.model.StringParameterDefinition'] as Xml[]).find((p) => p.name === name);

  for (const [name, mode, loop] of [
    ['kvmfornfv-daily-intel-pod10', 'nightly', 'daily'],
    ['kvmfornfv-verify-intel-pod10', 'gate', 'verify'],
    ['kvmfornfv-release-verify-intel-pod10', 'gate', 'release'],
  ] as const) {
    it(`${name}: runs ci/run-pod-tests.sh --mode ${mode} on the pod's agent`, () => {
      const job = jobs.get(name) as Xml;
      expect(job.assignedNode).to.equal('intel-pod10');
      expect(job.builders['hudson.tasks.Shell'].command).to.include(`ci/run-pod-tests.sh --mode ${mode}`).and.include('set -euo pipefail');
      expect(job.concurrentBuild).to.equal('false');
    });

    it(`${name}: publishes JUnit with long stdio kept and archives results/`, () => {
      const publishers = (jobs.get(name) as Xml).publishers;
      const junit = publishers['hudson.tasks.junit.JUnitResultArchiver'];
      expect(junit.keepLongStdio).to.equal('true');
      expect(junit.testResults).to.equal('results/**/junit.xml');
      expect(publishers['hudson.tasks.ArtifactArchiver'].artifacts).to.equal('results/**');
    });

    it(`${name}: passes the OPNFV environment with CI_LOOP=${loop}`, () => {
      const job = jobs.get(name) as Xml;
      for (const p of ['INSTALLER_TYPE', 'DEPLOY_SCENARIO', 'CI_LOOP', 'TEST_DB_URL', 'INFLUXDB_URL', 'TEST_SELECTION', 'THRESHOLDS', 'BASELINE', 'COMPARE_ACROSS']) {
        expect(param(job, p), p).to.not.equal(undefined);
      }
      expect(param(job, 'CI_LOOP')?.defaultValue).to.equal(loop);
    });
  }

  // The gate tests a new kernel or QEMU build: like with like except for that build.
  it('compares across kernel and QEMU builds in the gate job only', () => {
    expect(param(jobs.get('kvmfornfv-verify-intel-pod10') as Xml, 'COMPARE_ACROSS')?.defaultValue).to.equal('kernel,qemu');
    expect(param(jobs.get('kvmfornfv-daily-intel-pod10') as Xml, 'COMPARE_ACROSS')?.defaultValue ?? '').to.equal('');
    expect(param(jobs.get('kvmfornfv-release-verify-intel-pod10') as Xml, 'COMPARE_ACROSS')?.defaultValue ?? '').to.equal('');
  });

  it('triggers the daily job by timer and the gate job by Gerrit', () => {
    expect((jobs.get('kvmfornfv-daily-intel-pod10') as Xml).triggers['hudson.triggers.TimerTrigger'].spec).to.equal('H 2 * * *');
    const gerrit = (jobs.get('kvmfornfv-verify-intel-pod10') as Xml).triggers['com.sonyericsson.hudson.plugins.gerrit.trigger.hudsontrigger.GerritTrigger'];
    expect(gerrit.gerritProjects['com.sonyericsson.hudson.plugins.gerrit.trigger.hudsontrigger.data.GerritProject'].pattern).to.equal('kvmfornfv');
  });
});

describe('jenkins/Jenkinsfile', () => {
  const text = readFileSync(join(JENKINS_DIR, 'Jenkinsfile'), 'utf8');

  it('runs the ci/ script and publishes JUnit with long stdio and the results archive', () => {
    expect(text).to.include('ci/run-pod-tests.sh --mode "$MODE"');
    expect(text).to.match(/junit testResults: 'results\/\*\*\/junit\.xml', keepLongStdio: true/);
    expect(text).to.include("archiveArtifacts artifacts: 'results/**'");
    for (const p of ['INSTALLER_TYPE', 'DEPLOY_SCENARIO', 'CI_LOOP', 'TEST_DB_URL', 'INFLUXDB_URL', 'BASELINE', 'COMPARE_ACROSS']) expect(text).to.include(`name: '${p}'`);
  });
});
