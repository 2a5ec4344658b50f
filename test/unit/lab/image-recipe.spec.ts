import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { buildAgentRecipe, readAgentSources } from '../../../lib/provision/build-agent.ts';
import { buildCustomizeScript, buildImageFiles, buildMmdebstrapArgv, hashImageRecipe, IMAGE_AGENTS, IMAGE_PACKAGES } from '../../../lib/lab/image/recipe.ts';

const agents = IMAGE_AGENTS.map((name) => buildAgentRecipe({ name, sources: readAgentSources(name) }));

describe('lab/image recipe', () => {
  it("builds from Debian packages only, with Debian's RT kernel, sshd, rt-tests and a compiler", () => {
    expect(IMAGE_PACKAGES).to.include.members(['linux-image-rt-amd64', 'openssh-server', 'rt-tests', 'stress-ng', 'gcc']);
    expect(buildMmdebstrapArgv({ rootDir: '/c/root', hookScript: '/c/h.sh' })).to.deep.equal([
      'mmdebstrap', '--variant=apt', `--include=${IMAGE_PACKAGES.join(',')}`, '--customize-hook=sh /c/h.sh "$1"', 'bookworm', '/c/root',
    ]);
  });

  it('names the cache by everything that changes the image: a changed file or agent source gives a new hash', () => {
    const base = hashImageRecipe(agents);
    expect(base).to.match(/^[0-9a-f]{16}$/);
    expect(hashImageRecipe(agents)).to.equal(base);
    const files = buildImageFiles().map((f) => (f.path === '/etc/hostname' ? { ...f, content: 'other\n' } : f));
    expect(hashImageRecipe(agents, files)).not.to.equal(base);
    const edited = agents.map((a) => buildAgentRecipe({ name: a.name, sources: a.sources.map((s) => ({ ...s, content: `${s.content}\n` })) }));
    expect(hashImageRecipe(edited)).not.to.equal(base);
  });

  it('writes a hook sh accepts: files, keys, units, and the guest agents built in the image where build-agent looks first', () => {
    const script = buildCustomizeScript({ files: buildImageFiles(), authorizedKey: "ssh-ed25519 AAAAC3Nza kfn'x", hostKeyDir: '/c/keys', agents });
    execFileSync('sh', ['-n', '-c', script]);
    expect(script).to.contain('systemctl enable kfn-mgmt-net.service kfn-guest-ready.service');
    expect(script).to.contain("printf '%s\\n' 'ssh-ed25519 AAAAC3Nza kfnx'");
    const irq = agents.find((a) => a.name === 'kfn-irqrecv')!;
    expect(script).to.contain(`/var/cache/kvmfornfv/agents/.kfn-irqrecv-${irq.hash}.staging/kfn-irqrecv/kfn-irqrecv.c`);
    expect(script).to.match(/chroot "\$root" sh -c '.*gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv\.c/s);
    expect(script).to.contain(`/var/cache/kvmfornfv/agents/kfn-irqrecv-${irq.hash}`);
  });
});
