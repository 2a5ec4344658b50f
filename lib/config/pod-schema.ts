// zod schemas for one pod.yaml node: the keys this suite reads (Yardstick's name, role, ip,
// user, ssh_port, key_filename, password, pkey, plus its own snake_case extensions) in
// nodeFields, and Yardstick's other keys (pod-yardstick.ts) accepted unused. To add a key,
// add it to nodeFields: it is then typed, and covered by the misspelling check (pod-keys.ts).
// Field checks are pure and exported so that other inputs (CLI, lab) reuse them.
import * as z from 'zod';
import { launchSchema } from './guest-launch.ts';
import type { NodeRole } from './pod-model.ts';
import { tryParseCpuList } from './cpu-list.ts';
import { classifyKey, findCloseName } from './pod-keys.ts';
import { findYardstickRole, YARDSTICK_NODE_KEYS, YARDSTICK_ROLES, YARDSTICK_TOP_KEYS, type YardstickRole } from './pod-yardstick.ts';
import { describeValue } from './zod-issues.ts';

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PCI_ADDRESS = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\.[0-7]$/;
const MAC_ADDRESS = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const SHA256_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
/** Kernel interface names as pods use them; shell syntax in one is refused, not just quoted. */
const IFNAME = /^[A-Za-z0-9_.@+-]{1,15}$/;
/** Yardstick's pkey is what paramiko's from_private_key reads: a PEM (or OpenSSH) private key. */
const PRIVATE_KEY_TEXT = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/** This suite's own role names; Yardstick's (Compute, TrafficGen, vnf__N, ...) are in pod-yardstick.ts. */
const SUITE_ROLES: Record<string, NodeRole> = { host: 'host', guest: 'guest', vnf: 'guest', tgen: 'tgen', other: 'other' };
const ROLE_HELP = 'expected host, guest or tgen (Yardstick: Compute, VirtualNetworkFunction or vnf__N, TrafficGen; Controller and any other role is kept but unused)';

export type RoleReading =
  | { role: NodeRole; declaredRole: string; yardstick?: YardstickRole; unknown?: true }
  | { misspelt: string; declaredRole: string };

// Yardstick spells roles freely; this maps them once so suites see four roles only. A role
// one slip away from one the suite measures on is refused, since a node silently left out
// of a run could make it pass.
export function readRole(declared: string): RoleReading {
  const key = declared.trim().toLowerCase();
  const own = SUITE_ROLES[key];
  if (own) return { role: own, declaredRole: declared };
  const yardstick = findYardstickRole(declared);
  if (yardstick) return { role: yardstick.role, declaredRole: declared, yardstick };
  const measured = [...Object.keys(SUITE_ROLES).filter((r) => SUITE_ROLES[r] !== 'other'), ...YARDSTICK_ROLES.filter((r) => r.role !== 'other' && !r.name.endsWith('__N')).map((r) => r.name)];
  const index = /\d+$/.exec(key)?.[0];
  if (index !== undefined) measured.push(`vnf__${index}`);
  const misspelt = findCloseName(declared, measured);
  return misspelt ? { misspelt, declaredRole: declared } : { role: 'other', declaredRole: declared, unknown: true };
}

// The role a declared role stands for, or undefined for one refused as a misspelling.
export function resolveRole(declared: string): NodeRole | undefined {
  if (declared.trim() === '') return undefined;
  const reading = readRole(declared);
  return 'role' in reading ? reading.role : undefined;
}

export type LineRateResult = { ok: true; bps: number } | { ok: false; message: string };
const RATE_PREFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

// Port speeds bound the offered load, so "10GB" (bytes?) is refused rather than guessed.
export function tryParseLineRate(input: unknown): LineRateResult {
  const expected = `expected a line rate such as "10G", "25G" or "100M" (bits/s), or a number of bits/s, got ${describeValue(input)}`;
  if (typeof input === 'number') return Number.isFinite(input) && input > 0 ? { ok: true, bps: input } : { ok: false, message: expected };
  if (typeof input !== 'string') return { ok: false, message: expected };
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:bps|bit\/s|b\/s)?$/.exec(input.trim());
  const bps = m ? Number(m[1]) * (RATE_PREFIX[(m[2] ?? '').toLowerCase()] ?? Number.NaN) : Number.NaN;
  return Number.isFinite(bps) && bps > 0 ? { ok: true, bps } : { ok: false, message: expected };
}

/** A custom-parsed field: `parse` returns the value or a message, zod reports it. */
function parsedField<T>(parse: (input: unknown) => { ok: true; value: T } | { ok: false; message: string }) {
  return z.unknown().transform((input, ctx) => {
    const result = parse(input);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: result.message, input });
    return z.NEVER;
  });
}

const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const matching = (pattern: RegExp, what: string) => text(what).regex(pattern, { error: `expected ${what}` });
const envName = matching(ENV_NAME, 'an environment variable name such as NODE_PASSWORD');
const sshPort = z.int({ error: 'expected an integer 1-65535' }).min(1, { error: 'expected an integer 1-65535' }).max(65535, { error: 'expected an integer 1-65535' });
const absolutePath = matching(/^\//, 'an absolute path on the node');

function strict<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `expected one of ${keys}` : `expected ${what}`) });
}

export const cpuListField = parsedField((input) => {
  const r = tryParseCpuList(input);
  return r.ok ? { ok: true, value: r.cpus } : r;
});

const lineRate = parsedField((input) => {
  const r = tryParseLineRate(input);
  return r.ok ? { ok: true, value: r.bps } : r;
});

const role = parsedField((input) => {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, message: input === undefined ? `missing; ${ROLE_HELP}` : `${ROLE_HELP}, got ${describeValue(input)}` };
  const reading = readRole(input);
  if ('role' in reading) return { ok: true, value: reading };
  return { ok: false, message: `unknown role ${JSON.stringify(input)}: did you mean ${reading.misspelt}? ${ROLE_HELP}` };
});

export const hostKeySchema = strict(
  {
    known_hosts: text('a path to an OpenSSH known_hosts file').optional(),
    fingerprint: matching(SHA256_FINGERPRINT, 'SHA256:<43 base64 characters>, as printed by ssh-keygen -lf').optional(),
  },
  'a mapping with known_hosts: <path> or fingerprint: SHA256:...',
).superRefine((value, ctx) => {
  const given = [value.known_hosts, value.fingerprint].filter((v) => v !== undefined).length;
  if (given !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of known_hosts or fingerprint, got ${given === 0 ? 'neither' : 'both'}` });
});

const jumpHostObject = strict(
  {
    ip: text('an IP address or host name'),
    user: text('a user name').default('root'),
    ssh_port: sshPort.default(22),
    key_filename: text('a path to a private key file').optional(),
    password_env: envName.optional(),
    key_passphrase_env: envName.optional(),
    host_key: hostKeySchema.optional(),
  },
  'a node name of this pod, or a mapping with ip, user, ssh_port, key_filename, password_env, host_key',
);
export type JumpHostInput = { byName: string } | z.output<typeof jumpHostObject>;

// A jump host is a node of the pod (by name) or a bastion described in place.
const jumpHost = z.unknown().transform((input, ctx): JumpHostInput => {
  if (typeof input === 'string') {
    if (NAME_PATTERN.test(input)) return { byName: input };
    ctx.addIssue({ code: 'custom', input, message: `expected the name of a node in this pod, got ${describeValue(input)}` });
    return z.NEVER;
  }
  const r = jumpHostObject.safeParse(input);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ ...issue, input } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

export const portSchema = strict(
  {
    name: matching(NAME_PATTERN, 'a port name (letters, digits, ".", "_", "-")'),
    interface: matching(IFNAME, 'a kernel interface name (1-15 letters, digits, "_", ".", "@", "+" or "-")').optional(),
    pci: matching(PCI_ADDRESS, 'a PCI address such as 0000:3b:00.0').optional(),
    mac: matching(MAC_ADDRESS, 'a MAC address such as 3c:fd:fe:a1:b2:c3').optional(),
    line_rate: lineRate.optional(),
    peer: matching(/^[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][A-Za-z0-9._-]*$/, 'node:port, naming a port of another node of this pod').optional(),
  },
  'a mapping with name and optionally interface, pci, mac, line_rate, peer',
);

export const nodeFields = {
  name: matching(NAME_PATTERN, 'a node name (letters, digits, ".", "_", "-")'),
  role,
  // Required, except for a guest the harness launches itself (launch:), reached through its host.
  ip: matching(/^\S+$/, 'an IP address or host name').optional(),
  user: text('a user name').default('root'),
  ssh_port: sshPort.default(22),
  key_filename: text('a path to a private key file').optional(),
  password: z.string({ error: 'expected a string (quote the password)' }).optional(),
  pkey: z
    .string({ error: 'expected a private key as text (Yardstick pkey)' })
    .regex(PRIVATE_KEY_TEXT, { error: 'expected a private key as text, from -----BEGIN ... PRIVATE KEY----- to its END line (Yardstick pkey)' })
    .optional(),
  password_env: envName.optional(),
  key_passphrase_env: envName.optional(),
  jump_host: jumpHost.optional(),
  host_key: hostKeySchema.optional(),
  rt_cpus: cpuListField.optional(),
  housekeeping_cpus: cpuListField.optional(),
  ports: z.array(portSchema, { error: 'expected a list of ports' }).optional(),
  tools: z.record(z.string(), absolutePath, { error: 'expected a mapping of tool name to path' }).optional(),
  extra: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).optional(),
  /** The host node a guest runs on, for launched and existing guests alike. */
  host_node: matching(NAME_PATTERN, 'the name of the host node this guest runs on').optional(),
  launch: launchSchema.optional(),
};

/** The node keys this suite reads, for the misspelling check: every key of nodeFields. */
export const SUITE_NODE_KEYS: readonly string[] = Object.keys(nodeFields);

export const nodeSchema = z.looseObject(nodeFields, { error: 'expected a mapping with name, role, ip, ...' });
export type NodeInput = z.output<typeof nodeSchema>;

const podFileFields = {
  pod_name: matching(NAME_PATTERN, 'a pod name (letters, digits, ".", "_", "-")').optional(),
  lab: z.boolean({ error: 'expected true or false' }).optional(),
  nodes: z.array(z.unknown(), { error: 'expected a list of nodes' }).min(1, { error: 'expected at least one node' }),
};
export const SUITE_TOP_KEYS: readonly string[] = Object.keys(podFileFields);

export const podFileSchema = z.looseObject(podFileFields, { error: 'expected a mapping with a nodes: list (Yardstick pod.yaml format)' });

// Keys the suite does not read are accepted (Yardstick's, or unknown ones, both noted by
// pod-notes.ts), unless they are a slip of one it does read: rt_cpu would silently drop
// rt_cpus. Checked apart from the schemas, so that it is reported beside any other issue.
export function findMisspeltKeys(raw: unknown, level: 'node' | 'top'): { key: string; message: string }[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const [keys, yardstick] = level === 'node' ? [SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS] : [SUITE_TOP_KEYS, YARDSTICK_TOP_KEYS];
  return Object.keys(raw).flatMap((key) => {
    const c = classifyKey(key, keys, yardstick);
    return c.kind === 'misspelt' ? [{ key, message: `unknown key: did you mean ${c.suggestion}? (keys this suite reads: ${keys.join(', ')})` }] : [];
  });
}
