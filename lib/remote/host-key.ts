// The host-key decision as a pure function of the offered key, the pins and the known_hosts
// texts, so every policy branch is tested without a server. The caller reads the files and
// appends the line that accept-new returns.
import type { HostKeyPin } from '../config/pod-model.ts';
import { HostKeyError } from './errors.ts';
import {
  fingerprintKey,
  formatKnownHostsLine,
  lookupHostKey,
  normalizeFingerprint,
  parseKnownHosts,
  readKeyType,
} from './known-hosts.ts';

/** strict: must match a pin; accept-new: like ssh StrictHostKeyChecking=accept-new; off: accept any. */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export const HOST_KEY_POLICIES: readonly HostKeyPolicy[] = ['strict', 'accept-new', 'off'];

export interface KnownHostsText {
  path: string;
  text: string;
}

export interface HostKeyCheck {
  /** Who is connecting, for messages: `node guest` or `jump host 10.0.0.1 of node guest`. */
  subject: string;
  /** Node name carried by the error. */
  node: string;
  host: string;
  port: number;
  offered: Buffer;
  policy: HostKeyPolicy;
  pin: HostKeyPin | undefined;
  /** Contents of pin.knownHosts, read by the caller. */
  pinKnownHosts: KnownHostsText | undefined;
  /** Contents of the run's known_hosts file (the accept-new target), if it exists. */
  runKnownHosts: KnownHostsText | undefined;
  /** Path accept-new appends to; unset means accept-new accepts for this session only. */
  runKnownHostsPath: string | undefined;
  /** Key accepted earlier in this session: a reconnect must see the same one. */
  remembered: Buffer | undefined;
}

export type HostKeyDecision =
  | { accept: true; note?: string; append?: { path: string; line: string } }
  | { accept: false; error: HostKeyError };

// Decide whether to trust the key a host offered, and what (if anything) to record.
export function decideHostKey(check: HostKeyCheck): HostKeyDecision {
  const offeredFp = fingerprintKey(check.offered);
  const offeredDesc = `${readKeyType(check.offered) ?? 'unknown-type'} ${offeredFp}`;
  const where = `${check.subject} (${check.host}:${check.port})`;
  const reject = (message: string, expected: string[]): HostKeyDecision => ({
    accept: false,
    error: new HostKeyError(check.node, message, { expected, offered: offeredFp }),
  });

  if (check.policy === 'off') {
    return { accept: true, note: `host key checking is off for ${where}: accepted ${offeredDesc}` };
  }
  if (check.remembered && !check.remembered.equals(check.offered)) {
    const was = fingerprintKey(check.remembered);
    return reject(`host key of ${where} changed during the run: expected ${was}, offered ${offeredDesc}`, [was]);
  }

  let pinned = false;
  if (check.pin?.fingerprint !== undefined) {
    const expected = normalizeFingerprint(check.pin.fingerprint);
    if (!expected) {
      return reject(
        `hostKey.fingerprint of ${check.subject} is not a SHA256 fingerprint as "ssh-keygen -lf" prints it ` +
          `(SHA256: and 43 base64 characters): ${JSON.stringify(check.pin.fingerprint)}`,
        [],
      );
    }
    if (expected !== offeredFp) {
      return reject(
        `host key of ${where} does not match hostKey.fingerprint: expected ${expected}, offered ${offeredDesc} ` +
          `(if the node has several host keys, pin its ${readKeyType(check.offered) ?? ''} one: ` +
          `ssh-keygen -lf /etc/ssh/ssh_host_${shortType(check.offered)}_key.pub)`,
        [expected],
      );
    }
    pinned = true;
  }

  for (const file of [check.pinKnownHosts, check.runKnownHosts]) {
    if (!file) continue;
    const { entries } = parseKnownHosts(file.text);
    const found = lookupHostKey(entries, { host: check.host, port: check.port, keyBlob: check.offered });
    const expected = found.known.map((e) => fingerprintKey(e.keyBlob));
    const listed = found.known.map((e) => `${e.keyType} ${fingerprintKey(e.keyBlob)} (line ${e.lineNumber})`);
    if (found.status === 'revoked') {
      return reject(`host key ${offeredDesc} of ${where} is marked @revoked in ${file.path}`, expected);
    }
    if (found.status === 'other-type') {
      return reject(
        `${file.path} lists only ${[...new Set(found.known.map((e) => e.keyType))].join(', ')} keys for ${where}, ` +
          `but it offered ${offeredDesc}; add that key to the file after checking it out of band`,
        expected,
      );
    }
    if (found.status === 'changed') {
      return reject(
        `host key of ${where} has CHANGED: ${file.path} expects ${listed.join(', ')}, offered ${offeredDesc}. ` +
          `If the node was reinstalled, remove the old entry (ssh-keygen -R) and check the new key out of band`,
        expected,
      );
    }
    if (found.status === 'match') pinned = true;
    else if (file === check.pinKnownHosts) {
      return reject(
        `${file.path} (hostKey.knownHosts of ${check.subject}) has no entry for ${where}; offered ${offeredDesc}`,
        [],
      );
    }
  }

  if (pinned) return { accept: true };
  if (check.policy === 'strict') {
    return reject(
      `no host key is pinned for ${where}, offered ${offeredDesc}: check it out of band, then set ` +
        `hostKey.fingerprint or hostKey.knownHosts in the pod file, or run with host-key policy accept-new`,
      [],
    );
  }
  const note = check.runKnownHostsPath
    ? `permanently added ${offeredDesc} for ${where} to ${check.runKnownHostsPath}`
    : `accepted new host key ${offeredDesc} for ${where} for this session (no known_hosts file to record it)`;
  const line = formatKnownHostsLine(check.host, check.port, check.offered);
  return check.runKnownHostsPath
    ? { accept: true, note, append: { path: check.runKnownHostsPath, line } }
    : { accept: true, note };
}

function shortType(blob: Buffer): string {
  const type = readKeyType(blob) ?? '';
  if (type.startsWith('ecdsa')) return 'ecdsa';
  return type.replace(/^ssh-/, '');
}
