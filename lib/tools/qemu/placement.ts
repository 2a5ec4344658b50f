// Where QEMU's threads run: the commands that pin them (util-linux taskset and chrt, as
// kvmfornfv's host-run-qemu.sh pinned its vCPUs) and the read-back of what is in force,
// from /proc/<pid>/task/<tid>/status and `chrt -p`, recorded in results.json. Pure.
import { formatCpuList, tryParseCpuList } from '../../config/cpu-list.ts';
import { ToolOutputParseError } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';

export type SchedPolicy = 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_OTHER' | 'SCHED_BATCH' | 'SCHED_IDLE' | 'SCHED_DEADLINE';

export interface ThreadPin {
  tid: number;
  cpus: readonly number[];
  /** Absent: the policy is left as QEMU created it (SCHED_OTHER). */
  policy?: { policy: 'SCHED_FIFO' | 'SCHED_RR'; priority: number };
}

export interface ThreadPlacement {
  tid: number;
  name: string;
  cpus: number[];
  policy: SchedPolicy;
  priority: number;
}

const CHRT_FLAG: Record<'SCHED_FIFO' | 'SCHED_RR', string> = { SCHED_FIFO: '-f', SCHED_RR: '-r' };
const MARK = '#kfn-thread';

// Pins every thread of the process to the housekeeping CPUs first (QEMU's main loop, I/O
// and worker threads, and threads it starts later inherit it), then each pinned thread.
export function buildPinScript(pid: number, housekeepingCpus: readonly number[], pins: readonly ThreadPin[]): string {
  const lines = ['set -e', `taskset -a -p -c ${quoteArg(formatCpuList(housekeepingCpus))} ${pid} >/dev/null`];
  for (const pin of pins) {
    lines.push(`taskset -p -c ${quoteArg(formatCpuList(pin.cpus))} ${pin.tid} >/dev/null`);
    if (pin.policy) lines.push(`chrt ${CHRT_FLAG[pin.policy.policy]} -p ${pin.policy.priority} ${pin.tid}`);
  }
  return lines.join('\n');
}

// One block per thread: a marker line, its status lines and `chrt -p`'s answer.
export function buildPlacementProbeScript(pid: number): string {
  return [
    `for t in /proc/${pid}/task/*; do`,
    '  tid=${t##*/}',
    `  echo "${MARK} $tid"`,
    '  grep -E "^(Name|Cpus_allowed_list):" "$t/status"',
    '  chrt -p "$tid"',
    'done',
  ].join('\n');
}

// Reads the probe; a thread missing a field is an error, never a default placement.
export function parsePlacementProbe(stdout: string): ThreadPlacement[] {
  const out: ThreadPlacement[] = [];
  let current: Partial<ThreadPlacement> & { tid?: number } = {};
  const finish = (lineNumber: number) => {
    if (current.tid === undefined) return;
    const missing = (['name', 'cpus', 'policy', 'priority'] as const).filter((k) => current[k] === undefined);
    if (missing.length) throw new ToolOutputParseError('thread placement probe', `thread ${current.tid}: no ${missing.join(', ')}`, { lineNumber });
    out.push(current as ThreadPlacement);
  };
  stdout.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '') return;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^${MARK} (\\d+)$`).exec(line))) {
      finish(i + 1);
      current = { tid: Number(m[1]) };
    } else if ((m = /^Name:\s*(.*)$/.exec(line))) current.name = m[1] as string;
    else if ((m = /^Cpus_allowed_list:\s*(\S+)$/.exec(line))) {
      const parsed = tryParseCpuList(m[1] as string);
      if (!parsed.ok) throw new ToolOutputParseError('thread placement probe', 'Cpus_allowed_list is not a CPU list', { lineNumber: i + 1, line });
      current.cpus = parsed.cpus;
    } else if ((m = /^pid (\d+)'s current scheduling policy: (SCHED_[A-Z]+)(?:\|SCHED_RESET_ON_FORK)?$/.exec(line))) current.policy = m[2] as SchedPolicy;
    else if ((m = /^pid (\d+)'s current scheduling priority: (\d+)$/.exec(line))) current.priority = Number(m[2]);
    else if (/^pid \d+'s current runtime\/deadline\/period parameters:/.test(line)) return;
    else throw new ToolOutputParseError('thread placement probe', 'expected a thread marker, Name:, Cpus_allowed_list: or chrt -p output', { lineNumber: i + 1, line });
  });
  finish(stdout.split('\n').length);
  if (out.length === 0) throw new ToolOutputParseError('thread placement probe', 'no thread listed: is the QEMU process still running?');
  return out;
}
