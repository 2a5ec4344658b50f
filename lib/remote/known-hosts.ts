// OpenSSH known_hosts files and key fingerprints, as pure functions, so that host-key
// checking can be tested on recorded files without a server (format: sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"; hashing: ssh-keygen -H, HMAC-SHA1 keyed with the salt).
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
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

/** other-type: the host is known, but only by keys of other types than the one it offered. */
export type HostKeyLookupStatus = 'match' | 'changed' | 'other-type' | 'revoked' | 'unknown';

export interface HostKeyLookup {
  status: HostKeyLookupStatus;
  /** Usable entries for the host (cert-authority lines excluded), for error messages. */
  known: KnownHostEntry[];
}

// Read a known_hosts file's text into entries, reporting every line it cannot use.
export function parseKnownHosts(text: string): ParsedKnownHosts {
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
    entries.push({ lineNumber, marker, hosts, keyType, keyBlob });
  });
  return { entries, problems };
}

// The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise.
export function buildKnownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// Whether an entry's host field names this host, following OpenSSH: negations win.
export function matchesHost(hostsField: string, host: string, port: number): boolean {
  const name = buildKnownHostsName(host, port).toLowerCase();
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
    if (!body || !globToRegExp(body).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

// Decide what a known_hosts file says about the key a host offered.
export function lookupHostKey(
  entries: readonly KnownHostEntry[],
  target: { host: string; port: number; keyBlob: Buffer },
): HostKeyLookup {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && matchesHost(e.hosts, target.host, target.port));
  const revoked = forHost.some((e) => e.marker === 'revoked' && e.keyBlob.equals(target.keyBlob));
  const known = forHost.filter((e) => e.marker === undefined);
  if (revoked) return { status: 'revoked', known };
  if (known.some((e) => e.keyBlob.equals(target.keyBlob))) return { status: 'match', known };
  if (known.length === 0) return { status: 'unknown', known };
  const type = readKeyType(target.keyBlob);
  return { status: known.some((e) => e.keyType === type) ? 'changed' : 'other-type', known };
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

// Key types the entries list for a host, to order the algorithms with.
export function listKnownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  return entries.filter((e) => e.marker === undefined && matchesHost(e.hosts, host, port)).map((e) => e.keyType);
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
