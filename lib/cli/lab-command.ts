// `kvmfornfv-test lab up|down|status`: the lab pod by hand, for debugging and for the
// integration tests; runs without --pod do the same around themselves.
import { fileURLToPath } from 'node:url';
import { labDown, labStatus, labUp } from '../lab/index.ts';
import { currentImageHash, ensureGuestImage, IMAGE_CACHE_ROOT, listGuestImages, removeGuestImages } from '../lab/image/build.ts';
import { EXIT } from '../results/exit-codes.ts';

/** The checkout this CLI belongs to: the lab's per-checkout prefix is derived from it. */
export const CHECKOUT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function labCommand(action: 'up' | 'down' | 'status', options: { guest?: 'vm' | 'namespace'; computes?: number } = {}): Promise<number> {
  if (action === 'up') {
    const state = await labUp({ root: CHECKOUT_ROOT, log, ...(options.guest ? { guest: options.guest } : {}), ...(options.computes ? { computes: options.computes } : {}) });
    process.stdout.write(`${state.podYaml}\n`);
    return EXIT.ok;
  }
  if (action === 'down') {
    const report = await labDown({ root: CHECKOUT_ROOT, log });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  const status = await labStatus({ root: CHECKOUT_ROOT, log });
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  return status.healthy ? EXIT.ok : EXIT.notMeasured;
}

// `lab image build|status|remove`: the guest image outside any checkout, shared by every lab.
export async function labImageCommand(action: 'build' | 'status' | 'remove'): Promise<number> {
  if (action === 'build') {
    const image = await ensureGuestImage({ log });
    process.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
    return EXIT.ok;
  }
  if (action === 'remove') {
    const removed = await removeGuestImages();
    process.stdout.write(`${JSON.stringify({ removed, cache: IMAGE_CACHE_ROOT }, null, 2)}\n`);
    return EXIT.ok;
  }
  const images = await listGuestImages();
  process.stdout.write(`${JSON.stringify({ cache: IMAGE_CACHE_ROOT, recipe: currentImageHash(), images }, null, 2)}\n`);
  return images.some((i) => i.current && i.manifest) ? EXIT.ok : EXIT.notMeasured;
}
