import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { expect } from 'chai';
import { buildCommandString } from '../../../lib/remote/command.ts';
import {
  buildCleanupScript,
  buildDetachedPaths,
  buildEnsureRunDirScript,
  buildIsRunningScript,
  buildStartScript,
  parseStartedPid,
  validateDetachedName,
  validateRunDir,
} from '../../../lib/remote/detached-scripts.ts';
import { isAlive, runLocalSh } from '../../support/local-shell.ts';

// The scripts are plain POSIX sh: run them with the local /bin/sh (dash on Debian), as a node would.
const sh = (script: string) => runLocalSh(script);
const alive = isAlive;

describe('remote/detached-scripts', () => {
  it('accepts plain names and refuses ones that could leave runDir', () => {
    for (const ok of ['cyclictest-guest', 'testpmd.0', 'a_b']) expect(() => validateDetachedName(ok)).to.not.throw();
    for (const bad of ['', '../x', 'a/b', '.hidden', 'a b', '-x', 'x'.repeat(65)]) {
      expect(() => validateDetachedName(bad), bad).to.throw(TypeError);
    }
  });

  it('accepts kfn- run directories only', () => {
    for (const ok of ['/tmp/kfn-123', '/var/tmp/kfn-run.1']) expect(() => validateRunDir(ok)).to.not.throw();
    for (const bad of ['/', '/tmp', 'tmp/kfn-1', '/tmp/kfn-', '/tmp/x/../kfn-1', '/tmp/kfn 1', '/tmp/kfn-1/']) {
      expect(() => validateRunDir(bad), bad).to.throw(TypeError);
    }
  });

  it('parses the pid the start script prints, and refuses anything else', () => {
    expect(parseStartedPid('4242\n')).to.equal(4242);
    for (const bad of ['', 'abc', '1', '0', '12 13', '-5']) expect(parseStartedPid(bad), bad).to.equal(undefined);
  });

  it('builds scripts that sh -n accepts', () => {
    const runDir = '/tmp/kfn-syntax';
    const scripts = [
      buildEnsureRunDirScript(runDir),
      buildStartScript({ runDir, name: 'x', commandString: buildCommandString({ script: "echo 'hi'; sleep 1" }) }),
      buildIsRunningScript({ runDir, name: 'x', pid: 99 }),
      buildCleanupScript({ runDir, graceMs: 500 }),
    ];
    for (const s of scripts) execFileSync('/bin/sh', ['-n', '-c', s]);
  });

  describe('run by a local shell', function () {
    this.timeout(15_000);
    let runDir = '';
    beforeEach(() => {
      runDir = mkdtempSync('/tmp/kfn-unit-detached-');
      rmSync(runDir, { recursive: true }); // the ensure script must create it
    });
    afterEach(() => {
      if (existsSync(runDir)) sh(buildCleanupScript({ runDir, graceMs: 200 }));
    });

    it('starts a process whose pid is alive until it is signalled, and whose wrapper writes its exit code', () => {
      sh(buildEnsureRunDirScript(runDir));
      const script = `trap 'echo got INT; exit 7' INT; echo started; while :; do sleep 0.05; done`;
      const pid = parseStartedPid(sh(buildStartScript({ runDir, name: 'loop', commandString: buildCommandString({ script }) })));
      expect(pid).to.be.a('number');
      if (pid === undefined) return;
      expect(sh(buildIsRunningScript({ runDir, name: 'loop', pid })).trim()).to.equal('running');
      sh(`kill -INT ${pid}; i=0; while [ ! -e ${buildDetachedPaths(runDir, 'loop').rc} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done`);
      const paths = buildDetachedPaths(runDir, 'loop');
      expect(readFileSync(paths.stdout, 'utf8')).to.equal('started\ngot INT\n');
      expect(readFileSync(paths.rc, 'utf8').trim()).to.equal('7');
      expect(sh(buildIsRunningScript({ runDir, name: 'loop', pid })).trim()).to.equal('exited');
      expect(alive(pid)).to.equal(false);
    });

    it('refuses a second process with the same name', () => {
      sh(buildEnsureRunDirScript(runDir));
      sh(buildStartScript({ runDir, name: 'twice', commandString: 'true' }));
      expect(() => sh(buildStartScript({ runDir, name: 'twice', commandString: 'true' }))).to.throw(/already exists/);
    });

    it('cleanup SIGKILLs a process that ignores SIGINT and removes runDir; a second call is a no-op', () => {
      sh(buildEnsureRunDirScript(runDir));
      const script = `trap '' INT; while :; do sleep 0.05; done`;
      const pid = parseStartedPid(sh(buildStartScript({ runDir, name: 'stubborn', commandString: buildCommandString({ script }) })));
      if (pid === undefined) throw new Error('no pid');
      const out = sh(buildCleanupScript({ runDir, graceMs: 300 }));
      expect(out).to.include(`killed: ${pid}`);
      expect(alive(pid)).to.equal(false);
      expect(existsSync(runDir)).to.equal(false);
      expect(sh(buildCleanupScript({ runDir, graceMs: 300 }))).to.equal('');
    });

    it('refuses a run directory that is a symlink', () => {
      sh(`ln -s /tmp ${runDir}`);
      try {
        expect(() => sh(buildEnsureRunDirScript(runDir))).to.throw(/not owned/);
      } finally {
        rmSync(runDir);
      }
    });
  });
});
