// The host-key decision as a pure function of the offered key, the pins and the known_hosts
// texts, so every policy branch is tested without a server. The caller reads the files and
// appends the line that accept-new returns.
//
// Precedence: a key pinned for the node (pod.yaml's host_key, which the lab pod writes too)
// decides alone; without one, OpenSSH's files decide with OpenSSH's semantics (the user's
// ~/.ssh/known_hosts{,2} or --known-hosts, then /etc/ssh/ssh_known_hosts{,2}), so a stale
// ~/.ssh/known_hosts line can never break a pinned node.
import type { HostKeyPin } from '../config/pod-model.ts';
import { HostKeyError } from './errors.ts';
import { fingerprintKey, formatKnownHostsLine, lookupHostKey, normalizeFingerprint, parseKnownHosts, readKeyType, type HostKeyLookup } from './known-hosts.ts';

/** strict: must match a pin or known_hosts; accept-new: like ssh StrictHostKeyChecking=accept-new; off: accept any. */
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
  /** OpenSSH's files that exist, user files first; read only when nothing is pinned. */
  knownHostsFiles: KnownHostsText[];
  /** Every file looked for, and why one that exists could not be read, for the "not found" message. */
  searched: { path: string; problem?: string }[];
  /** Where accept-new records a key (OpenSSH's first user file); unset: for this session only. */
  appendPath: string | undefined;
  /** Key accepted earlier in this session: a reconnect must see the same one. */
  remembered: Buffer | undefined;
}

export type HostKeyDecision =
  | { accept: true; note?: string; append?: { path: string; line: string } }
  | { accept: false; error: HostKeyError };

interface Context {
  check: HostKeyCheck;
  where: string;
  offeredFp: string;
  offeredDesc: string;
  reject: (message: string, expected: string[]) => HostKeyDecision;
}

// Decide whether to trust the key a host offered, and what (if anything) to record.
export function decideHostKey(check: HostKeyCheck): HostKeyDecision {
  const offeredFp = fingerprintKey(check.offered);
  const ctx: Context = {
    check,
    offeredFp,
    offeredDesc: `${readKeyType(check.offered) ?? 'unknown-type'} ${offeredFp}`,
    where: `${check.subject} (${check.host}:${check.port})`,
    reject: (message, expected) => ({ accept: false, error: new HostKeyError(check.node, message, { expected, offered: offeredFp }) }),
  };
  if (check.policy === 'off') return { accept: true, note: `host key checking is off for ${ctx.where}: accepted ${ctx.offeredDesc}` };
  if (check.remembered && !check.remembered.equals(check.offered)) {
    const was = fingerprintKey(check.remembered);
    return ctx.reject(`host key of ${ctx.where} changed during the run: expected ${was}, offered ${ctx.offeredDesc}`, [was]);
  }
  if (check.pin?.fingerprint !== undefined) return decideByFingerprint(ctx, check.pin.fingerprint);
  if (check.pinKnownHosts) return decideByPinnedFile(ctx, check.pinKnownHosts);
  return decideByOpenSshFiles(ctx);
}

function decideByFingerprint(ctx: Context, pin: string): HostKeyDecision {
  const { check } = ctx;
  const expected = normalizeFingerprint(pin);
  if (!expected) {
    return ctx.reject(`hostKey.fingerprint of ${check.subject} is not a SHA256 fingerprint as "ssh-keygen -lf" prints it (SHA256: and 43 base64 characters): ${JSON.stringify(pin)}`, []);
  }
  if (expected === ctx.offeredFp) return { accept: true };
  return ctx.reject(
    `host key of ${ctx.where} does not match hostKey.fingerprint: expected ${expected}, offered ${ctx.offeredDesc} ` +
      `(if the node has several host keys, pin its ${readKeyType(check.offered) ?? ''} one: ssh-keygen -lf /etc/ssh/ssh_host_${shortType(check.offered)}_key.pub)`,
    [expected],
  );
}

function decideByPinnedFile(ctx: Context, file: KnownHostsText): HostKeyDecision {
  const found = lookupHostKey(parseKnownHosts(file.text, file.path).entries, { host: ctx.check.host, port: ctx.check.port, keyBlob: ctx.check.offered });
  if (found.status === 'match') return { accept: true };
  if (found.status !== 'unknown') return rejectKnown(ctx, found);
  return ctx.reject(`${file.path} (hostKey.knownHosts of ${ctx.check.subject}) has no entry for ${ctx.where}; offered ${ctx.offeredDesc}${describeUnusable(found)}`, []);
}

function decideByOpenSshFiles(ctx: Context): HostKeyDecision {
  const { check } = ctx;
  const entries = check.knownHostsFiles.flatMap((f) => parseKnownHosts(f.text, f.path).entries);
  const found = lookupHostKey(entries, { host: check.host, port: check.port, keyBlob: check.offered });
  if (found.status === 'match') return { accept: true };
  if (found.status !== 'unknown') return rejectKnown(ctx, found);
  if (check.policy === 'strict') {
    const looked = check.searched.map((s) => (s.problem ? `${s.path} (${s.problem})` : s.path)).join(', ');
    return ctx.reject(
      `no host key is known for ${ctx.where}, offered ${ctx.offeredDesc}: not pinned in the pod file, and not in ${looked || 'any known_hosts file'}` +
        `${describeUnusable(found)}. Check the key out of band, then add it (ssh-keyscan -p ${check.port} ${check.host} >> ~/.ssh/known_hosts), ` +
        'or set host_key.fingerprint or host_key.known_hosts in the pod file, or run with --host-key-policy accept-new',
      [],
    );
  }
  const line = formatKnownHostsLine(check.host, check.port, check.offered);
  if (!check.appendPath) return { accept: true, note: `accepted new host key ${ctx.offeredDesc} for ${ctx.where} for this session (no known_hosts file to record it)` };
  return { accept: true, note: `permanently added ${ctx.offeredDesc} for ${ctx.where} to ${check.appendPath}`, append: { path: check.appendPath, line } };
}

// Revoked or changed: refused under every policy but off, loudly, naming the lines.
function rejectKnown(ctx: Context, found: HostKeyLookup): HostKeyDecision {
  const expected = found.known.map((e) => fingerprintKey(e.keyBlob));
  if (found.status === 'revoked') {
    const at = found.found ? `${found.found.path}:${found.found.lineNumber}` : 'known_hosts';
    return ctx.reject(`REVOKED host key: ${ctx.offeredDesc} of ${ctx.where} is marked @revoked at ${at}; refusing to connect`, expected);
  }
  const listed = found.known.map((e) => `${e.keyType} ${fingerprintKey(e.keyBlob)} (${e.path}:${e.lineNumber})`);
  const otherType = found.known.every((e) => e.keyType !== readKeyType(ctx.check.offered)) ? ` (no ${readKeyType(ctx.check.offered)} key is listed: the node may have dropped the listed key type)` : '';
  return ctx.reject(
    `host key of ${ctx.where} has CHANGED: known_hosts lists ${listed.join(', ')} for ${found.name}, offered ${ctx.offeredDesc}${otherType}. ` +
      `Someone could be intercepting the connection, or the node was reinstalled: check the new key out of band, then remove the old entry (ssh-keygen -R '${found.name}' -f FILE)`,
    expected,
  );
}

// Why a host with lines in the files is still unknown: CA lines, or a bare-host entry for another key.
function describeUnusable(found: HostKeyLookup): string {
  const parts: string[] = [];
  for (const ca of found.certAuthorities) {
    parts.push(`${ca.path}:${ca.lineNumber} is a @cert-authority line for this host, but host certificates are not supported by this suite: list the host's own key instead`);
  }
  if (found.portless.length > 0) {
    const at = found.portless.map((e) => `${e.path}:${e.lineNumber}`).join(', ');
    const bareHost = found.name.replace(/^\[(.*)\]:\d+$/, '$1');
    parts.push(`${at} list${found.portless.length === 1 ? 's' : ''} another key for ${bareHost} without the port, which OpenSSH ignores for port ${found.name.replace(/^.*:/, '')}`);
  }
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

function shortType(blob: Buffer): string {
  const type = readKeyType(blob) ?? '';
  if (type.startsWith('ecdsa')) return 'ecdsa';
  return type.replace(/^ssh-/, '');
}
