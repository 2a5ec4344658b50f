// Shell scripts for the waiting and collecting end of a detached process (its start is in
// detached-scripts.ts): hold a channel until it exits, wait for it again after a lost
// connection, and stop it (SIGINT, SIGTERM, SIGKILL) and read back all it left in one
// command. Pure string builders and parsers, so they are unit-tested.
import { buildDetachedPaths, checkPid, parseWindowStamps, type NodeWindow } from './detached-scripts.ts';
import { quoteArg } from './quote.ts';

/**
 * The start script with the channel's stdout given to the detached process as fd 3: sshd then
 * keeps the channel open until the wrapper (and the command) have exited, and closes it the
 * moment they do. The wrapper holds fd 3 to its end, whatever the command does with its copy.
 */
export function buildWatchedStartScript(startScript: string): string {
  return `exec 3>&1\n${startScript}`;
}

// The start script prints the pid as its last line; its output is whole once that line ended.
export function hasStartedLine(stdout: Buffer): boolean {
  return /(^|\n)\d+\n$/.test(stdout.toString('latin1'));
}

export const EXITED_MARKER = 'kfn-exited';

/**
 * Wait for a process found again after a lost connection: GNU tail --pid checks it once a
 * second (a kill(2), no new process) and ends when the channel's reader goes away; where tail
 * cannot (busybox), a loop of `sleep 1` does. Prints EXITED_MARKER when the process is gone.
 */
export function buildWaitScript(options: { runDir: string; name: string; pid: number }): string {
  const rc = quoteArg(buildDetachedPaths(options.runDir, options.name).rc);
  const pid = checkPid(options.pid);
  return [
    `if [ ! -e ${rc} ] && kill -0 ${pid} 2>/dev/null; then`,
    `  tail --pid=${pid} -s 1 -f /dev/null 2>/dev/null`,
    `  while [ ! -e ${rc} ] && kill -0 ${pid} 2>/dev/null; do sleep 1; done`,
    `fi`,
    `echo ${EXITED_MARKER}`,
  ].join('\n');
}

export type StopSignal = 'INT' | 'TERM' | 'KILL';

/**
 * Stop the process if it still runs: `signal`, then SIGTERM after graceMs, then SIGKILL after
 * graceMs more, each only while it lives; wait for the wrapper's rc file; then print a
 * `kfn-stop` line, the rc, the window the wrapper stamped (node clock) and both output files,
 * each file framed by its length.
 */
export function buildStopAndCollectScript(options: { runDir: string; name: string; pid: number; signal: StopSignal; graceMs: number }): string {
  const p = buildDetachedPaths(options.runDir, options.name);
  const rc = quoteArg(p.rc);
  const pid = checkPid(options.pid);
  const ticks = Math.max(1, Math.ceil(options.graceMs / 100));
  const waitWhileAlive = `i=0; while alive && [ $i -lt ${ticks} ]; do sleep 0.1; i=$((i+1)); done`;
  const ladder: StopSignal[] = options.signal === 'KILL' ? ['KILL'] : options.signal === 'TERM' ? ['TERM', 'KILL'] : ['INT', 'TERM', 'KILL'];
  const steps = ladder.map((sig, i) =>
    i === 0 ? `  kill -${sig} ${pid} 2>/dev/null; sent=${sig}` : `  ${waitWhileAlive}\n  if alive; then kill -${sig} ${pid} 2>/dev/null; sent=${sig}; fi`,
  );
  const printFile = (path: string) =>
    `if [ -f ${quoteArg(path)} ]; then n=$(wc -c <${quoteArg(path)}); echo "kfn-file $n"; head -c "$n" ${quoteArg(path)}; else echo "kfn-file -1"; fi`;
  return [
    `alive() { [ ! -e ${rc} ] && kill -0 ${pid} 2>/dev/null; }`,
    `stopped=0; sent=none`,
    `if alive; then`,
    `  stopped=1`,
    ...steps,
    `fi`,
    // The wrapper writes rc just after the command exits: give it a moment.
    `i=0; while [ ! -e ${rc} ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done`,
    `echo "kfn-stop stopped=$stopped sent=$sent"`,
    `echo "kfn-rc $(cat ${rc} 2>/dev/null)"`,
    `echo "kfn-window $(cat ${quoteArg(p.started)} 2>/dev/null) $(cat ${quoteArg(p.ended)} 2>/dev/null)"`,
    printFile(p.stdout),
    printFile(p.stderr),
  ].join('\n');
}

export interface Collected {
  stopped: boolean;
  /** The last signal sent, when it was not the first one asked for. */
  escalatedTo?: 'TERM' | 'KILL';
  exitCode: number | null;
  /** null when the file was missing. */
  stdout: string | null;
  stderr: string | null;
  /** When the command ran, on the node's clock; absent when the node could not say. */
  window?: NodeWindow;
}

// Read the stop-and-collect output; throws on anything else, so a garbled read-back is never taken as output.
export function parseCollected(out: Buffer, firstSignal: StopSignal): Collected {
  let at = 0;
  const line = (): string => {
    const end = out.indexOf(0x0a, at);
    if (end < 0) throw new Error(`stop-and-collect output ends inside a header at byte ${at}`);
    const text = out.subarray(at, end).toString('latin1');
    at = end + 1;
    return text;
  };
  const stop = /^kfn-stop stopped=([01]) sent=(none|INT|TERM|KILL)$/.exec(line());
  if (!stop) throw new Error('stop-and-collect output does not start with its kfn-stop line');
  const rc = /^kfn-rc ?(.*)$/.exec(line());
  if (!rc) throw new Error('stop-and-collect output has no kfn-rc line');
  const stamps = /^kfn-window ?(\S*) ?(\S*)$/.exec(line());
  if (!stamps) throw new Error('stop-and-collect output has no kfn-window line');
  const window = parseWindowStamps(stamps[1] ?? '', stamps[2] ?? '');
  const file = (): string | null => {
    const header = /^kfn-file (-1|\d+)$/.exec(line().trim());
    if (!header) throw new Error('stop-and-collect output has a malformed kfn-file header');
    const n = Number(header[1]);
    if (n < 0) return null;
    if (at + n > out.length) throw new Error(`stop-and-collect output is shorter than the ${n} bytes announced`);
    const text = out.subarray(at, at + n).toString('utf8');
    at += n;
    return text;
  };
  const stdout = file();
  const stderr = file();
  if (at !== out.length) throw new Error(`stop-and-collect output has ${out.length - at} unexpected trailing bytes`);
  const code = /^\s*(\d+)\s*$/.exec(rc[1] ?? '')?.[1];
  const sent = stop[2];
  const escalatedTo = (sent === 'TERM' || sent === 'KILL') && sent !== firstSignal ? sent : undefined;
  return { stopped: stop[1] === '1', ...(escalatedTo ? { escalatedTo } : {}), exitCode: code === undefined ? null : Number(code), stdout, stderr, ...(window ? { window } : {}) };
}
