import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildCyclictestVersionCommand, parseCyclictestVersion } from '../../../../lib/tools/cyclictest/version.ts';
import { readFixture } from './fixtures.ts';

describe('tools/cyclictest/version', () => {
  it('reads "2.40" from the recorded --help output of rt-tests 2.4', () => {
    expect(parseCyclictestVersion(readFixture('help-2.40.txt'))).to.equal('2.40');
  });

  it('matches the version the --json file records', () => {
    expect(readFixture('one-thread-h200.json')).to.include(`"rt_test_version:": "${parseCyclictestVersion(readFixture('help-2.40.txt'))}"`);
  });

  it('skips leading blank lines and reads other versions', () => {
    expect(parseCyclictestVersion('\ncyclictest V 2.80\nUsage:\n')).to.equal('2.80');
  });

  it('probes with --help, since a bare `cyclictest` starts an endless run', () => {
    expect(buildCyclictestVersionCommand()).to.deep.equal(['cyclictest', '--help']);
    expect(buildCyclictestVersionCommand('/usr/local/bin/cyclictest')).to.deep.equal(['/usr/local/bin/cyclictest', '--help']);
  });

  for (const text of ['', 'bash: cyclictest: command not found\n', "cyclictest: unrecognized option '--version'\n"]) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseCyclictestVersion(text)).to.throw(ToolOutputParseError, /expected "cyclictest V/);
    });
  }
});
