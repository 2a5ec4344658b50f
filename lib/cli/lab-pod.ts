// The embedded default: with no --pod, a run builds the lab pod, uses its pod.yaml like
// any other, and removes it on every exit path. A dry run only plans it.
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labStatus, labUp } from '../lab/index.ts';
import { buildPodYaml } from '../lab/files.ts';
import { buildLabPlan, deriveLabNames, type LabGuestKind } from '../lab/plan.ts';
import { findGuestImage, plannedGuestImage } from '../lab/image/build.ts';
import { CHECKOUT_ROOT } from './lab-command.ts';

export interface LabHandle {
  podYaml: string;
  /** Idempotent: the first call removes the lab, later calls wait for that one. */
  remove(): Promise<void>;
}

export async function prepareLabPod(options: { dryRun: boolean; guest?: LabGuestKind; log: (line: string) => void; root?: string }): Promise<LabHandle> {
  const root = options.root ?? CHECKOUT_ROOT;
  if (options.dryRun) {
    const realRoot = await realpath(root);
    const plan = buildLabPlan({ realRoot, octet: deriveLabNames(realRoot).preferredOctet, cpuCount: cpus().length, guest: options.guest ?? 'vm' });
    const dir = await mkdtemp(join(tmpdir(), 'kfn-dry-run-'));
    const podYaml = join(dir, 'pod.yaml');
    await writeFile(podYaml, buildPodYaml(plan, plan.guest === 'vm' ? ((await findGuestImage()) ?? plannedGuestImage()) : undefined));
    options.log(`dry run: lab pod planned, not built (${podYaml})`);
    return once({ podYaml, remove: () => rm(dir, { recursive: true, force: true }) });
  }
  // A lab someone brought up by hand (or another run is using) is theirs: use it, keep it.
  const existing = await labStatus({ root });
  if (existing.healthy && existing.podYaml) {
    options.log(`using the lab pod that is already up (${existing.podYaml}); it stays up after the run`);
    return once({ podYaml: existing.podYaml, remove: async () => {} });
  }
  options.log('building the lab pod (kvmfornfv-test lab up)');
  const removeLab = async () => {
    options.log('removing the lab pod (kvmfornfv-test lab down)');
    await labDown({ root, log: options.log });
  };
  try {
    const state = await labUp({ root, log: options.log, ...(options.guest ? { guest: options.guest } : {}) });
    return once({ podYaml: state.podYaml, remove: removeLab });
  } catch (error) {
    // labUp already tears down what it built; down again covers an interrupted up.
    await removeLab().catch(() => {});
    throw error;
  }
}

function once(handle: LabHandle): LabHandle {
  let removal: Promise<void> | undefined;
  return { podYaml: handle.podYaml, remove: () => (removal ??= handle.remove()) };
}
