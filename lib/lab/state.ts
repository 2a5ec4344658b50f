// state.json: what `up` created (recorded before each creation), so that `down`
// removes exactly that, and a second `up` can tell a healthy lab from a broken one.

import { readFile, rename, writeFile } from 'node:fs/promises';
import type { LabNodeName, LabRole } from './plan.ts';

export const LAB_STATE_VERSION = 1;

export interface LabNodeState {
  name: LabNodeName;
  role: LabRole;
  namespace: string;
  ip: string;
  rootLink: string;
  hostKeyFile: string;
  pidFile: string;
  /** Pid of the node's sshd listener, once started. */
  sshdPid?: number;
}

export interface LabLinkState {
  a: string;
  b: string;
  purpose: string;
}

export interface LabState {
  version: typeof LAB_STATE_VERSION;
  /** realpath of the checkout. */
  root: string;
  prefix: string;
  stateDir: string;
  podYaml: string;
  keyFile: string;
  knownHosts: string;
  managementCidr: string;
  gateway: string;
  interruptCidr: string;
  bridge: string;
  nodes: LabNodeState[];
  /** Data links as `node:ifname` pairs. */
  links: LabLinkState[];
  /** Every resource `up` created or was about to create, for `down`. */
  resources: { namespaces: string[]; rootLinks: string[]; pids: number[] };
  /** False until every step of `up` succeeded. */
  complete: boolean;
  createdAt: string;
  /** The lab's guest kind; absent in states written before VM guests (namespace). */
  guest?: 'vm' | 'namespace';
  /** Compute groups (lab up --computes); absent in states written before them (1). */
  computes?: number;
}

// A missing or unreadable state file is not an error: `down` then discovers by prefix.
export async function readLabState(stateFile: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<LabState>;
    if (value.version !== LAB_STATE_VERSION || typeof value.prefix !== 'string' || !value.resources) return undefined;
    return value as LabState;
  } catch {
    return undefined;
  }
}

// Written through a rename so that a crash never leaves half a JSON file.
export async function writeLabState(stateFile: string, state: LabState): Promise<void> {
  const tmp = `${stateFile}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, stateFile);
}
