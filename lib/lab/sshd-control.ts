// Stopping and starting one lab node's sshd, as `systemctl stop ssh` and a later start would
// on a real node: the lab's tests of a lost connection use it. Stopping takes every sshd of
// the node's namespace (the listener and each connection's), so the harness's connection
// drops; starting records the new listener's pid, so `lab status` stays healthy.
import { cpus } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import { LabError } from '../errors.ts';
import { buildLabPlan } from './plan.ts';
import { readLabState, writeLabState, type LabState } from './state.ts';
import { inspectLab, resolveRoot } from './status.ts';
import { killProcesses, listNamespacePids } from './system.ts';
import { launchNodeSshd, SSHD_START_TIMEOUT_MS, waitForPidFile, waitForSshBanner } from './up.ts';

async function locate(root: string, nodeName: string) {
  const realRoot = await resolveRoot(root);
  const { state } = await inspectLab(realRoot);
  if (!state?.complete) throw new LabError(`no lab is up for ${realRoot}`);
  const octet = Number(/^198\.18\.(\d+)\.0\/24$/.exec(state.managementCidr)?.[1]);
  const plan = buildLabPlan({ realRoot, octet, cpuCount: cpus().length });
  const node = plan.nodes.find((n) => n.name === nodeName);
  if (!node) throw new LabError(`the lab has no node ${nodeName}; it has ${plan.nodes.map((n) => n.name).join(', ')}`);
  return { state, plan, node };
}

// Kill every sshd in the node's namespace; returns their pids.
export async function stopNodeSshd(options: { root: string; node: string }): Promise<number[]> {
  const { node } = await locate(options.root, options.node);
  const pids: number[] = [];
  for (const pid of await listNamespacePids(node.namespace)) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'sshd') pids.push(pid);
  }
  const survivors = await killProcesses(pids);
  if (survivors.length > 0) throw new LabError(`sshd processes ${survivors.join(', ')} of ${options.node} survived SIGKILL`);
  return pids;
}

// Start the node's listener again and wait for its banner; returns its pid.
export async function startNodeSshd(options: { root: string; node: string }): Promise<number> {
  const { state, plan, node } = await locate(options.root, options.node);
  // A killed sshd leaves its pid file: the new one must not be read as the old.
  await rm(node.pidFile, { force: true });
  await launchNodeSshd(plan, node);
  const deadline = Date.now() + SSHD_START_TIMEOUT_MS;
  const pid = await waitForPidFile(node.pidFile, deadline);
  await waitForSshBanner(node, deadline);
  const fresh: LabState = (await readLabState(plan.paths.stateFile)) ?? state;
  for (const n of fresh.nodes) if (n.name === node.name) n.sshdPid = pid;
  fresh.resources.pids.push(pid);
  await writeLabState(plan.paths.stateFile, fresh);
  return pid;
}
