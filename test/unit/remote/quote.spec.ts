import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { buildShellCommand, quoteArg } from '../../../lib/remote/quote.ts';

// Arguments a pod file, a tool option or an attacker could put in a command.
const HOSTILE = [
  '',
  ' ',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  '$(touch /tmp/kfn-pwned)',
  '`id`',
  '$HOME',
  '${PATH}',
  'a;b',
  'a&&b',
  'a|b',
  '>out',
  '*',
  '?',
  '~',
  '#comment',
  '-n',
  '--json=/tmp/x y',
  'line1\nline2',
  'tab\there',
  'back\\slash',
  '!bang',
  'ünïcödé ✓ 日本',
  "'$(x)'\"`y`\"\\",
];

describe('remote/quote', () => {
  describe('quoteArg', () => {
    const table: Array<[string, string]> = [
      ['', "''"],
      ['plain', 'plain'],
      ['/usr/bin/cyclictest', '/usr/bin/cyclictest'],
      ['--json=/tmp/a.json', '--json=/tmp/a.json'],
      ['with space', "'with space'"],
      ["it's", `'it'\\''s'`],
      ['$(id)', "'$(id)'"],
      ['a\nb', "'a\nb'"],
      ['ünï', "'ünï'"],
      ['~', "'~'"],
      ['*', "'*'"],
    ];
    for (const [input, expected] of table) {
      it(`quotes ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, () => {
        expect(quoteArg(input)).to.equal(expected);
      });
    }

    it('rejects a NUL byte, which no argv can carry', () => {
      expect(() => quoteArg('a\0b')).to.throw(TypeError, /NUL/);
    });
  });

  describe('buildShellCommand', () => {
    it('rejects an empty argv', () => {
      expect(() => buildShellCommand([])).to.throw(TypeError, /empty argv/);
    });

    it('keeps argv[0] a program name, never an assignment or a keyword', () => {
      expect(buildShellCommand(['A=1', 'x'])).to.equal("'A=1' x");
      expect(buildShellCommand(['if', 'x'])).to.equal("'if' x");
      expect(buildShellCommand(['echo', 'A=1', 'if'])).to.equal('echo A=1 if');
      const out = execFileSync('/bin/sh', ['-c', `${buildShellCommand(['A=1'])} 2>&1; echo "rc=$?"`]).toString();
      expect(out).to.match(/A=1: not found\nrc=127/);
    });

    it('joins quoted words with single spaces', () => {
      expect(buildShellCommand(['echo', 'a b', "c'd"])).to.equal(`echo 'a b' 'c'\\''d'`);
    });

    // The real check: a POSIX shell turns the string back into exactly the same argv.
    for (const shell of ['/bin/sh', '/bin/bash']) {
      it(`round-trips hostile arguments through ${shell}`, function () {
        if (!existsSync(shell)) this.skip();
        const line = buildShellCommand(['printf', '%s\\0', ...HOSTILE]);
        const out = execFileSync(shell, ['-c', line], { cwd: '/' });
        const back = out.toString('utf8').split('\0').slice(0, -1);
        expect(back).to.deep.equal(HOSTILE);
      });
    }

    it('round-trips a command nested in sh -c twice', () => {
      const inner = buildShellCommand(['printf', '%s\\0', ...HOSTILE]);
      const outer = buildShellCommand(['sh', '-c', buildShellCommand(['sh', '-c', inner])]);
      const back = execFileSync('/bin/sh', ['-c', outer], { cwd: '/' }).toString('utf8').split('\0').slice(0, -1);
      expect(back).to.deep.equal(HOSTILE);
    });
  });
});
