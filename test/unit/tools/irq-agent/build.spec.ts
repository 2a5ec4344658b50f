import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ProvisionError } from '../../../../lib/errors.ts';
import {
  AGENTS_DIR,
  buildAgentBuildScript,
  buildAgentRecipe,
  detectPackageFamily,
  explainBuildFailure,
  hashAgentSources,
  readAgentSources,
} from '../../../../lib/tools/irq-agent/build.ts';

const FIXTURES = new URL('../../../fixtures/irq-agent/', import.meta.url);
const TINY = [{ path: 'x.c', content: 'int main(void) { return 0; }\n' }];

describe('tools/irq-agent build recipe', () => {
  for (const name of ['kfn-irqgen', 'kfn-irqrecv']) {
    it(`builds ${name} from its own folder with exactly the agreed gcc command`, () => {
      const r = buildAgentRecipe({ name, sources: readAgentSources(name), cacheDir: '/var/tmp/kfn-agents/' });
      expect(r.sources.map((s) => s.path)).to.deep.equal([`${name}.c`]);
      expect(r.compileCommand).to.equal(`gcc -Wall -Wextra -Werror -O2 -o ${name} ${name}.c`);
      expect(r.hash).to.match(/^[0-9a-f]{64}$/);
      expect(r.buildDir).to.equal(`/var/tmp/kfn-agents/${name}-${r.hash}`);
      expect(r.binaryPath).to.equal(`/var/tmp/kfn-agents/${name}-${r.hash}/${name}`);
    });
  }

  it('hashes the sources and the command to a fixed value (a change invalidates every cache)', () => {
    // Golden value: sha256("x.c\0" + "29\0" + content + "\0" + command); changing the scheme must be deliberate.
    const r = buildAgentRecipe({ name: 'x', sources: TINY, cacheDir: '/c' });
    const expected = createHash('sha256').update(`x.c\u000029\u0000${TINY[0]!.content}\u0000gcc -Wall -Wextra -Werror -O2 -o x x.c`).digest('hex');
    expect(r.hash).to.equal(expected);
    expect(r.hash).to.equal('eb9b863b837470dc5fe69eb93a91f3ae1b31444e26acef0f64b6f5aa6b5328b8');
  });

  it('keeps the hash stable across calls and source order, and changes it with any byte or the command', () => {
    const two = [...TINY, { path: 'x.h', content: '#define X 1\n' }];
    const a = buildAgentRecipe({ name: 'x', sources: two, cacheDir: '/c' }).hash;
    expect(buildAgentRecipe({ name: 'x', sources: [...two].reverse(), cacheDir: '/other' }).hash).to.equal(a);
    const edited = [{ ...two[0]!, content: two[0]!.content.replace('0;', '1;') }, two[1]!];
    expect(buildAgentRecipe({ name: 'x', sources: edited, cacheDir: '/c' }).hash).to.not.equal(a);
    expect(hashAgentSources(two, 'gcc -O3 -o x x.c')).to.not.equal(a);
  });

  it('refuses a bad name, a missing main source and a relative cache dir', () => {
    expect(() => buildAgentRecipe({ name: 'Bad Name', sources: TINY, cacheDir: '/c' })).to.throw(ProvisionError, /agent name/);
    expect(() => buildAgentRecipe({ name: 'y', sources: TINY, cacheDir: '/c' })).to.throw(ProvisionError, /expected y\.c among its sources, found x\.c/);
    expect(() => buildAgentRecipe({ name: 'x', sources: TINY, cacheDir: 'tmp' })).to.throw(ProvisionError, /absolute path/);
    expect(() => readAgentSources('no-such-agent')).to.throw(ProvisionError, /source folder/);
  });

  it('writes a build script that reuses a finished build and compiles with the exact command otherwise', () => {
    const r = buildAgentRecipe({ name: 'x', sources: TINY, cacheDir: '/c' });
    const script = buildAgentBuildScript(r);
    expect(script).to.contain(`if [ -x ${r.binaryPath} ] && [ -f ${r.buildDir}/.kfn-built ]; then exit 0; fi`);
    expect(script).to.contain('\ngcc -Wall -Wextra -Werror -O2 -o x x.c || exit $?\n');
    expect(script).to.match(/exit 127/);
  });
});

describe('tools/irq-agent sources and fixtures agree', () => {
  it('keeps the shared block of the two agents identical', () => {
    const block = (name: string) => {
      const text = readFileSync(`${AGENTS_DIR}${name}/${name}.c`, 'utf8');
      const m = /\/\* --- kfn-common begin[\s\S]*?--- kfn-common end --- \*\//.exec(text);
      expect(m, `${name} has the kfn-common markers`).to.not.equal(null);
      return m![0];
    };
    expect(block('kfn-irqgen')).to.equal(block('kfn-irqrecv'));
  });

  it('records fixtures from the agents as they are now (re-record after changing a source)', () => {
    const notes = readdirSync(FIXTURES).filter((f) => f.endsWith('.source.md'));
    expect(notes.length).to.be.greaterThan(0);
    for (const note of notes) {
      const text = readFileSync(new URL(note, FIXTURES), 'utf8');
      const m = /Program: (kfn-irq\w+) .*source sha256 ([0-9a-f]{64})/.exec(text);
      expect(m, `${note} names its program and source sha256`).to.not.equal(null);
      const source = readFileSync(`${AGENTS_DIR}${m![1]}/${m![1]}.c`);
      expect(createHash('sha256').update(source).digest('hex'), note).to.equal(m![2]);
    }
  });
});

describe('tools/irq-agent explainBuildFailure', () => {
  const recipe = { name: 'kfn-irqrecv', compileCommand: 'gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv.c' };
  const debian = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
  const rocky = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';

  it('tells the packages by distribution family', () => {
    expect(detectPackageFamily(debian)).to.equal('debian');
    expect(detectPackageFamily('ID=ubuntu\nID_LIKE=debian\n')).to.equal('debian');
    expect(detectPackageFamily(rocky)).to.equal('rpm');
    expect(detectPackageFamily('ID=alpine\n')).to.equal('unknown');
    expect(detectPackageFamily(undefined)).to.equal('unknown');
  });

  it('names gcc and libc6-dev on Debian when there is no compiler', () => {
    const e = explainBuildFailure({ node: 'guest', recipe, exitCode: 127, stderr: 'kfn: command -v gcc: not found\n', osRelease: debian });
    expect(e).to.be.instanceOf(ProvisionError);
    expect(e.message).to.equal(
      'cannot build kfn-irqrecv on node guest: no C compiler (command -v gcc found nothing); install gcc and libc6-dev (apt-get install -y gcc libc6-dev)',
    );
  });

  it('names gcc and glibc-devel on dnf/yum systems, and both when the system is unknown', () => {
    expect(explainBuildFailure({ node: 'h', recipe, exitCode: 127, stderr: '', osRelease: rocky }).message).to.match(/gcc and glibc-devel \(dnf install -y gcc glibc-devel/);
    const unknown = explainBuildFailure({ node: 'h', recipe, exitCode: 127, stderr: '' }).message;
    expect(unknown).to.contain('gcc and libc6-dev on Debian/Ubuntu').and.contain('gcc and glibc-devel on dnf/yum');
  });

  it('names the C library package when gcc is there but the headers are not', () => {
    const stderr = 'kfn-irqrecv.c:21:10: fatal error: errno.h: No such file or directory\ncompilation terminated.\n';
    const e = explainBuildFailure({ node: 'guest', recipe, exitCode: 1, stderr, osRelease: debian });
    expect(e.shortMessage).to.equal(
      'cannot build kfn-irqrecv on node guest: the C library headers are missing (kfn-irqrecv.c:21:10: fatal error: errno.h: No such file or directory); install gcc and libc6-dev (apt-get install -y gcc libc6-dev)',
    );
  });

  it('reports any other compile error with the command and the first error line', () => {
    const stderr = "kfn-irqrecv.c:99:5: error: unused variable 'x' [-Werror=unused-variable]\n";
    const e = explainBuildFailure({ node: 'guest', recipe, exitCode: 1, stderr, osRelease: debian });
    expect(e.shortMessage).to.match(/^cannot build kfn-irqrecv on node guest: gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv\.c failed with exit code 1: .*unused variable/);
    expect(e.message).to.contain(stderr.trim());
  });
});
