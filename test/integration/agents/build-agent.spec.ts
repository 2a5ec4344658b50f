// The agent provisioning's shell scripts run for real (sh, gcc, mktemp, mv -T) on this
// machine through LocalSession: a compile error and a missing compiler as a node would see them.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisionError } from '../../../lib/errors.ts';
import { ensureAgent } from '../../../lib/provision/build-agent.ts';
import { buildLocalNode, LocalSession } from '../../support/local-session.ts';

describe('provision/build-agent on this machine (integration)', function () {
  this.timeout(60_000);
  let dir = '';

  before(function () {
    if (spawnSync('gcc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'kfn-build-it-'));
    mkdirSync(join(dir, 'agents', 'kfn-broken'), { recursive: true });
    mkdirSync(join(dir, 'agents', 'common'));
    writeFileSync(join(dir, 'agents', 'common', 'kfn-common.h'), 'static inline int kfn_one(void) { return 1; }\n');
    writeFileSync(join(dir, 'agents', 'kfn-broken', 'kfn-broken.c'), '#include "../common/kfn-common.h"\nint main(void) { int unused; return kfn_one(); }\n');
    mkdirSync(join(dir, 'agents', 'kfn-ok'));
    writeFileSync(join(dir, 'agents', 'kfn-ok', 'kfn-ok.c'), '#include "../common/kfn-common.h"\nint main(void) { return kfn_one() - 1; }\n');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds an agent that includes ../common/ from its own folder, and runs it', async () => {
    const built = await ensureAgent(new LocalSession(buildLocalNode('local', 'other'), dir), 'kfn-ok', { cacheDirs: [join(dir, 'cache')], agentsDir: join(dir, 'agents') });
    expect(built.binaryPath).to.match(new RegExp(`/cache/kfn-ok-[0-9a-f]{64}/kfn-ok/kfn-ok$`));
    expect(spawnSync(built.binaryPath).status).to.equal(0);
  });

  it('reports a compile error with gcc\'s words and leaves no staging folder behind', async () => {
    const cache = join(dir, 'cache-broken');
    const error = await ensureAgent(new LocalSession(buildLocalNode('local', 'other'), dir), 'kfn-broken', { cacheDirs: [cache], agentsDir: join(dir, 'agents') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ProvisionError);
    expect((error as ProvisionError).shortMessage).to.match(/^cannot build kfn-broken on node local: gcc -Wall -Wextra -Werror -O2 -o kfn-broken kfn-broken\.c failed with exit code 1: .*unused variable/);
    expect((error as Error).message).to.match(/-Werror=unused-variable/);
    expect(readdirSync(cache)).to.deep.equal([]);
  });

  it('names the packages to install when the node has no gcc', async () => {
    const bin = join(dir, 'bin-without-gcc');
    mkdirSync(bin);
    for (const tool of ['sh', 'mkdir', 'chmod', 'mktemp', 'rm', 'mv', 'touch', 'cat']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    const session = new LocalSession(buildLocalNode('local', 'other'), dir, { env: { PATH: bin } });
    const error = await ensureAgent(session, 'kfn-ok', { cacheDirs: [join(dir, 'cache-nogcc')], agentsDir: join(dir, 'agents') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ProvisionError);
    expect((error as Error).message).to.match(/^cannot build kfn-ok on node local: no C compiler \(command -v gcc found nothing\); install gcc and libc6-dev \(apt-get install -y gcc libc6-dev\)$/);
    expect(readdirSync(join(dir, 'cache-nogcc'))).to.deep.equal([]);
  });
});
