// The notes a loaded pod carries for the operator: what was accepted but is not used, what
// was read in Yardstick's terms, and what will fail later. Notes name keys and variables,
// never their values.
import { classifyKey } from './pod-keys.ts';
import { SUITE_NODE_KEYS, SUITE_TOP_KEYS, type NodeInput } from './pod-schema.ts';
import { YARDSTICK_NODE_KEYS, YARDSTICK_TOP_KEYS } from './pod-yardstick.ts';

export interface NoteInput {
  /** usedKeys: Yardstick keys this node's reading did use (NSB host: naming its host). */
  nodes: { index: number; raw: Record<string, unknown>; parsed: NodeInput; usedKeys?: readonly string[] }[];
  top: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
}

// Every note of one pod file, in file order.
export function buildPodNotes(input: NoteInput): string[] {
  const notes: string[] = [];
  const unusedTop = Object.keys(input.top).filter((k) => !SUITE_TOP_KEYS.includes(k));
  if (unusedTop.length > 0) {
    const named = unusedTop.map((k) => (YARDSTICK_TOP_KEYS.some((y) => y.key === k) ? `${k} (Yardstick)` : k));
    notes.push(`top-level keys not used by this suite: ${named.join(', ')}`);
  }
  for (const { index, raw, parsed: node, usedKeys = [] } of input.nodes) {
    const who = `node ${node.name} (nodes[${index}])`;
    notes.push(...noteRole(who, node), ...noteKeys(who, raw, usedKeys), ...noteSecrets(who, node, input.env));
    // A launched guest's CPU sets follow from its launch: section (rt_vcpus and the rest).
    if ((node.role.role === 'host' || node.role.role === 'guest') && node.rt_cpus === undefined && node.housekeeping_cpus === undefined && node.launch === undefined) {
      notes.push(`${who} names no rt_cpus or housekeeping_cpus: cases that measure on it report an error until pod.yaml gives both (the harness does not pick CPUs itself)`);
    }
  }
  return notes;
}

function noteRole(who: string, node: NodeInput): string[] {
  const reading = node.role;
  if (reading.role !== 'other') {
    const numbered = reading.yardstick?.name.endsWith('__N');
    return numbered ? [`${who} has Yardstick NSB role ${reading.declaredRole}: read as ${reading.role}`] : [];
  }
  const why = reading.yardstick?.hint ? ` (${reading.yardstick.hint})` : reading.unknown ? ' (not a role of Yardstick\'s pod files either)' : '';
  return [`${who} has role ${reading.declaredRole}: kept, but no test case uses it${why}`];
}

function noteKeys(who: string, raw: Record<string, unknown>, used: readonly string[]): string[] {
  const yardstick: string[] = [];
  const hints: string[] = [];
  const unknown: string[] = [];
  for (const key of Object.keys(raw).filter((k) => !used.includes(k))) {
    const c = classifyKey(key, SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS);
    if (c.kind === 'yardstick') {
      yardstick.push(key);
      if (c.entry.hint) hints.push(`${key}: ${c.entry.hint}`);
    } else if (c.kind === 'unknown') unknown.push(c.nearYardstick ? `${key} (Yardstick has ${c.nearYardstick})` : key);
  }
  const notes: string[] = [];
  if (yardstick.length > 0) notes.push(`${who}: Yardstick ${keysAre(yardstick)} accepted but not used${hints.length > 0 ? `; ${hints.join('; ')}` : ''}`);
  if (unknown.length > 0) notes.push(`${who}: ${keysAre(unknown)} neither this suite's nor Yardstick's: kept, not used`);
  return notes;
}

const keysAre = (keys: string[]) => (keys.length === 1 ? `key ${keys[0]} is` : `keys ${keys.join(', ')} are`);

function noteSecrets(who: string, node: NodeInput, env: NodeJS.ProcessEnv): string[] {
  const notes: string[] = [];
  if (node.password !== undefined) notes.push(`${who} has a literal password in the pod file; password_env keeps it out of the file`);
  if (node.pkey !== undefined) {
    const both = node.key_filename !== undefined ? `; key_filename ${node.key_filename} is not read, pkey is used (Yardstick's paramiko tries pkey first)` : '';
    notes.push(`${who} has its private key inline (pkey): used to log in, never printed${both}`);
  }
  for (const [key, envName] of [['password_env', node.password_env], ['key_passphrase_env', node.key_passphrase_env]] as const) {
    if (envName !== undefined && !env[envName]) notes.push(`${who}: ${key} ${envName} is not set; connecting to this node will fail until it is`);
  }
  const jump = node.jump_host;
  if (jump && !('byName' in jump) && jump.password_env !== undefined && !env[jump.password_env]) {
    notes.push(`${who}: jump_host.password_env ${jump.password_env} is not set; connecting through it will fail until it is`);
  }
  return notes;
}
