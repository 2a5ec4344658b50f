// Shell scripts for the pod lock on one node. Pure string builders, unit-tested, run by
// lib/lock/pod-lock.ts through NodeSession.exec({ script }).
//
// Layout on the node (lockDir defaults to /run/kvmfornfv: tmpfs, so a reboot frees it):
//   <lockDir>/.mutex              flock(1) target; every script below holds it while it looks
//                                 and acts, so check-then-break can never race another run
//   <lockDir>/<name>.lock/        the lock itself; `mkdir` creates it atomically
//   <lockDir>/<name>.lock/token   the holder's random token: only the holder may renew or remove
//   <lockDir>/<name>.lock/owner.json   who holds it (run id, BUILD_TAG, host, pid, since when)
//   <lockDir>/<name>.lock/heartbeat    touched by the holder; its age (node clock) is the lease
//
// Every script prints one status line `KFN-LOCK <state> key=value...`, then for a held lock
// the owner record. Exit status is 0 whenever that line was printed.
import { quoteArg } from '../remote/quote.ts';

export const LOCK_MARKER = 'KFN-LOCK';
export const DEFAULT_LOCK_DIR = '/run/kvmfornfv';
/** How long a script waits for another run's script to leave the mutex. */
const MUTEX_WAIT_S = 15;

const SAFE_DIR = /^\/[A-Za-z0-9._/-]*$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SAFE_TOKEN = /^[a-f0-9]{16,64}$/;

export interface LockPaths {
  dir: string;
  mutex: string;
  lock: string;
}

// The paths end up in `rm -rf`: refuse anything relative, dotted or odd before building a script.
export function buildLockPaths(lockDir: string, name = 'pod'): LockPaths {
  const dir = lockDir.replace(/\/+$/, '');
  if (!SAFE_DIR.test(dir) || dir === '' || dir.split('/').some((p) => p === '..' || p === '.')) {
    throw new TypeError(`lock directory must be an absolute path of plain names, got ${JSON.stringify(lockDir)}`);
  }
  if (!SAFE_NAME.test(name)) throw new TypeError(`lock name must match ${SAFE_NAME}, got ${JSON.stringify(name)}`);
  return { dir, mutex: `${dir}/.mutex`, lock: `${dir}/${name}.lock` };
}

function checkToken(token: string): string {
  if (!SAFE_TOKEN.test(token)) throw new TypeError(`lock token must be 16-64 lowercase hex digits, got ${JSON.stringify(token)}`);
  return token;
}

// Shared head: variables, the lock directory, and the mutex held until the script exits.
function prologue(p: LockPaths): string[] {
  const q = quoteArg;
  return [
    `dir=${q(p.dir)}; lock=${q(p.lock)}`,
    `command -v flock >/dev/null 2>&1 || { echo '${LOCK_MARKER} error reason=flock-missing'; echo 'flock (util-linux) is not installed on this node'; exit 3; }`,
    `mkdir -p "$dir" 2>/dev/null || { echo '${LOCK_MARKER} error reason=mkdir'; echo "cannot create $dir as $(id -un)"; exit 3; }`,
    `exec 9>>"$dir/.mutex" || { echo '${LOCK_MARKER} error reason=mutex'; echo "cannot open $dir/.mutex as $(id -un)"; exit 3; }`,
    `flock -w ${MUTEX_WAIT_S} 9 || { echo '${LOCK_MARKER} error reason=mutex-timeout'; echo "another lock script held $dir/.mutex for ${MUTEX_WAIT_S} s"; exit 3; }`,
    `now=$(date +%s)`,
    `tok=$(cat "$lock/token" 2>/dev/null || true)`,
    // Without a heartbeat file (a holder killed mid-acquire) the directory's own age counts.
    `hb=$(stat -c %Y "$lock/heartbeat" 2>/dev/null || stat -c %Y "$lock" 2>/dev/null || true)`,
  ];
}

function heldReport(state: string): string {
  return `{ echo "${LOCK_MARKER} ${state} now=$now heartbeat=$hb token=$tok"; cat "$lock/owner.json" 2>/dev/null; exit 0; }`;
}

export interface AcquireScriptInput {
  paths: LockPaths;
  token: string;
  /** The owner record, written as is (one line of JSON). */
  ownerJson: string;
  /**
   * Break the current lock first, but only if it still carries this token and, for
   * `lease-expired`, its heartbeat is still older than leaseS: rechecked under the mutex.
   */
  breakStale?: { token: string; rule: 'lease-expired' | 'owner-dead'; leaseS: number };
}

// Takes the lock if free (or already ours); otherwise reports who holds it.
export function buildAcquireScript(input: AcquireScriptInput): string {
  const q = quoteArg;
  const token = checkToken(input.token);
  if (input.ownerJson.includes('\n')) throw new TypeError('owner record must be one line of JSON');
  const lines = prologue(input.paths);
  lines.push(`[ -n "$tok" ] && [ "$tok" = ${q(token)} ] && { echo "${LOCK_MARKER} ours now=$now"; touch "$lock/heartbeat"; exit 0; }`);
  const stale = input.breakStale;
  if (stale) {
    const expected = stale.token === '' ? "''" : q(checkToken(stale.token));
    if (!Number.isInteger(stale.leaseS) || stale.leaseS < 1) throw new TypeError(`leaseS must be a positive integer, got ${stale.leaseS}`);
    lines.push(`if [ -d "$lock" ]; then`);
    lines.push(`  [ "$tok" = ${expected} ] || ${heldReport('held')}`);
    if (stale.rule === 'lease-expired') {
      lines.push(`  [ -n "$hb" ] && [ $((now - hb)) -gt ${stale.leaseS} ] || ${heldReport('held')}`);
    }
    lines.push(`  cat "$lock/owner.json" 2>/dev/null | sed 's/^/broken-owner: /' >&2`);
    lines.push(`  rm -rf "$lock" || { echo '${LOCK_MARKER} error reason=break'; echo "cannot remove $lock"; exit 3; }`);
    lines.push(`fi`);
  }
  lines.push(
    `if mkdir "$lock" 2>/dev/null; then`,
    `  if printf '%s' ${q(token)} > "$lock/token" && printf '%s\\n' ${q(input.ownerJson)} > "$lock/owner.json" && : > "$lock/heartbeat"; then`,
    `    echo "${LOCK_MARKER} acquired now=$now${stale ? ' broken=1' : ''}"; exit 0`,
    `  fi`,
    `  rm -rf "$lock"; echo '${LOCK_MARKER} error reason=write'; echo "cannot write the owner record in $lock"; exit 3`,
    `fi`,
    `tok=$(cat "$lock/token" 2>/dev/null || true)`,
    `hb=$(stat -c %Y "$lock/heartbeat" 2>/dev/null || stat -c %Y "$lock" 2>/dev/null || true)`,
    heldReport('held'),
  );
  return lines.join('\n');
}

// Renews the lease, only while the lock is still ours; reports `lost` otherwise.
export function buildHeartbeatScript(paths: LockPaths, token: string): string {
  const lines = prologue(paths);
  lines.push(`[ -n "$tok" ] && [ "$tok" = ${quoteArg(checkToken(token))} ] && touch "$lock/heartbeat" && { echo "${LOCK_MARKER} renewed now=$now"; exit 0; }`);
  lines.push(`[ -d "$lock" ] && ${heldReport('lost')}`);
  lines.push(`echo "${LOCK_MARKER} lost now=$now"`);
  return lines.join('\n');
}

// Removes the lock only if it is ours: a run whose lease expired must not free its successor's lock.
export function buildReleaseScript(paths: LockPaths, token: string): string {
  const lines = prologue(paths);
  lines.push(`[ -d "$lock" ] || { echo "${LOCK_MARKER} absent now=$now"; exit 0; }`);
  lines.push(`[ "$tok" = ${quoteArg(checkToken(token))} ] || ${heldReport('not-ours')}`);
  lines.push(`rm -rf "$lock" || { echo '${LOCK_MARKER} error reason=remove'; echo "cannot remove $lock"; exit 3; }`);
  lines.push(`echo "${LOCK_MARKER} released now=$now"`);
  return lines.join('\n');
}
