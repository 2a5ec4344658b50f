import { expect } from 'chai';
import { KfnError } from '../../../lib/errors.ts';
import { RemoteCommandError, SudoError } from '../../../lib/remote/errors.ts';
import type { RemoteResult } from '../../../lib/remote/types.ts';

const base: RemoteResult = {
  node: 'guest',
  command: 'cyclictest -m -l 1000',
  escapedCommand: 'sudo -n cyclictest -m -l 1000',
  exitCode: 1,
  signal: null,
  stdout: '',
  stderr: 'cyclictest: unable to set priority\n',
  durationMs: 1234,
  timedOut: false,
  failed: true,
};

describe('remote/errors', () => {
  it('says what exited with which code, on which node, and carries the result fields', () => {
    const e = new RemoteCommandError(base, { label: 'cyclictest' });
    expect(e).to.be.instanceOf(KfnError);
    expect(e.kind).to.equal('remote');
    expect(e.shortMessage).to.equal('cyclictest on guest exited 1: sudo -n cyclictest -m -l 1000');
    expect(e.message).to.include('stderr:\ncyclictest: unable to set priority');
    expect(e).to.deep.include({ node: 'guest', exitCode: 1, durationMs: 1234, timedOut: false, failed: true });
  });

  it('names the timeout, not the measured duration', () => {
    const e = new RemoteCommandError({ ...base, exitCode: null, timedOut: true, durationMs: 60_412 }, { label: 'cyclictest', timeoutMs: 60_000 });
    expect(e.shortMessage).to.equal('cyclictest on guest timed out after 60 s: sudo -n cyclictest -m -l 1000');
  });

  it('names a signal, and a lost connection', () => {
    expect(new RemoteCommandError({ ...base, exitCode: null, signal: 'SIGKILL' }).shortMessage).to.match(/^cyclictest on guest was killed by SIGKILL/);
    expect(new RemoteCommandError({ ...base, exitCode: null }).shortMessage).to.match(/connection lost/);
  });

  it('keeps the short message on one line and the long one to the tail of stderr', () => {
    const e = new RemoteCommandError({ ...base, escapedCommand: `sh -c 'a\nb'`, stderr: `${'x'.repeat(5000)}END` });
    expect(e.shortMessage).to.not.include('\n');
    expect(e.message).to.include('END');
    expect(e.message.length).to.be.lessThan(2500);
  });

  it('passes the ssh2 error on as cause', () => {
    const cause = new Error('ECONNRESET');
    expect(new RemoteCommandError(base, { cause }).cause).to.equal(cause);
  });

  it('tells the operator how to give the user passwordless sudo', () => {
    const e = new SudoError(base, 'password-required', 'opnfv');
    expect(e).to.be.instanceOf(RemoteCommandError);
    expect(e.message).to.include('NOPASSWD').and.include('opnfv');
    expect(new SudoError(base, 'sudo-missing', 'opnfv').message).to.include('sudo is not installed');
  });
});
