// `kvmfornfv-test lab up|down|status`: the lab pod by hand, for debugging and for the
// integration tests; runs without --pod do the same around themselves.
import { fileURLToPath } from 'node:url';
import { labDown, labStatus, labUp } from '../lab/index.ts';
import { EXIT } from '../results/exit-codes.ts';

/** The checkout this CLI belongs to: the lab's per-checkout prefix is derived from it. */
export const CHECKOUT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function labCommand(action: 'up' | 'down' | 'status'): Promise<number> {
  if (action === 'up') {
    const state = await labUp({ root: CHECKOUT_ROOT, log });
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
