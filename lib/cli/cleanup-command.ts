// `kvmfornfv-test cleanup [--pod FILE]`: undoes what runs that died without cleaning up (SIGKILL,
// the OOM killer, a harness machine that went away) left on the pod, from the undo log each kept
// on its nodes: their processes are stopped, their pod changes undone. It takes the pod lock like
// a run, so it breaks a dead run's lock once the lease has run out (at once when that run's
// harness ran on this machine) and never touches a pod a live run holds. Without --pod it works on
// this checkout's lab pod when that is up (`lab down` removes the whole lab anyway).
import { loadPod } from '../config/pod.ts';
import { readOpnfvEnvironment } from '../config/environment.ts';
import { ConfigError, describeError } from '../errors.ts';
import { labStatus } from '../lab/index.ts';
import type { HostKeyPolicy } from '../remote/host-key.ts';
import { EXIT } from '../results/exit-codes.ts';
import { describeRecovery, hasLeftovers } from '../undo/recover.ts';
import { CHECKOUT_ROOT } from './lab-command.ts';
import { lockPod } from './pod-lock.ts';
import { makeRunId } from './run-command.ts';
import { createSessionSource } from './session-source.ts';

export interface CleanupCommandOptions {
  pod?: string;
  hostKeyPolicy: HostKeyPolicy;
  knownHosts?: string;
  /** Where the report goes; default stdout. */
  out?: (line: string) => void;
}

async function findPodFile(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const lab = await labStatus({ root: CHECKOUT_ROOT, log: () => {} }).catch(() => undefined);
  if (lab?.healthy && lab.podYaml) return lab.podYaml;
  // A lab that is half there (its sshds gone, e.g. killed with the shell that ran it) cannot be
  // reached to read its undo logs; `lab down` removes it whole, leftovers of a run included.
  const why = lab?.podYaml ? "this checkout's lab pod is only partly up: `kvmfornfv-test lab down` removes what is left of it" : "this checkout's lab pod is not up";
  throw new ConfigError('command line', [{ path: '--pod', message: `expected the pod.yaml of the pod to clean up (${why})` }]);
}

// Exit 0 when nothing of a dead run is left on any node; 70 when a node could not be reached,
// the pod is held by a live run, or something could not be undone.
export async function cleanupCommand(options: CleanupCommandOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const pod = loadPod(await findPodFile(options.pod));
  const runId = `cleanup-${makeRunId()}`;
  const log = (line: string) => {
    if (/pod lock|^undo of a dead run: /.test(line)) out(line);
  };
  const source = createSessionSource({ pod, dryRun: false, runId, log, hostKeyPolicy: options.hostKeyPolicy, knownHosts: options.knownHosts });
  const nodes = pod.nodes.filter((n) => n.role !== 'other');
  out(`cleanup of pod ${pod.name} (${pod.file}): ${nodes.map((n) => n.name).join(', ')}`);
  let code: number = EXIT.ok;
  try {
    const { lock, recoveries } = await lockPod({ pod, sessions: { session: (node) => source.get(node) }, runId, buildTag: readOpnfvEnvironment().buildTag, log, onLost: () => {} });
    try {
      const reached = new Set(recoveries.map((r) => r.node));
      for (const node of nodes.filter((n) => !reached.has(n.name))) {
        out(`${node.name}: not reachable, nothing undone there`);
        code = EXIT.notMeasured;
      }
      for (const recovery of recoveries) {
        if (recovery.logs.length === 0 && !recovery.error) out(`${recovery.node}: nothing left by a dead run`);
        if (hasLeftovers(recovery)) code = EXIT.notMeasured;
      }
      const leftovers = recoveries.filter(hasLeftovers).flatMap(describeRecovery);
      out(leftovers.length === 0 ? 'cleanup: done' : `cleanup: still recorded, not undone: ${leftovers.join(' | ')}`);
    } finally {
      await lock?.release().catch((e: unknown) => out(`pod lock release failed: ${describeError(e)}`));
    }
  } catch (error) {
    // The pod is held by a run that is alive (or whose lease has not run out yet).
    out(`cleanup: ${describeError(error)}`);
    code = EXIT.notMeasured;
  } finally {
    await source.closeAll();
  }
  return code;
}
