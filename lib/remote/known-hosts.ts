// OpenSSH known_hosts files and key fingerprints, as pure functions, so that host-key
// checking can be tested on recorded files without a server. Format: sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT". Semantics read from openssh-portable (commit 0ef0f5a8, 2026-08; unchanged in
// what is used here since V_9_2_P1, the version installed here): hostfile.c
// (hostkeys_foreach_file, check_markers, match_maybe_hashed, host_hash: HMAC-SHA1 keyed with
// the salt, check_hostkeys_by_key_or_type), match.c (match_hostname, match_pattern_list),
// sshconnect.c (check_host_key) and readconf.c (the default files).
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';

export interface KnownHostEntry {
  /** File the line came from, for messages. */
  path: string;
  lineNumber: number;
  marker: 'cert-authority' | 'revoked' | undefined;
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  keyBlob: Buffer;
}

export interface KnownHostsProblem {
  lineNumber: number;
  reason: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  /** Lines that are not comments or blank and cannot be used. OpenSSH skips them too. */
  problems: KnownHostsProblem[];
}

export type HostKeyLookupStatus = 'match' | 'changed' | 'revoked' | 'unknown';

export interface HostKeyLookup {
  status: HostKeyLookupStatus;
  /** The name the decision was made under: `[host]:port`, or `host` when OpenSSH's retry without the port decided. */
  name: string;
  /** Plain entries for the name (markers excluded), for messages: on `changed`, the offending ones. */
  known: KnownHostEntry[];
  /** The entry that listed the key, on `match`; the @revoked line, on `revoked`. */
  found?: KnownHostEntry;
  /** @cert-authority lines naming the host: host certificates are not supported here. */
  certAuthorities: KnownHostEntry[];
  /** On `unknown` for a port other than 22: plain entries for the bare host, which list other keys. */
  portless: KnownHostEntry[];
}

/** The files OpenSSH reads when none is configured (readconf.c, fill_default_options). */
export interface KnownHostsFiles {
  /** UserKnownHostsFile: read, and the first one is where accept-new records a key. */
  user: string[];
  /** GlobalKnownHostsFile: read only. */
  system: string[];
}

// OpenSSH's default files, or the given file in place of the user's two (like -o UserKnownHostsFile=).
export function listKnownHostsFiles(home: string, userFile?: string): KnownHostsFiles {
  return {
    user: userFile ? [userFile] : [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')],
    system: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  };
}

// Read a known_hosts file's text into entries, reporting every line it cannot use.
export function parseKnownHosts(text: string, path = 'known_hosts'): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()?.slice(1);
      if (name !== 'cert-authority' && name !== 'revoked') {
        problems.push({ lineNumber, reason: `unknown marker @${name}` });
        return;
      }
      marker = name;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) {
      problems.push({ lineNumber, reason: 'expected "hosts keytype base64-key [comment]"' });
      return;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) {
      problems.push({ lineNumber, reason: 'key is not base64' });
      return;
    }
    const keyBlob = Buffer.from(keyBase64, 'base64');
    const embedded = readKeyType(keyBlob);
    if (embedded !== keyType) {
      problems.push({ lineNumber, reason: `key type ${keyType} does not match the key blob (${embedded ?? 'unreadable'})` });
      return;
    }
    if (hosts.startsWith('|') && !parseHashedHost(hosts)) {
      problems.push({ lineNumber, reason: 'hashed host is not |1|salt|hash' });
      return;
    }
    entries.push({ path, lineNumber, marker, hosts, keyType, keyBlob });
  });
  return { entries, problems };
}

// The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise.
export function buildKnownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** match.c keeps each subpattern in a 1024-byte buffer; a longer one fails the whole list. */
const MAX_SUBPATTERN = 1023;

// Whether an entry's host field names this host, following OpenSSH: negations win.
export function matchesHost(hostsField: string, host: string, port: number): boolean {
  return matchesName(hostsField, buildKnownHostsName(host, port).toLowerCase());
}

function matchesName(hostsField: string, name: string): boolean {
  if (hostsField.startsWith('|')) {
    const hashed = parseHashedHost(hostsField);
    if (!hashed) return false;
    const digest = createHmac('sha1', hashed.salt).update(name).digest();
    return digest.equals(hashed.hash);
  }
  let matched = false;
  for (const pattern of hostsField.split(',')) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (body.length >= MAX_SUBPATTERN) return false;
    if (!body || !globToRegExp(body).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

// What the entries (of every file read, user files first) say of the key a host offered:
// check_hostkeys_by_key_or_type for `[host]:port`, then, as check_host_key does for a port
// other than 22 that is not known, the bare host. Any plain entry for the name that does not
// list the key, of whatever type, makes it `changed` (OpenSSH's "Offending ... key").
export function lookupHostKey(entries: readonly KnownHostEntry[], target: { host: string; port: number; keyBlob: Buffer }): HostKeyLookup {
  const withPort = lookupName(entries, buildKnownHostsName(target.host, target.port).toLowerCase(), target.keyBlob);
  if (withPort.status !== 'unknown' || target.port === 22) return withPort;
  const bare = lookupName(entries, target.host.toLowerCase(), target.keyBlob);
  // OpenSSH skips a revoked key found under the bare name quietly and goes on as for a new
  // host; this suite refuses it.
  if (bare.status === 'match' || bare.status === 'revoked') return bare;
  return { ...withPort, certAuthorities: [...withPort.certAuthorities, ...bare.certAuthorities], portless: bare.known };
}

function lookupName(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyLookup {
  const forName = entries.filter((e) => matchesName(e.hosts, name));
  const known = forName.filter((e) => e.marker === undefined);
  const base = { name, known, certAuthorities: forName.filter((e) => e.marker === 'cert-authority'), portless: [] };
  const revoked = forName.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) return { ...base, status: 'revoked', found: revoked };
  const found = known.find((e) => e.keyBlob.equals(keyBlob));
  if (found) return { ...base, status: 'match', found };
  return { ...base, status: known.length > 0 ? 'changed' : 'unknown' };
}

/** ssh2 1.17's default host-key algorithms, most preferred first. */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

// Like OpenSSH, ask first for the key types known_hosts already has for the host, so that a
// server with several host keys offers the one we can check instead of an unknown one.
export function orderHostKeyAlgorithms(knownTypes: readonly string[]): string[] | undefined {
  const preferred = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const usable = [...new Set(preferred)].filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  if (usable.length === 0) return undefined;
  return [...usable, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !usable.includes(a))];
}

// Key types the entries list for a host (under `[host]:port`, else under the bare host), to order the algorithms with.
export function listKnownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const typesFor = (p: number) => entries.filter((e) => e.marker === undefined && matchesHost(e.hosts, host, p)).map((e) => e.keyType);
  const withPort = typesFor(port);
  return withPort.length > 0 || port === 22 ? withPort : typesFor(22);
}

// `SHA256:<base64, no padding>` of the raw key blob, exactly as `ssh-keygen -lf` prints it.
export function fingerprintKey(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

// The key type a raw SSH key blob declares in its first field, e.g. `ssh-ed25519`.
export function readKeyType(keyBlob: Buffer): string | undefined {
  if (keyBlob.length < 4) return undefined;
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return undefined;
  const type = keyBlob.subarray(4, 4 + length).toString('latin1');
  return /^[A-Za-z0-9@._-]+$/.test(type) ? type : undefined;
}

// One known_hosts line for a host and key, as accept-new appends it.
export function formatKnownHostsLine(host: string, port: number, keyBlob: Buffer): string {
  const type = readKeyType(keyBlob) ?? 'unknown';
  return `${buildKnownHostsName(host, port)} ${type} ${keyBlob.toString('base64')}`;
}

// Accept the common ways people write a pin: with or without `SHA256:`, with or without padding.
export function normalizeFingerprint(pin: string): string | undefined {
  const body = pin.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return /^[A-Za-z0-9+/]{43}$/.test(body) ? `SHA256:${body}` : undefined;
}

function parseHashedHost(field: string): { salt: Buffer; hash: Buffer } | undefined {
  const m = /^\|1\|([A-Za-z0-9+/]+=*)\|([A-Za-z0-9+/]+=*)$/.exec(field);
  if (!m?.[1] || !m[2]) return undefined;
  const salt = Buffer.from(m[1], 'base64');
  const hash = Buffer.from(m[2], 'base64');
  return salt.length === 20 && hash.length === 20 ? { salt, hash } : undefined;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
