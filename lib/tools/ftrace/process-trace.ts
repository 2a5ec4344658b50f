// The kernel's own record of processes starting and ending on a machine: the sched
// tracepoints sched_process_fork, _exec and _exit, read from a tracefs instance of their own
// (so nobody else's tracing is touched). The setup is a shell script; the parser reads the
// default text output (`TASK-PID [CPU] flags TIMESTAMP: event: fields`, kernel/trace/trace_output.c)
// with the fields as include/trace/events/sched.h prints them.
import { ToolOutputParseError } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';

export const PROCESS_EVENTS = ['sched/sched_process_fork', 'sched/sched_process_exec', 'sched/sched_process_exit'] as const;

export type ProcessEvent =
  | { kind: 'fork'; at: number; cpu: number; pid: number; comm: string; childPid: number; childComm: string }
  | { kind: 'exec'; at: number; cpu: number; pid: number; filename: string }
  | { kind: 'exit'; at: number; cpu: number; pid: number; comm: string; groupDead: boolean | undefined };

// Create the instance (tracefs at `tracefs`), size its buffer, use the mono clock, enable the three events and start.
export function buildTraceStartScript(options: { tracefs: string; instance: string; bufferKb?: number }): string {
  const dir = instanceDir(options);
  return [
    `mkdir ${dir}`,
    `echo ${options.bufferKb ?? 8192} > ${dir}/buffer_size_kb`,
    `echo mono > ${dir}/trace_clock`,
    ...PROCESS_EVENTS.map((e) => `echo 1 > ${dir}/events/${e}/enable`),
    `echo 1 > ${dir}/tracing_on`,
  ].join(' && ');
}

// Stop recording and remove the instance; safe to run twice.
export function buildTraceStopScript(options: { tracefs: string; instance: string }): string {
  const dir = instanceDir(options);
  return `[ -d ${dir} ] || exit 0; echo 0 > ${dir}/tracing_on; rmdir ${dir}`;
}

function instanceDir(options: { tracefs: string; instance: string }): string {
  if (!/^kfn-[A-Za-z0-9_-]+$/.test(options.instance)) throw new TypeError(`tracefs instance name must start with kfn-: ${options.instance}`);
  return quoteArg(`${options.tracefs}/instances/${options.instance}`);
}

const LINE = /^\s*(.+)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+\S+\s+(\d+\.\d+):\s+(\w+):\s(.*)$/;
const FORK = /^comm=(.*) pid=(\d+) child_comm=(.*) child_pid=(\d+)$/;
const EXEC = /^filename=(.*) pid=(\d+) old_pid=(\d+)$/;
const EXIT = /^comm=(.*) pid=(\d+) prio=(-?\d+)(?: group_dead=(true|false))?$/;

// Parse the fork, exec and exit events of a trace; other events are skipped, a malformed one refused.
export function parseProcessTrace(text: string, source = 'trace'): ProcessEvent[] {
  const events: ProcessEvent[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const fail = (expected: string): never => {
      throw new ToolOutputParseError('ftrace', expected, { source, lineNumber: i + 1, line: raw });
    };
    const m = LINE.exec(raw) ?? fail('a trace line "TASK-PID [CPU] flags TIMESTAMP: event: fields"');
    const [, , pidText, cpuText, atText, event, fields] = m as unknown as [string, string, string, string, string, string, string];
    const base = { at: Number(atText), cpu: Number(cpuText), pid: Number(pidText) };
    if (event === 'sched_process_fork') {
      const f = FORK.exec(fields) ?? fail('sched_process_fork fields "comm=.. pid=N child_comm=.. child_pid=N"');
      events.push({ kind: 'fork', ...base, comm: f[1] as string, childPid: Number(f[4]), childComm: f[3] as string });
    } else if (event === 'sched_process_exec') {
      const f = EXEC.exec(fields) ?? fail('sched_process_exec fields "filename=.. pid=N old_pid=N"');
      events.push({ kind: 'exec', ...base, filename: f[1] as string });
    } else if (event === 'sched_process_exit') {
      const f = EXIT.exec(fields) ?? fail('sched_process_exit fields "comm=.. pid=N prio=N [group_dead=..]"');
      events.push({ kind: 'exit', ...base, comm: f[1] as string, groupDead: f[4] === undefined ? undefined : f[4] === 'true' });
    }
  });
  return events;
}
