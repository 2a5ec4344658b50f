// Waiting for a guest to boot, on its host: one remote command that loops there until the
// stage is reached, QEMU exits, the console shows a fatal line, or time runs out. The
// harness then reads the console itself (boot-log.ts) to say how far the guest got.
// Boot time only: during a measurement nothing polls. Pure.
import { ToolOutputParseError } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';
import { READY_MARKER } from './boot-log.ts';

export type BootWaitStage = 'kernel' | 'ready';
export type BootWaitOutcome = 'reached' | 'exited' | 'fatal' | 'timeout';

/** The lines boot-log.ts calls fatal, as one grep -E pattern. */
const FATAL_PATTERN = 'Kernel panic - not syncing|VFS: Unable to mount root fs|Gave up waiting for root file system device|No working init found';

// kernel: the first line of Linux itself. ready: the image's marker, or sshd's banner on the
// forwarded port for images that print no marker (bash's /dev/tcp: no tool beyond bash).
export function buildBootWaitScript(input: { stage: BootWaitStage; consolePath: string; pid: number; forwardPort: number; timeoutS: number }): string {
  const con = quoteArg(input.consolePath);
  // The banner check can take its whole 3 s when sshd is not up yet (QEMU's user networking
  // accepts the connection first), so it runs every few seconds and time is read from the clock.
  const banner = `[ "$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${input.forwardPort} && head -c 7 <&3' 2>/dev/null)" = SSH-2.0 ]`;
  const reached = input.stage === 'kernel' ? `grep -q 'Linux version' ${con}` : `{ grep -q ${quoteArg(READY_MARKER)} ${con} || { [ $((i % 10)) -eq 9 ] && ${banner}; }; }`;
  return [
    `end=$(($(date +%s) + ${Math.max(1, Math.ceil(input.timeoutS))}))`,
    'i=0',
    'while [ "$(date +%s)" -lt "$end" ]; do',
    `  if ! kill -0 ${input.pid} 2>/dev/null; then echo exited; exit 0; fi`,
    `  if [ -f ${con} ] && grep -qE ${quoteArg(FATAL_PATTERN)} ${con}; then echo fatal; exit 0; fi`,
    `  if [ -f ${con} ] && ${reached}; then echo reached; exit 0; fi`,
    '  sleep 0.5; i=$((i+1))',
    'done',
    'echo timeout',
  ].join('\n');
}

export function parseBootWait(stdout: string): BootWaitOutcome {
  const word = stdout.trim().split('\n').pop()?.trim();
  if (word === 'reached' || word === 'exited' || word === 'fatal' || word === 'timeout') return word;
  throw new ToolOutputParseError('boot wait', 'expected reached, exited, fatal or timeout as the last line', { line: stdout.slice(-80) });
}
