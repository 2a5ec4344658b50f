import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  buildCommandString,
  buildKillGroupScript,
  buildPidReportPrefix,
  buildRemoteCommand,
  classifySudoFailure,
  extractReportedPid,
} from '../../../lib/remote/command.ts';

// Recorded sudo/shell messages: see fixtures/sudo-messages.source.md (sudo 1.9.13p3, Debian 12).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('remote/command', () => {
  describe('buildRemoteCommand', () => {
    it('quotes argv and runs it as is for root', () => {
      const b = buildRemoteCommand(['echo', 'a b'], { user: 'root', privileged: true });
      expect(b).to.deep.equal({ command: 'echo a b', escapedCommand: "echo 'a b'", sudo: false });
    });
    it('puts sudo -n in front for other users', () => {
      const b = buildRemoteCommand(['cyclictest', '-m'], { user: 'opnfv', privileged: true });
      expect(b.escapedCommand).to.equal('sudo -n cyclictest -m');
      expect(b.sudo).to.equal(true);
    });
    it('leaves sudo out when the command is not privileged', () => {
      expect(buildRemoteCommand(['id'], { user: 'opnfv', privileged: false }).escapedCommand).to.equal('id');
    });
    it('wraps a script in sh -c, under sudo too', () => {
      const script = "echo $HOME; echo 'x'";
      expect(buildRemoteCommand({ script }, { user: 'root', privileged: true }).escapedCommand).to.equal(`sh -c 'echo $HOME; echo '\\''x'\\'''`);
      const b = buildRemoteCommand({ script }, { user: 'opnfv', privileged: true });
      expect(b.escapedCommand.startsWith('sudo -n sh -c ')).to.equal(true);
      expect(b.command).to.equal(script);
    });
    it('rejects an empty script', () => {
      expect(() => buildRemoteCommand({ script: '  ' }, { user: 'root', privileged: true })).to.throw(/empty script/);
    });
    it('runs the script text exactly through a real shell', () => {
      const script = `printf '%s|' "$0" 'a b'; echo "$((1+2))"`;
      const out = execFileSync('/bin/sh', ['-c', buildCommandString({ script })]).toString();
      expect(out).to.equal('sh|a b|3\n');
    });
    it('pins the shell itself to the given CPUs with exec taskset, builtins and sudo included, adding no process', () => {
      const pid = buildPidReportPrefix('m:');
      const argv = buildRemoteCommand(['grep', 'Cpus_allowed_list', '/proc/self/status'], { user: 'root', privileged: true, cpus: [0] });
      expect(argv.escapedCommand).to.equal(`p=; command -v taskset >/dev/null 2>&1 && p='taskset -c 0'; exec $p sh -c 'grep Cpus_allowed_list /proc/self/status'`);
      expect(buildRemoteCommand(['true'], { user: 'kfn', privileged: true, cpus: [0, 2] }).escapedCommand).to.match(/taskset -c 0,2'; exec \$p sudo -n true$/);
      // The shell that ran the pid report is the one pinned: same pid, now on CPU 0 only.
      const run = spawnSync('/bin/sh', ['-c', pid + buildRemoteCommand({ script: 'echo $$; grep Cpus_allowed_list /proc/$$/status' }, { user: 'root', privileged: true, cpus: [0] }).escapedCommand]);
      const [shellPid, allowed] = run.stdout.toString().split('\n');
      expect(allowed).to.match(/:\s+0$/);
      expect(run.stderr.toString().trim()).to.equal(`m:${shellPid}`);
      expect(() => buildRemoteCommand(['true'], { user: 'root', privileged: true, cpus: [-1] })).to.throw(TypeError);
    });
  });

  describe('classifySudoFailure on recorded messages', () => {
    it('sees "a password is required" as password-required', () => {
      expect(classifySudoFailure(fixture('sudo-password-required.txt'), 1)).to.equal('password-required');
    });
    it('sees "a terminal is required" as password-required', () => {
      expect(classifySudoFailure(fixture('sudo-terminal-required.txt'), 1)).to.equal('password-required');
    });
    it('sees a missing sudo in dash and bash', () => {
      expect(classifySudoFailure(fixture('sudo-not-found-dash.txt'), 127)).to.equal('sudo-missing');
      expect(classifySudoFailure(fixture('sudo-not-found-bash.txt'), 127)).to.equal('sudo-missing');
    });
    it('does not blame sudo for the command failing or for text the command printed', () => {
      expect(classifySudoFailure('cyclictest: command not found\n', 127)).to.equal(undefined);
      expect(classifySudoFailure(fixture('sudo-password-required.txt'), 0)).to.equal(undefined);
      expect(classifySudoFailure('log: sudo: a password is required\n', 1)).to.equal(undefined);
      expect(classifySudoFailure('', 1)).to.equal(undefined);
    });
  });

  describe('pid report', () => {
    const marker = 'kfn-pid-abc:';
    it('is printed by a real shell and split off stderr, leaving the rest intact', () => {
      let out: Buffer;
      try {
        execFileSync('/bin/sh', ['-c', `${buildPidReportPrefix(marker)}echo err1 >&2; exit 3`], { stdio: ['ignore', 'ignore', 'pipe'] });
        throw new Error('expected exit 3');
      } catch (e) {
        out = (e as { stderr: Buffer }).stderr;
      }
      const { pid, rest } = extractReportedPid(out, marker);
      expect(pid).to.be.a('number').greaterThan(1);
      expect(rest.toString()).to.equal('err1\n');
    });
    it('keeps stderr that a login script printed before the marker', () => {
      const { pid, rest } = extractReportedPid(Buffer.from(`motd\n${marker}4242\ntool error\n`), marker);
      expect(pid).to.equal(4242);
      expect(rest.toString()).to.equal('motd\ntool error\n');
    });
    it('finds nothing when the marker is absent or differs', () => {
      expect(extractReportedPid(Buffer.from('kfn-pid-other:12\n'), marker).pid).to.equal(undefined);
    });
  });

  it('refuses to kill process group 0, 1 or a non-integer', () => {
    for (const bad of [0, 1, -5, 2.5]) expect(() => buildKillGroupScript(bad)).to.throw(TypeError);
    expect(buildKillGroupScript(1234)).to.include('kill -TERM -1234').and.include('kill -KILL -1234');
  });
});
