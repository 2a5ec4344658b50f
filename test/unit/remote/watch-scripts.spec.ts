import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildCommandString } from '../../../lib/remote/command.ts';
import { buildCleanupScript, buildEnsureRunDirScript, buildStartScript, parseStartedPid } from '../../../lib/remote/detached-scripts.ts';
import {
  buildStopAndCollectScript,
  buildWaitScript,
  buildWatchedStartScript,
  EXITED_MARKER,
  hasStartedLine,
  parseCollected,
} from '../../../lib/remote/watch-scripts.ts';
import { isAlive as alive, runLocalShRaw } from '../../support/local-shell.ts';

const sh = (script: string) => runLocalShRaw(script);

describe('remote/watch-scripts', () => {
  it('builds scripts that sh -n accepts', () => {
    const runDir = '/tmp/kfn-syntax';
    for (const s of [
      buildWatchedStartScript(buildStartScript({ runDir, name: 'x', commandString: 'sleep 1' })),
      buildWaitScript({ runDir, name: 'x', pid: 99 }),
      buildStopAndCollectScript({ runDir, name: 'x', pid: 99, signal: 'INT', graceMs: 500 }),
      buildStopAndCollectScript({ runDir, name: 'x', pid: 99, signal: 'KILL', graceMs: 500 }),
    ]) {
      execFileSync('/bin/sh', ['-n', '-c', s]);
    }
    expect(() => buildWaitScript({ runDir, name: 'x', pid: 1 })).to.throw(TypeError);
  });

  it('knows the start output is whole once the pid line has ended', () => {
    expect(hasStartedLine(Buffer.from('4242\n'))).to.equal(true);
    expect(hasStartedLine(Buffer.from('424'))).to.equal(false);
    expect(hasStartedLine(Buffer.from(''))).to.equal(false);
  });

  it('parses a read-back and refuses a garbled one', () => {
    const ok = Buffer.from('kfn-stop stopped=1 sent=KILL\nkfn-rc 137\nkfn-window 1767225600123 1767225630456\nkfn-file 6\nout\nxxkfn-file -1\n');
    expect(parseCollected(ok, 'INT')).to.deep.equal({ stopped: true, escalatedTo: 'KILL', exitCode: 137, stdout: 'out\nxx', stderr: null, window: { startMs: 1767225600123, endMs: 1767225630456 } });
    expect(parseCollected(Buffer.from('kfn-stop stopped=0 sent=none\nkfn-rc \nkfn-window  \nkfn-file 0\nkfn-file 0\n'), 'INT')).to.deep.equal({
      stopped: false,
      exitCode: null,
      stdout: '',
      stderr: '',
    });
    // SIGTERM asked for first is no escalation.
    expect(parseCollected(Buffer.from('kfn-stop stopped=1 sent=TERM\nkfn-rc 143\nkfn-window  \nkfn-file 0\nkfn-file 0\n'), 'TERM').escalatedTo).to.equal(undefined);
    // A date without %N (busybox) writes its format back: no window rather than a wrong one.
    expect(parseCollected(Buffer.from('kfn-stop stopped=0 sent=none\nkfn-rc 0\nkfn-window 1767225600%3N 1767225630%3N\nkfn-file 0\nkfn-file 0\n'), 'INT').window).to.equal(undefined);
    for (const bad of ['', 'stopped=1\n', 'kfn-stop stopped=1 sent=INT\nkfn-rc 0\nkfn-window  \nkfn-file 9\nshort', 'kfn-stop stopped=1 sent=INT\nkfn-rc 0\nkfn-window  \nkfn-file 0\nkfn-file 0\nextra', 'kfn-stop stopped=1 sent=INT\nkfn-rc 0\nkfn-file 0\nkfn-file 0\n']) {
      expect(() => parseCollected(Buffer.from(bad), 'INT'), JSON.stringify(bad)).to.throw(Error);
    }
  });

  describe('run by a local shell', function () {
    this.timeout(20_000);
    let runDir = '';
    beforeEach(() => {
      runDir = mkdtempSync('/tmp/kfn-unit-watch-');
      rmSync(runDir, { recursive: true });
      sh(buildEnsureRunDirScript(runDir));
    });
    afterEach(() => {
      if (existsSync(runDir)) sh(buildCleanupScript({ runDir, graceMs: 200 }));
    });
    const start = (name: string, script: string) => {
      const pid = parseStartedPid(sh(buildStartScript({ runDir, name, commandString: buildCommandString({ script }) })).toString());
      if (pid === undefined) throw new Error('no pid');
      return pid;
    };

    it('holds the caller\'s stdout open until the detached process exits, after the shell itself exited', async () => {
      const script = buildWatchedStartScript(buildStartScript({ runDir, name: 'held', commandString: 'sleep 1' }));
      const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const began = Date.now();
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now() - began)));
      const ended = new Promise<number>((resolve) => child.stdout.on('end', () => resolve(Date.now() - began)));
      const [exitMs, endMs] = [await exited, await ended];
      expect(exitMs).to.be.below(800);
      expect(endMs).to.be.at.least(900);
      expect(parseStartedPid(out)).to.be.a('number');
    });

    it('stops a process with SIGINT and reads back its output and exit code in one go', () => {
      const pid = start('loop', `trap 'echo got INT; exit 7' INT; echo started; while :; do sleep 0.05; done`);
      sh('sleep 0.2');
      const out = sh(buildStopAndCollectScript({ runDir, name: 'loop', pid, signal: 'INT', graceMs: 3000 }));
      const { window, ...rest } = parseCollected(out, 'INT');
      expect(rest).to.deep.equal({ stopped: true, exitCode: 7, stdout: 'started\ngot INT\n', stderr: '' });
      expect(window?.startMs).to.be.within(Date.now() - 10_000, Date.now());
      expect(alive(pid)).to.equal(false);
    });

    it('stops nothing when the process ended by itself, and keeps its exit code and stderr', () => {
      const pid = start('quick', 'echo out; echo err >&2; exit 3');
      sh('sleep 0.3');
      const out = sh(buildStopAndCollectScript({ runDir, name: 'quick', pid, signal: 'INT', graceMs: 1000 }));
      const { window, ...rest } = parseCollected(out, 'INT');
      expect(rest).to.deep.equal({ stopped: false, exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
      expect((window?.endMs ?? -1) - (window?.startMs ?? 0)).to.be.within(0, 300);
    });

    it("stamps the command's own lifetime on the node clock: a 300 ms sleep gives about 300 ms", () => {
      const pid = start('nap', 'sleep 0.3');
      sh('sleep 0.6');
      const { window, stopped } = parseCollected(sh(buildStopAndCollectScript({ runDir, name: 'nap', pid, signal: 'INT', graceMs: 1000 })), 'INT');
      expect(stopped).to.equal(false);
      expect((window?.endMs ?? 0) - (window?.startMs ?? 0)).to.be.within(280, 550);
    });

    it('sends SIGTERM to a process that ignores SIGINT, and SIGKILL to one that ignores both', () => {
      const deafToInt = start('noint', `trap '' INT; trap 'exit 9' TERM; while :; do sleep 0.05; done`);
      const deaf = start('deaf', `trap '' INT TERM; while :; do sleep 0.05; done`);
      sh('sleep 0.2');
      const began = Date.now();
      const t = parseCollected(sh(buildStopAndCollectScript({ runDir, name: 'noint', pid: deafToInt, signal: 'INT', graceMs: 300 })), 'INT');
      expect(t).to.include({ stopped: true, escalatedTo: 'TERM', exitCode: 9 });
      const k = parseCollected(sh(buildStopAndCollectScript({ runDir, name: 'deaf', pid: deaf, signal: 'INT', graceMs: 300 })), 'INT');
      expect(k).to.include({ stopped: true, escalatedTo: 'KILL', exitCode: 137 });
      expect(Date.now() - began).to.be.below(5000);
      expect(alive(deaf)).to.equal(false);
    });

    it('waits for a process found again, and says when it is gone', () => {
      const pid = start('later', 'sleep 1.2');
      const began = Date.now();
      const out = sh(buildWaitScript({ runDir, name: 'later', pid })).toString();
      expect(out.trim()).to.equal(EXITED_MARKER);
      expect(Date.now() - began).to.be.within(700, 4000);
      // With a tail that refuses --pid (as busybox's does), the sleep loop still waits.
      const bin = mkdtempSync('/tmp/kfn-unit-bin-');
      writeFileSync(join(bin, 'tail'), '#!/bin/sh\necho "tail: unrecognized option: pid" >&2; exit 1\n', { mode: 0o755 });
      symlinkSync('/bin/sleep', join(bin, 'sleep'));
      const again = start('again', 'sleep 1.2');
      const noTail = execFileSync('/bin/sh', ['-c', buildWaitScript({ runDir, name: 'again', pid: again })], { env: { PATH: bin } }).toString();
      rmSync(bin, { recursive: true });
      expect(noTail.trim()).to.equal(EXITED_MARKER);
      expect(alive(again)).to.equal(false);
    });
  });
});
