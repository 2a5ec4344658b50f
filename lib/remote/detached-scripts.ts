// Shell scripts for measurements that must outlive the SSH session. Files per process in
// runDir: <name>.pid (the command's own pid), <name>.out, <name>.err, <name>.rc (written by
// the wrapper when the command exits) and <name>.t0/<name>.t1 (the node's clock, in ms since
// the epoch, just before the command starts and just after it ends: its measurement window).
// Pure string builders, so they are unit-tested.
import { quoteArg } from './quote.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface DetachedPaths {
  pid: string;
  stdout: string;
  stderr: string;
  rc: string;
  /** Node clock (ms since the epoch) just before the command is exec'd. */
  started: string;
  /** Node clock just after the command exited, written before rc. */
  ended: string;
}

// Refuse names that could escape runDir or collide with the file suffixes.
export function validateDetachedName(name: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(`detached process name must match ${NAME}: ${JSON.stringify(name)}`);
  }
}

// Refuse run directories that `rm -rf` could turn into a disaster.
export function validateRunDir(runDir: string): void {
  if (!/^\/([A-Za-z0-9._-]+\/)*kfn-[A-Za-z0-9._-]+$/.test(runDir) || runDir.includes('/../') || runDir.includes('/./')) {
    throw new TypeError(`runDir must be an absolute path whose last part starts with kfn-: ${JSON.stringify(runDir)}`);
  }
}

export function buildDetachedPaths(runDir: string, name: string): DetachedPaths {
  const base = `${runDir}/${name}`;
  return { pid: `${base}.pid`, stdout: `${base}.out`, stderr: `${base}.err`, rc: `${base}.rc`, started: `${base}.t0`, ended: `${base}.t1` };
}

// Create runDir owned by the login user, mode 700, and refuse one someone else planted in /tmp.
export function buildEnsureRunDirScript(runDir: string): string {
  const d = quoteArg(runDir);
  return [
    `[ -d ${d} ] || mkdir -m 700 ${d} || exit 1`,
    `if [ -L ${d} ] || [ ! -O ${d} ]; then echo "run directory ${runDir} exists but is not owned by $(id -un)" >&2; exit 1; fi`,
  ].join('\n');
}

/**
 * Start `commandString` detached: `setsid -f` puts the wrapper in its own session (no SIGHUP
 * when SSH drops, and unlike `&` it keeps SIGINT deliverable); the wrapper ignores HUP like
 * nohup, writes the command's pid before exec'ing it, and writes the exit code afterwards.
 * Prints the pid. Without util-linux `setsid -f`, falls back to a background job, where
 * shell scripts cannot trap SIGINT (tools that install handlers, like cyclictest, still can).
 */
export function buildStartScript(options: { runDir: string; name: string; commandString: string }): string {
  const p = buildDetachedPaths(options.runDir, options.name);
  const q = quoteArg;
  // GNU date's %3N gives milliseconds; a date without it writes something parseOutcomeStamps refuses.
  const stamp = (file: string) => `date +%s%3N > ${q(file)} 2>/dev/null`;
  // t0 before the pid file: the start command has returned (it waits for that file) before the
  // measurement begins, so nothing it forks falls inside the measurement.
  const inner = `${stamp(p.started)}; echo $$ > ${q(p.pid + '.tmp')} && mv -f ${q(p.pid + '.tmp')} ${q(p.pid)} && exec ${options.commandString}`;
  const wrapper = [
    `trap '' HUP`,
    `cd ${q(options.runDir)} || exit 1`,
    `sh -c ${q(inner)} </dev/null >${q(p.stdout)} 2>${q(p.stderr)}`,
    `rc=$?; ${stamp(p.ended)}`,
    `echo $rc > ${q(p.rc + '.tmp')} && mv -f ${q(p.rc + '.tmp')} ${q(p.rc)}`,
  ].join('\n');
  return [
    `if [ -e ${q(p.pid)} ] || [ -e ${q(p.rc)} ]; then echo "a detached process named ${options.name} already exists in ${options.runDir}" >&2; exit 3; fi`,
    `if setsid -f true </dev/null >/dev/null 2>&1; then`,
    `  setsid -f sh -c ${q(wrapper)} </dev/null >/dev/null 2>&1`,
    `else`,
    `  ( trap '' HUP; setsid sh -c ${q(wrapper)} </dev/null >/dev/null 2>&1 & )`,
    `fi`,
    `i=0; while [ ! -s ${q(p.pid)} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`,
    `[ -s ${q(p.pid)} ] || { echo "detached process ${options.name} wrote no pid file within 5 s" >&2; exit 4; }`,
    `cat ${q(p.pid)}`,
  ].join('\n');
}

// Parse the pid the start script printed.
export function parseStartedPid(stdout: string): number | undefined {
  const m = /^(\d+)\s*$/.exec(stdout.trim());
  const pid = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

// Running means: no exit code written yet and the pid is alive (the rc file guards against pid reuse).
export function buildIsRunningScript(options: { runDir: string; name: string; pid: number }): string {
  const p = buildDetachedPaths(options.runDir, options.name);
  return `if [ ! -e ${quoteArg(p.rc)} ] && kill -0 ${checkPid(options.pid)} 2>/dev/null; then echo running; else echo exited; fi`;
}

/**
 * Stop every process with a pid file and no rc file in runDir (also ones another harness
 * process started), SIGINT first, SIGKILL after the grace, then remove runDir. Idempotent.
 * Prints `killed:<pids>` for the pids that needed SIGKILL.
 */
export function buildCleanupScript(options: { runDir: string; graceMs: number }): string {
  const d = quoteArg(options.runDir);
  const ticks = Math.max(1, Math.ceil(options.graceMs / 100));
  return [
    `[ -d ${d} ] || exit 0`,
    `pids=""`,
    `for f in ${d}/*.pid; do`,
    `  [ -f "$f" ] || continue`,
    `  [ -e "\${f%.pid}.rc" ] && continue`,
    `  p=$(cat "$f" 2>/dev/null)`,
    `  case "$p" in ''|*[!0-9]*) continue;; esac`,
    `  kill -INT "$p" 2>/dev/null && pids="$pids $p"`,
    `done`,
    ...buildAwaitPidsLines(ticks),
    `for p in $pids; do kill -KILL "$p" 2>/dev/null; done`,
    // Let the wrappers write their rc files before the directory goes.
    `[ -n "$pids" ] && sleep 0.3`,
    `echo "killed:$pids"`,
    `rm -rf ${d} || { sleep 0.5; rm -rf ${d}; }`,
  ].join('\n');
}

/** Shell lines that wait up to `ticks` × 0.1 s for the pids in $pids to end; $pids then holds the survivors. */
export function buildAwaitPidsLines(ticks: number): string[] {
  return [
    `i=0`,
    `while [ -n "$pids" ] && [ $i -lt ${ticks} ]; do`,
    `  alive=""; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done`,
    `  pids=$alive; [ -z "$pids" ] && break; sleep 0.1; i=$((i+1))`,
    `done`,
  ];
}

/** A process's lifetime on the node's own clock, in ms since the epoch. */
export interface NodeWindow {
  startMs: number;
  endMs: number;
}

// The two stamps of a process (its .t0 and .t1 files): a window only when both are whole ms
// since the epoch (13 digits) and in order; anything else (a date without %N, a stamp missing)
// gives no window rather than a wrong one.
export function parseWindowStamps(t0: string, t1: string): NodeWindow | undefined {
  const ms = (v: string) => (/^\d{13}$/.test(v.trim()) ? Number(v.trim()) : undefined);
  const [startMs, endMs] = [ms(t0), ms(t1)];
  return startMs !== undefined && endMs !== undefined && endMs >= startMs ? { startMs, endMs } : undefined;
}

// Refuse anything that is not a pid a signal may go to (0, 1 and negatives reach groups or init).
export function checkPid(pid: number): number {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new TypeError(`not a pid to signal: ${pid}`);
  return pid;
}
