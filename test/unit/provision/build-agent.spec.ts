import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisionError } from '../../../lib/errors.ts';
import {
  buildAgentBuildScript,
  buildAgentProbeScript,
  buildAgentRecipe,
  detectPackageFamily,
  ensureAgent,
  explainBuildFailure,
  hashAgentSources,
  parseAgentProbe,
  placeAgentBuild,
  readAgentSources,
  resolveAgentCacheDirs,
} from '../../../lib/provision/build-agent.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';

const TINY = [{ path: 'x/x.c', content: 'int main(void) { return 0; }\n' }];
const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';

describe('provision/build-agent recipe', () => {
  for (const name of ['kfn-irqgen', 'kfn-irqrecv']) {
    it(`builds ${name} from its own folder, with the shared header, by exactly the agreed gcc command`, () => {
      const r = buildAgentRecipe({ name, sources: readAgentSources(name) });
      expect(r.sources.map((s) => s.path)).to.deep.equal(['common/kfn-common.h', `${name}/${name}.c`]);
      expect(r.compileCommand).to.equal(`gcc -Wall -Wextra -Werror -O2 -o ${name} ${name}.c`);
      expect(r.hash).to.match(/^[0-9a-f]{64}$/);
      const p = placeAgentBuild(r, '/var/cache/kvmfornfv/agents/');
      expect(p).to.deep.equal({
        buildDir: `/var/cache/kvmfornfv/agents/${name}-${r.hash}`,
        binaryPath: `/var/cache/kvmfornfv/agents/${name}-${r.hash}/${name}/${name}`,
      });
    });
  }

  it('hashes paths, bytes and the command to a fixed value (changing the scheme must be deliberate)', () => {
    const r = buildAgentRecipe({ name: 'x', sources: TINY });
    const expected = createHash('sha256').update(`x/x.c\u000029\u0000${TINY[0]!.content}\u0000gcc -Wall -Wextra -Werror -O2 -o x x.c`).digest('hex');
    expect(r.hash).to.equal(expected);
  });

  it('keeps the hash across source order, and changes it with a byte of the shared header, a file name or the command', () => {
    const two = [...TINY, { path: 'common/kfn-common.h', content: '#define X 1\n' }];
    const a = buildAgentRecipe({ name: 'x', sources: two }).hash;
    expect(buildAgentRecipe({ name: 'x', sources: [...two].reverse() }).hash).to.equal(a);
    expect(buildAgentRecipe({ name: 'x', sources: [TINY[0]!, { path: 'common/kfn-common.h', content: '#define X 2\n' }] }).hash).to.not.equal(a);
    expect(buildAgentRecipe({ name: 'x', sources: [TINY[0]!, { path: 'common/other.h', content: '#define X 1\n' }] }).hash).to.not.equal(a);
    expect(hashAgentSources(two, 'gcc -O3 -o x x.c')).to.not.equal(a);
  });

  it('refuses a bad name, a second C file, a C file in common/, a foreign folder and a relative cache dir', () => {
    expect(() => buildAgentRecipe({ name: 'Bad Name', sources: TINY })).to.throw(ProvisionError, /agent name/);
    expect(() => buildAgentRecipe({ name: 'y', sources: [{ path: 'y/z.c', content: '' }] })).to.throw(ProvisionError, /expected exactly one C file, y\/y\.c, found y\/z\.c/);
    expect(() => buildAgentRecipe({ name: 'x', sources: [...TINY, { path: 'x/more.c', content: '' }] })).to.throw(ProvisionError, /found x\/more\.c, x\/x\.c/);
    expect(() => buildAgentRecipe({ name: 'x', sources: [...TINY, { path: 'common/a.c', content: '' }] })).to.throw(ProvisionError, /common\/a\.c/);
    expect(() => buildAgentRecipe({ name: 'x', sources: [...TINY, { path: 'kfn-softgen/a.h', content: '' }] })).to.throw(ProvisionError, /kfn-softgen\/a\.h/);
    expect(() => placeAgentBuild(buildAgentRecipe({ name: 'x', sources: TINY }), 'tmp')).to.throw(ProvisionError, /absolute path/);
    expect(() => readAgentSources('no-such-agent')).to.throw(ProvisionError, /source folder/);
  });

  it('reads an agent folder and common/ from any agents dir, ignoring other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfn-agents-src-'));
    try {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'common'));
      writeFileSync(join(dir, 'a', 'a.c'), 'int main(void){return 0;}\n');
      writeFileSync(join(dir, 'a', 'README.md'), 'not a source');
      writeFileSync(join(dir, 'common', 'h.h'), '');
      expect(readAgentSources('a', dir).map((s) => s.path)).to.deep.equal(['a/a.c', 'common/h.h']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('provision/build-agent scripts', () => {
  const recipe = buildAgentRecipe({ name: 'x', sources: [...TINY, { path: 'common/c.h', content: '' }] });

  it('probes the cache folders in order and makes a staging folder with the sources\' layout on a miss', () => {
    const script = buildAgentProbeScript(recipe, ['/var/cache/k', '/tmp/k-$(id -u)']);
    expect(script).to.contain('for d in /var/cache/k /tmp/k-"$(id -u)"; do');
    expect(script).to.contain(`[ -f "$d/x-${recipe.hash}/.kfn-built" ] && [ -x "$d/x-${recipe.hash}/x/x" ]`);
    expect(script).to.contain(`mktemp -d "$d/.x-${recipe.hash}.XXXXXX"`);
    expect(script).to.contain('mkdir common x');
    expect(script).to.contain('[ -O "$d" ]');
    expect(buildAgentProbeScript(recipe, ['/tmp/a b"; rm -rf /; "'])).to.contain(`for d in '/tmp/a b"; rm -rf /; "'; do`);
    expect(() => buildAgentProbeScript(recipe, ['tmp/k'])).to.throw(ProvisionError, /absolute path/);
  });

  it('reads the probe\'s answer and refuses anything else', () => {
    expect(parseAgentProbe('kfn-agent-cache hit\t/var/cache/k\n')).to.deep.equal({ hit: true, cacheDir: '/var/cache/k' });
    expect(parseAgentProbe('noise\nkfn-agent-cache miss\t/tmp/a b\t/tmp/a b/.x.AbC123\n')).to.deep.equal({ hit: false, cacheDir: '/tmp/a b', stagingDir: '/tmp/a b/.x.AbC123' });
    expect(parseAgentProbe('kfn-agent-cache miss\t/tmp/k-0\n')).to.equal(undefined);
    expect(parseAgentProbe('kfn-agent-cache hit\trelative\n')).to.equal(undefined);
    expect(parseAgentProbe('kfn-agent-cache hit /var/cache/k\n')).to.equal(undefined);
    expect(parseAgentProbe('')).to.equal(undefined);
  });

  it('compiles in the agent\'s own staging folder with the exact command, then renames the folder into place', () => {
    const p = placeAgentBuild(recipe, '/c');
    const script = buildAgentBuildScript(recipe, '/c/.stage', p);
    expect(script).to.contain('cd /c/.stage/x || exit 1\ngcc -Wall -Wextra -Werror -O2 -o x x.c || {');
    expect(script).to.contain(`mv -T /c/.stage ${p.buildDir}`);
    expect(script).to.match(/exit 127/);
  });
});

describe('provision/build-agent cache folders', () => {
  it('uses the node\'s extra.agent_cache_dir, else the lab\'s state folder (removed by lab down), else the defaults', () => {
    const lab = { lab: true, file: '/work/checkout/.lab/pod.yaml' };
    const real = { lab: false, file: '/etc/kvmfornfv/pod.yaml' };
    expect(resolveAgentCacheDirs(lab, buildFakeNode())).to.deep.equal(['/work/checkout/.lab/agents']);
    expect(resolveAgentCacheDirs(real, buildFakeNode())).to.deep.equal(['/var/cache/kvmfornfv/agents', '/tmp/kfn-agents-$(id -u)']);
    // The lab's VM guest has a file system of its own, whose image carries its agents at the default place.
    const launched = buildFakeNode({ launch: {} as NonNullable<Parameters<typeof buildFakeNode>[0]>['launch'] });
    expect(resolveAgentCacheDirs(lab, launched)).to.deep.equal(['/var/cache/kvmfornfv/agents', '/tmp/kfn-agents-$(id -u)']);
    expect(resolveAgentCacheDirs(real, buildFakeNode({ extra: { agent_cache_dir: '/opt/kfn' } }))).to.deep.equal(['/opt/kfn']);
    expect(() => resolveAgentCacheDirs(real, buildFakeNode({ extra: { agent_cache_dir: 'opt/kfn' } }))).to.throw(ProvisionError, /nodes\.guest\.extra\.agent_cache_dir: expected an absolute path, found "opt\/kfn"/);
  });
});

describe('provision/build-agent ensureAgent with a fake node', () => {
  const cache = '/var/cache/kvmfornfv/agents';
  const name = 'kfn-irqrecv';
  const hash = buildAgentRecipe({ name, sources: readAgentSources(name) }).hash;
  const staging = `${cache}/.${name}-${hash}.Ab12Cd`;
  const probeMiss = { stdout: `kfn-agent-cache miss\t${cache}\t${staging}\n` };
  const isProbe = (c: string) => c.includes('kfn-agent-cache');
  const isBuild = (c: string) => c.includes('gcc -Wall');

  it('reuses a cached build: no upload and no compile', async () => {
    const s = new FakeNodeSession(buildFakeNode(), { exec: (c) => (isProbe(c) ? { stdout: `kfn-agent-cache hit\t${cache}\n` } : undefined) });
    const got = await ensureAgent(s, name);
    expect(got).to.deep.equal({ binaryPath: `${cache}/${name}-${hash}/${name}/${name}`, hash, cached: true });
    expect(s.callsOf('upload')).to.have.length(0);
    expect(s.callsOf('exec').filter((c) => isBuild(c.command))).to.have.length(0);
  });

  it('uploads the sources with their layout into the staging folder, then builds there', async () => {
    const s = new FakeNodeSession(buildFakeNode(), { exec: (c) => (isProbe(c) ? probeMiss : undefined) });
    const got = await ensureAgent(s, name);
    expect(got).to.deep.equal({ binaryPath: `${cache}/${name}-${hash}/${name}/${name}`, hash, cached: false });
    expect(s.callsOf('upload').map((u) => u.path)).to.deep.equal([`${staging}/common/kfn-common.h`, `${staging}/${name}/${name}.c`]);
    expect(s.callsOf('upload')[1]!.content).to.contain('#include "../common/kfn-common.h"');
    const kinds = s.calls.map((c) => (c.kind === 'exec' ? (isProbe(c.command) ? 'probe' : isBuild(c.command) ? 'build' : 'exec') : c.kind));
    expect(kinds).to.deep.equal(['probe', 'upload', 'upload', 'build']);
    expect(s.callsOf('exec')[1]!.command).to.contain(`cd ${staging}/${name} || exit 1\ngcc -Wall -Wextra -Werror -O2 -o ${name} ${name}.c`);
  });

  it('turns a compile error into a ProvisionError carrying the tail of gcc\'s stderr', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `kfn-irqrecv.c:${i + 1}:1: note: line ${String(i + 1).padStart(2, '0')}`);
    lines[27] = "kfn-irqrecv.c:28:5: error: unused variable 'x' [-Werror=unused-variable]";
    const s = new FakeNodeSession(buildFakeNode(), {
      exec: (c) => (isProbe(c) ? probeMiss : isBuild(c) ? { exitCode: 1, stderr: `${lines.join('\n')}\n` } : c.includes('os-release') ? { stdout: DEBIAN } : undefined),
    });
    const error = await ensureAgent(s, name).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ProvisionError);
    const e = error as ProvisionError;
    expect(e.shortMessage).to.match(/^cannot build kfn-irqrecv on node guest: gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv\.c failed with exit code 1: .*unused variable 'x'/);
    expect(e.message).to.contain('line 30').and.contain('line 11');
    expect(e.message).to.not.contain('line 10');
  });

  it('names gcc and libc6-dev on Debian, gcc and glibc-devel on dnf/yum, when the node has no compiler', async () => {
    for (const [os, packages] of [[DEBIAN, 'gcc and libc6-dev'], [ROCKY, 'gcc and glibc-devel']] as const) {
      const s = new FakeNodeSession(buildFakeNode(), {
        exec: (c) => (isProbe(c) ? probeMiss : isBuild(c) ? { exitCode: 127, stderr: 'kfn: command -v gcc: not found\n' } : c.includes('os-release') ? { stdout: os } : undefined),
      });
      const error = await ensureAgent(s, name).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(ProvisionError);
      expect((error as Error).message).to.contain('no C compiler').and.contain(`install ${packages}`);
    }
  });

  it('says so when no cache folder can be used', async () => {
    const s = new FakeNodeSession(buildFakeNode(), { exec: (c) => (isProbe(c) ? { exitCode: 1, stderr: 'kfn: no cache folder could be created, owned and written among: /a /b\n' } : undefined) });
    const error = await ensureAgent(s, name).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ProvisionError);
    expect((error as Error).message).to.match(/^cannot provision kfn-irqrecv on node guest: no usable agent cache folder \(kfn: no cache folder could be created/);
  });

  it('removes the staging folder when an upload fails', async () => {
    const s = new FakeNodeSession(buildFakeNode(), {
      exec: (c) => (isProbe(c) ? probeMiss : undefined),
      upload: () => {
        throw new Error('connection lost');
      },
    });
    const error = await ensureAgent(s, name).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.equal('connection lost');
    expect(s.callsOf('exec').at(-1)!.command).to.equal(`rm -rf ${staging}`);
  });

  it('in a dry run, where the node answers nothing, still shows the upload and the build', async () => {
    const s = new FakeNodeSession(buildFakeNode());
    const got = await ensureAgent(s, name, { dryRun: true });
    expect(got.binaryPath).to.equal(`${cache}/${name}-${hash}/${name}/${name}`);
    expect(s.callsOf('upload')).to.have.length(2);
    const silent = new FakeNodeSession(buildFakeNode());
    const error = await ensureAgent(silent, name).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ProvisionError);
  });
});

describe('provision/build-agent explainBuildFailure', () => {
  const recipe = { name: 'kfn-irqrecv', compileCommand: 'gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv.c' };

  it('tells the packages by distribution family', () => {
    expect(detectPackageFamily(DEBIAN)).to.equal('debian');
    expect(detectPackageFamily('ID=ubuntu\nID_LIKE=debian\n')).to.equal('debian');
    expect(detectPackageFamily(ROCKY)).to.equal('rpm');
    expect(detectPackageFamily('ID=alpine\n')).to.equal('unknown');
    expect(detectPackageFamily(undefined)).to.equal('unknown');
  });

  it('names gcc and libc6-dev on Debian when there is no compiler, and both sets when the system is unknown', () => {
    const e = explainBuildFailure({ node: 'guest', recipe, exitCode: 127, stderr: 'kfn: command -v gcc: not found\n', osRelease: DEBIAN });
    expect(e.message).to.equal(
      'cannot build kfn-irqrecv on node guest: no C compiler (command -v gcc found nothing); install gcc and libc6-dev (apt-get install -y gcc libc6-dev)',
    );
    const unknown = explainBuildFailure({ node: 'h', recipe, exitCode: 127, stderr: '' }).message;
    expect(unknown).to.contain('gcc and libc6-dev on Debian/Ubuntu').and.contain('gcc and glibc-devel on dnf/yum');
  });

  it('names the C library package when gcc is there but the headers are not', () => {
    const stderr = 'kfn-irqrecv.c:21:10: fatal error: errno.h: No such file or directory\ncompilation terminated.\n';
    const e = explainBuildFailure({ node: 'guest', recipe, exitCode: 1, stderr, osRelease: DEBIAN });
    expect(e.shortMessage).to.equal(
      'cannot build kfn-irqrecv on node guest: the C library headers are missing (kfn-irqrecv.c:21:10: fatal error: errno.h: No such file or directory); install gcc and libc6-dev (apt-get install -y gcc libc6-dev)',
    );
  });
});
