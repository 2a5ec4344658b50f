// The undo log kept on each node, so that a run killed with SIGKILL (or whose harness machine
// died) can be undone by the next run, or by `kvmfornfv-test cleanup`, from what it recorded on
// the node itself. Pure string builders and one parser, unit-tested and run in a real shell.
//
// Layout (root defaults to /run/kvmfornfv/undo: tmpfs, gone with a reboot, like most changes):
//   <root>/<run id>/<node>/context   boot id and network namespace of the node's shell: a lab's
//                                    nodes share one file system, each replays only its own log
//   <root>/<run id>/<node>/rundir    the run's folder on the node, whose <name>.pid files name
//                                    the detached processes (cyclictest, testpmd, kfn-*, QEMU)
//   <root>/<run id>/<node>/since     uptime (s) when the log was opened: a pid that started
//                                    earlier is not this run's, whatever its pid file says
//   <root>/<run id>/<node>/undo/NNNNNN.sh   one undo command each, `# <label>` first, written
//                                    BEFORE the change is made and removed once it was undone
//
// A log belongs to the run holding the node's pod lock; every other log on the node is a dead
// run's. Scripts print `KFN-UNDO <event> ...` lines, one per event.
import { buildAwaitPidsLines } from '../remote/detached-scripts.ts';
import { quoteArg } from '../remote/quote.ts';

export const UNDO_MARKER = 'KFN-UNDO';
export const DEFAULT_UNDO_ROOT = '/run/kvmfornfv/undo';
/** How long one recorded undo command may run during a recovery. */
const ENTRY_TIMEOUT_S = 120;

const SAFE_ROOT = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;
/** Run ids (makeRunId) and pod.yaml node names; also what a recovery accepts from the node. */
const SAFE_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface JournalPaths {
  root: string;
  /** <root>/<run id>/<node> */
  dir: string;
}

// Every part ends up in `rm -rf`: refuse anything that is not a plain absolute path and plain names.
export function buildJournalPaths(root: string, runId: string, node: string): JournalPaths {
  const r = root.replace(/\/+$/, '');
  if (!SAFE_ROOT.test(r) || r.split('/').some((p) => p === '..' || p === '.')) throw new TypeError(`undo log root must be an absolute path of plain names, got ${JSON.stringify(root)}`);
  for (const [what, part] of [['run id', runId], ['node name', node]] as const) {
    if (!SAFE_PART.test(part)) throw new TypeError(`${what} for the undo log must match ${SAFE_PART}, got ${JSON.stringify(part)}`);
  }
  return { root: r, dir: `${r}/${runId}/${node}` };
}

/** The one-line shell that prints the node's context: boot id and network namespace. */
const CONTEXT = `printf '%s %s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)" "$(readlink /proc/self/ns/net 2>/dev/null || echo unknown)"`;

// Creates the node's log for this run (mode 700, root's), before the run starts anything there.
export function buildOpenJournalScript(paths: JournalPaths, runDir: string): string {
  const d = quoteArg(paths.dir);
  return [
    'set -e',
    'umask 077',
    `mkdir -p ${d}/undo`,
    `${CONTEXT} > ${d}/context`,
    `printf '%s\\n' ${quoteArg(runDir)} > ${d}/rundir`,
    `cut -d' ' -f1 /proc/uptime > ${d}/since`,
    `echo "${UNDO_MARKER} opened ${paths.dir}"`,
  ].join('\n');
}

/** The file an entry is kept in; `seq` orders the replay. */
export function entryName(seq: number): string {
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999) throw new TypeError(`undo entry number must be 1-999999, got ${seq}`);
  return `${String(seq).padStart(6, '0')}.sh`;
}

// The entry as written: its label on the first line (one line, for reports), then the command.
export function buildEntryContent(label: string, command: string): string {
  if (command.includes('\0')) throw new TypeError('an undo command cannot hold a NUL byte');
  return `# ${label.replace(/[\r\n]+/g, ' ')}\n${command}\n`;
}

// Writes the entry from stdin to a temporary file and renames it: a half entry is never replayed.
export function buildRecordEntryScript(paths: JournalPaths, seq: number): string {
  const d = quoteArg(paths.dir);
  const name = entryName(seq);
  return [
    `[ -d ${d}/undo ] || { echo "no undo log ${paths.dir} on this node" >&2; exit 3; }`,
    `cat > ${d}/undo/${name}.tmp && mv -f ${d}/undo/${name}.tmp ${d}/undo/${name}`,
  ].join('\n');
}

// The change was undone by the harness itself: nothing left to replay for it.
export function buildEntryDoneScript(paths: JournalPaths, seq: number): string {
  return `rm -f ${quoteArg(paths.dir)}/undo/${entryName(seq)}`;
}

// At the end of a run: the log goes once nothing is left in it; entries whose undo failed stay,
// for the next run or `cleanup` to try again.
export function buildCloseJournalScript(paths: JournalPaths): string {
  const d = quoteArg(paths.dir);
  return [
    `[ -d ${d} ] || exit 0`,
    `left=$(ls ${d}/undo 2>/dev/null | grep -c '\\.sh$' || true)`,
    `if [ "$left" -gt 0 ]; then echo "${UNDO_MARKER} kept ${paths.dir} $left"; exit 0; fi`,
    `rm -rf ${d}`,
    `rmdir ${quoteArg(paths.dir.slice(0, paths.dir.lastIndexOf('/')))} 2>/dev/null || true`,
    `echo "${UNDO_MARKER} closed ${paths.dir}"`,
  ].join('\n');
}

export interface RecoverScriptInput {
  root: string;
  /** The run holding the node's lock now. */
  ownRunId: string;
  /** `others`: every other run's log (dead runs); `own`: this run's (the forced exit). */
  which: 'others' | 'own';
  /** How long stopped processes get after SIGINT before SIGKILL. */
  graceMs: number;
}

/**
 * Replays the logs of this node (same boot, same network namespace): stops the processes the
 * run's pid files name (only ones in this namespace, started after the log was opened), runs each
 * undo command newest first (removing it once it worked), then removes the run folder (unless
 * another log still names it) and the log once it is empty.
 */
export function buildRecoverScript(input: RecoverScriptInput): string {
  const root = quoteArg(buildJournalPaths(input.root, 'x', 'x').root);
  if (!SAFE_PART.test(input.ownRunId)) throw new TypeError(`run id must match ${SAFE_PART}, got ${JSON.stringify(input.ownRunId)}`);
  const ticks = Math.max(1, Math.ceil(input.graceMs / 100));
  const M = UNDO_MARKER;
  const skipRun = input.which === 'others' ? `[ "$run" = ${quoteArg(input.ownRunId)} ] && continue` : `[ "$run" = ${quoteArg(input.ownRunId)} ] || continue`;
  return [
    `root=${root}`,
    `ctx=$(${CONTEXT})`,
    `net=\${ctx#* }`,
    `tck=$(getconf CLK_TCK 2>/dev/null || echo 100)`,
    `if command -v timeout >/dev/null 2>&1; then limit="timeout ${ENTRY_TIMEOUT_S}"; else limit=''; fi`,
    `for j in "$root"/*/*; do`,
    `  [ -f "$j/context" ] || continue`,
    `  node=\${j##*/}; run=\${j%/*}; run=\${run##*/}`,
    // Names come from the node's file system: only plain ones are acted on.
    `  case "$run$node" in *[!A-Za-z0-9._-]*) continue;; esac`,
    `  ${skipRun}`,
    `  [ "$(cat "$j/context")" = "$ctx" ] || continue`,
    `  echo "${M} journal $run $node"`,
    `  rd=$(cat "$j/rundir" 2>/dev/null)`,
    `  case "$rd" in /*/kfn-*) ;; *) rd='';; esac`,
    `  case "$rd" in *..*|*[!A-Za-z0-9._/-]*) rd='';; esac`,
    // since is seconds with two decimals (/proc/uptime); a process of the run started at or after it.
    `  s=$(cat "$j/since" 2>/dev/null); s=\${s%%.*}$(printf '%.2s' "\${s#*.}00"); case "$s" in ''|*[!0-9]*) s=0;; esac`,
    `  first=$(( s * tck / 100 - 1 ))`,
    `  pids=''`,
    `  if [ -n "$rd" ] && [ -d "$rd" ]; then`,
    `    for f in "$rd"/*.pid; do`,
    `      [ -f "$f" ] || continue`,
    `      [ -e "\${f%.pid}.rc" ] && continue`,
    `      p=$(cat "$f" 2>/dev/null); case "$p" in ''|*[!0-9]*) continue;; esac`,
    `      [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$net" ] || continue`,
    `      st=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -d' ' -f20); case "$st" in ''|*[!0-9]*) continue;; esac`,
    `      [ "$st" -ge "$first" ] || continue`,
    `      kill -INT "$p" 2>/dev/null && pids="$pids $p" && echo "${M} stopped $p $(basename "$f" .pid)"`,
    `    done`,
    `  fi`,
    ...buildAwaitPidsLines(ticks).map((l) => `  ${l}`),
    `  for p in $pids; do kill -KILL "$p" 2>/dev/null && echo "${M} killed $p"; done`,
    `  for e in $(ls -r "$j/undo" 2>/dev/null | grep '^[0-9]*\\.sh$'); do`,
    `    label=$(sed -n '1s/^# //p' "$j/undo/$e")`,
    `    if out=$($limit sh "$j/undo/$e" 2>&1 </dev/null); then rm -f "$j/undo/$e"; echo "${M} undone \${e%.sh} $label"`,
    `    else echo "${M} failed \${e%.sh} $label :: $(printf '%s' "$out" | tr '\\n' ' ' | tail -c 300)"; fi`,
    `  done`,
    `  left=$(ls "$j/undo" 2>/dev/null | grep -c '\\.sh$' || true)`,
    `  if [ "$left" -gt 0 ]; then echo "${M} kept $run $node $left"; continue; fi`,
    `  if [ -n "$rd" ] && ! grep -qxF -- "$rd" $(ls -d "$root"/*/*/rundir 2>/dev/null | grep -vxF -- "$j/rundir") /dev/null; then rm -rf -- "$rd"; fi`,
    `  rm -rf -- "$j"; rmdir -- "\${j%/*}" 2>/dev/null`,
    `  echo "${M} removed $run $node"`,
    `done`,
    `echo "${M} end"`,
  ].join('\n');
}

export interface RecoveredLog {
  runId: string;
  node: string;
  /** `<pid> <name>` of each process stopped, `<pid>` of each that needed SIGKILL. */
  stopped: string[];
  killed: string[];
  undone: string[];
  failed: Array<{ label: string; why: string }>;
  /** True when the log is gone: everything it recorded was undone. */
  removed: boolean;
}

// The recovery's report; a missing `end` line means the script did not finish.
export function parseRecoverReport(stdout: string): { logs: RecoveredLog[]; complete: boolean } {
  const logs: RecoveredLog[] = [];
  let complete = false;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${UNDO_MARKER} `)) continue;
    const [, event = '', ...rest] = line.split(' ');
    const current = logs.at(-1);
    if (event === 'journal') logs.push({ runId: rest[0] ?? '', node: rest[1] ?? '', stopped: [], killed: [], undone: [], failed: [], removed: false });
    else if (event === 'end') complete = true;
    else if (!current) continue;
    else if (event === 'stopped') current.stopped.push(rest.join(' '));
    else if (event === 'killed') current.killed.push(rest.join(' '));
    else if (event === 'undone') current.undone.push(rest.slice(1).join(' '));
    else if (event === 'failed') {
      const text = rest.slice(1).join(' ');
      const at = text.indexOf(' :: ');
      current.failed.push(at < 0 ? { label: text, why: '' } : { label: text.slice(0, at), why: text.slice(at + 4).trim() });
    } else if (event === 'removed') current.removed = true;
  }
  return { logs, complete };
}
