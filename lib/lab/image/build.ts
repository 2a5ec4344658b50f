// Builds, finds and removes the lab guest image in a cache outside the checkout, named by
// the recipe's hash. A build goes to a staging folder and is renamed into place only when
// complete, so a build cut short is never taken for an image.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../../errors.ts';
import { runCommand } from '../exec.ts';
import { buildAgentRecipe, readAgentSources, type AgentBuildRecipe } from '../../provision/build-agent.ts';
import { buildCustomizeScript, buildImageFiles, buildMmdebstrapArgv, hashImageRecipe, IMAGE_AGENTS, IMAGE_PACKAGES, IMAGE_SUITE } from './recipe.ts';

export const IMAGE_CACHE_ROOT = '/var/cache/kvmfornfv/images';

export interface GuestImage {
  dir: string;
  hash: string;
  rootfs: string;
  kernel: string;
  initrd: string;
  kernelRelease: string;
  /** Private key that logs in as root (0600, root only). */
  accessKey: string;
  /** `SHA256:...` of the image's only host key, pinned by the lab's pod.yaml. */
  hostKeyFingerprint: string;
  sizeBytes: number;
  builtAt: string;
  buildSeconds: number;
  packages: readonly string[];
}

const MANIFEST = 'manifest.json';

/** The recipes of the agents built into the image, read from this checkout's lib/agents. */
function imageAgents(): AgentBuildRecipe[] {
  return IMAGE_AGENTS.map((name) => buildAgentRecipe({ name, sources: readAgentSources(name) }));
}

/** The current recipe's hash: packages, files and the agents' sources. */
export function currentImageHash(): string {
  return hashImageRecipe(imageAgents());
}

function imageDir(cacheRoot: string, hash: string): string {
  return join(cacheRoot, hash);
}

// The image of the current recipe, when it has been built; undefined otherwise.
export async function findGuestImage(cacheRoot = IMAGE_CACHE_ROOT): Promise<GuestImage | undefined> {
  const dir = imageDir(cacheRoot, currentImageHash());
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as GuestImage;
    for (const path of [manifest.rootfs, manifest.kernel, manifest.initrd, manifest.accessKey]) await stat(path);
    return manifest;
  } catch {
    return undefined;
  }
}

/** Where the current recipe's image will be, for a dry run before it is built; its host key is not known yet. */
export function plannedGuestImage(cacheRoot = IMAGE_CACHE_ROOT): Pick<GuestImage, 'kernel' | 'initrd' | 'rootfs' | 'accessKey' | 'hostKeyFingerprint'> {
  const dir = imageDir(cacheRoot, currentImageHash());
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), rootfs: join(dir, 'rootfs.img'), accessKey: join(dir, 'id_ed25519'), hostKeyFingerprint: `SHA256:${'0'.repeat(43)}` };
}

// ssh-keygen -lf prints "256 SHA256:<b64> comment (ED25519)".
export function parseKeygenFingerprint(output: string): string {
  const m = /^\d+ (SHA256:[A-Za-z0-9+/]{43}) /.exec(output.trim());
  if (!m) throw new LabError(`expected "ssh-keygen -lf" output like "256 SHA256:... comment (ED25519)", found ${JSON.stringify(output.slice(0, 80))}`);
  return m[1] as string;
}

// The current recipe's image, built first when it is missing (about 2 minutes, Debian packages only).
export async function ensureGuestImage(options: { log: (line: string) => void; cacheRoot?: string }): Promise<GuestImage> {
  const cacheRoot = options.cacheRoot ?? IMAGE_CACHE_ROOT;
  const found = await findGuestImage(cacheRoot);
  if (found) return found;
  const hash = currentImageHash();
  const staging = join(cacheRoot, `.${hash}.building-${process.pid}`);
  const started = Date.now();
  options.log(`lab image: building ${hash} (Debian ${IMAGE_SUITE}, ${IMAGE_PACKAGES.length} packages) in ${cacheRoot}; this takes about 2 minutes once`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'keys'), { recursive: true, mode: 0o700 });
  try {
    const keys = join(staging, 'keys');
    await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `kfn-guest-${hash}`, '-f', join(keys, 'ssh_host_ed25519_key')]);
    await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `kfn-guest-access-${hash}`, '-f', join(staging, 'id_ed25519')]);
    const hook = join(staging, 'customize.sh');
    const authorizedKey = await readFile(join(staging, 'id_ed25519.pub'), 'utf8');
    await writeFile(hook, buildCustomizeScript({ files: buildImageFiles(), authorizedKey, hostKeyDir: keys, agents: imageAgents() }), { mode: 0o700 });
    const root = join(staging, 'root');
    await runCommand(buildMmdebstrapArgv({ rootDir: root, hookScript: hook }), { timeoutMs: 20 * 60_000 });
    const boot = await readdir(join(root, 'boot'));
    const vmlinuz = boot.find((f) => /^vmlinuz-.*-rt-amd64$/.test(f));
    const initrd = boot.find((f) => /^initrd\.img-.*-rt-amd64$/.test(f));
    if (!vmlinuz || !initrd) throw new LabError(`the image has no RT kernel and initrd in /boot (found ${boot.join(', ') || 'nothing'})`);
    await runCommand(['cp', join(root, 'boot', vmlinuz), join(staging, 'vmlinuz')]);
    await runCommand(['cp', join(root, 'boot', initrd), join(staging, 'initrd.img')]);
    const used = Number((await runCommand(['du', '-sb', root])).stdout.split(/\s/)[0]);
    // Room for the guest's own writes (snapshot=on keeps them in a temporary overlay anyway).
    const sizeMb = Math.ceil((used * 1.3) / 2 ** 20) + 256;
    await runCommand(['mke2fs', '-q', '-t', 'ext4', '-d', root, '-L', 'root', join(staging, 'rootfs.img'), `${sizeMb}M`], { timeoutMs: 5 * 60_000 });
    await rm(root, { recursive: true, force: true });
    const fingerprint = parseKeygenFingerprint((await runCommand(['ssh-keygen', '-lf', join(keys, 'ssh_host_ed25519_key.pub')])).stdout);
    // The guest's private host key lives in the image only.
    await rm(join(keys, 'ssh_host_ed25519_key'), { force: true });
    const dir = imageDir(cacheRoot, hash);
    const image: GuestImage = {
      dir,
      hash,
      rootfs: join(dir, 'rootfs.img'),
      kernel: join(dir, 'vmlinuz'),
      initrd: join(dir, 'initrd.img'),
      kernelRelease: vmlinuz.replace(/^vmlinuz-/, ''),
      accessKey: join(dir, 'id_ed25519'),
      hostKeyFingerprint: fingerprint,
      sizeBytes: (await stat(join(staging, 'rootfs.img'))).blocks * 512,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      packages: IMAGE_PACKAGES,
    };
    await writeFile(join(staging, MANIFEST), `${JSON.stringify(image, null, 2)}\n`);
    await rename(staging, dir).catch(async (error: unknown) => {
      // Another build of the same recipe finished first: use that one.
      if (await findGuestImage(cacheRoot)) return;
      throw error;
    });
    options.log(`lab image: ${hash} built in ${image.buildSeconds} s, ${(image.sizeBytes / 2 ** 20).toFixed(0)} MiB on disk, kernel ${image.kernelRelease}`);
    return (await findGuestImage(cacheRoot)) ?? image;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

// Every cached image, current or not, for `lab image status`.
export async function listGuestImages(cacheRoot = IMAGE_CACHE_ROOT): Promise<Array<{ hash: string; current: boolean; manifest?: GuestImage }>> {
  const current = currentImageHash();
  const names = await readdir(cacheRoot).catch(() => [] as string[]);
  const out: Array<{ hash: string; current: boolean; manifest?: GuestImage }> = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    const manifest = await readFile(join(cacheRoot, name, MANIFEST), 'utf8').then((t) => JSON.parse(t) as GuestImage, () => undefined);
    out.push({ hash: name, current: name === current, ...(manifest ? { manifest } : {}) });
  }
  return out;
}

export async function removeGuestImages(cacheRoot = IMAGE_CACHE_ROOT): Promise<string[]> {
  const names = await readdir(cacheRoot).catch(() => [] as string[]);
  for (const name of names) await rm(join(cacheRoot, name), { recursive: true, force: true });
  return names;
}
