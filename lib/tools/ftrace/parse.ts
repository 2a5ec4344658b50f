// The text of a tracefs `trace` file (linux kernel/trace/trace_output.c, default options): one
// event per line, `<comm>-<pid> [<cpu>] <flags> <seconds>: <event>: <fields>`, where the
// `(<tgid>)` column appears with record-tgid and the flags column with irq-info (4 flags
// on older kernels, 5 with the migrate-disable field (the lab's 6.18 has it), one more for
// PREEMPT_RT's lazy preemption in the RT patch set). Only the events the summariser reads
// get their fields parsed (formats from include/trace/events/{sched,irq,timer}.h and
// arch/x86/include/asm/trace/irq_vectors.h); the others are kept as they are.
import { ToolOutputParseError } from '../../errors.ts';

export interface TraceEvent {
  /** 1-based line in the text, for quoting. */
  line: number;
  comm: string;
  pid: number;
  cpu: number;
  /** Trace clock time in µs (the text prints seconds with µs digits). */
  timeUs: number;
  name: string;
  fields: string;
}

export interface SchedSwitch {
  prevComm: string;
  prevPid: number;
  prevPrio: number;
  /** `R`, `R+`, `S`, `D`, ...: R means the task was preempted while runnable. */
  prevState: string;
  nextComm: string;
  nextPid: number;
  nextPrio: number;
}

export interface TraceText {
  events: TraceEvent[];
  /** The text's lines, for cutting out a window. */
  lines: string[];
  /** `# entries-in-buffer/entries-written: A/B`: B > A means the ring buffer overwrote older events. */
  lost: number | null;
}

const EVENT = /^\s*(.+?)-(\d+)\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[(\d{3,})\]\s+(?:\S{4,7}\s+)?(\d+)\.(\d{6}):\s+(\w+):\s?(.*)$/;

function reject(message: string, line: number, text: string): never {
  throw new ToolOutputParseError('ftrace', message, { lineNumber: line, line: text, source: 'trace' });
}

/** Parses the whole text; a line that is neither a comment nor an event is refused. */
export function parseTraceText(text: string): TraceText {
  const lines = text.split('\n');
  const events: TraceEvent[] = [];
  let lost: number | null = null;
  let sawHeader = false;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      sawHeader ||= /^# tracer: /.test(line);
      const m = /^# entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(line);
      if (m) lost = Number(m[2]) - Number(m[1]);
      return;
    }
    // "CPU:1 [LOST 123 EVENTS]" is printed where the buffer dropped events.
    const dropped = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/.exec(line);
    if (dropped) {
      lost = (lost ?? 0) + Number(dropped[2]);
      return;
    }
    const m = EVENT.exec(line);
    if (!m) reject('not a trace event line', i + 1, line);
    events.push({
      line: i + 1,
      comm: m[1] as string,
      pid: Number(m[2]),
      cpu: Number(m[3]),
      timeUs: Number(m[4]) * 1e6 + Number(m[5]),
      name: m[6] as string,
      fields: m[7] as string,
    });
  });
  if (!sawHeader) reject('no "# tracer:" header: not the text of a tracefs trace file', 1, lines[0] ?? '');
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1] as TraceEvent;
    const b = events[i] as TraceEvent;
    if (b.timeUs < a.timeUs && b.cpu === a.cpu) reject(`time goes backwards on CPU ${b.cpu}`, b.line, lines[b.line - 1] ?? '');
  }
  return { events, lines, lost };
}

// prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d
export function readSchedSwitch(e: TraceEvent): SchedSwitch {
  const m = /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(\d+)$/.exec(e.fields);
  if (!m) reject('sched_switch fields are not in the kernel\'s format', e.line, e.fields);
  return {
    prevComm: m[1] as string,
    prevPid: Number(m[2]),
    prevPrio: Number(m[3]),
    prevState: m[4] as string,
    nextComm: m[5] as string,
    nextPid: Number(m[6]),
    nextPrio: Number(m[7]),
  };
}

// sched_wakeup / sched_waking / sched_wakeup_new: comm=%s pid=%d prio=%d target_cpu=%03d
export function readWakeup(e: TraceEvent): { comm: string; pid: number; prio: number; targetCpu: number } | undefined {
  const m = /^comm=(.*) pid=(\d+) prio=(\d+)(?: success=\d+)? target_cpu=(\d+)$/.exec(e.fields);
  return m ? { comm: m[1] as string, pid: Number(m[2]), prio: Number(m[3]), targetCpu: Number(m[4]) } : undefined;
}

/** A nested activity's start or end: hard IRQs, x86 vectors, softirqs, timer callbacks. */
export interface IrqMark {
  edge: 'entry' | 'exit';
  kind: 'irq' | 'vector' | 'softirq' | 'hrtimer' | 'timer';
  /** Pairs an entry with its exit: `irq:11`, `softirq:1`, `vector:local_timer`, `hrtimer:<ptr>`. */
  key: string;
  /** What to call it: `irq 11 (virtio0)`, `softirq TIMER`, `local_timer interrupt`. */
  label?: string;
}

export function readIrqMark(e: TraceEvent): IrqMark | undefined {
  if (e.name === 'irq_handler_entry' || e.name === 'irq_handler_exit') {
    const m = /^irq=(\d+)(?: name=(\S+))?/.exec(e.fields);
    if (!m) return undefined;
    const mark: IrqMark = { edge: e.name.endsWith('entry') ? 'entry' : 'exit', kind: 'irq', key: `irq:${m[1]}` };
    if (m[2] !== undefined) mark.label = `irq ${m[1]} (${m[2]})`;
    return mark;
  }
  if (e.name === 'softirq_entry' || e.name === 'softirq_exit') {
    const m = /^vec=(\d+)(?: \[action=(\w+)\])?/.exec(e.fields);
    if (!m) return undefined;
    return { edge: e.name.endsWith('entry') ? 'entry' : 'exit', kind: 'softirq', key: `softirq:${m[1]}`, label: `softirq ${m[2] ?? m[1]}` };
  }
  if (e.name === 'hrtimer_expire_entry' || e.name === 'hrtimer_expire_exit' || e.name === 'timer_expire_entry' || e.name === 'timer_expire_exit') {
    const m = /^(?:hr)?timer=(\S+)(?: function=(\S+))?/.exec(e.fields);
    if (!m) return undefined;
    const kind = e.name.startsWith('hr') ? 'hrtimer' : 'timer';
    const mark: IrqMark = { edge: e.name.endsWith('entry') ? 'entry' : 'exit', kind, key: `${kind}:${m[1]}` };
    if (m[2] !== undefined) mark.label = `${kind} ${m[2]}`;
    return mark;
  }
  // irq_vectors: local_timer_entry, reschedule_exit, call_function_single_entry, ... (vector=%d)
  const v = /^(\w+)_(entry|exit)$/.exec(e.name);
  if (v && /^vector=\d+/.test(e.fields)) {
    return { edge: v[2] as 'entry' | 'exit', kind: 'vector', key: `vector:${v[1]}`, label: `${v[1]} interrupt` };
  }
  return undefined;
}

/** The kernel's prio as people say it: 0-98 are SCHED_FIFO/RR 99-1, 100-139 nice −20..19. */
export function describePrio(prio: number): string {
  if (prio < 99) return `rt prio ${99 - prio}`;
  if (prio === 99) return 'deadline/rt prio 0';
  return prio >= 100 && prio <= 139 ? `nice ${prio - 120}` : `prio ${prio}`;
}

export function isRealtimePrio(prio: number): boolean {
  return prio < 100;
}

/** The header and every line from `fromUs` on: the last milliseconds of a trace, kept as a raw output. */
export function cutTraceText(trace: TraceText, fromUs: number, note: string): string {
  const first = trace.events.find((e) => e.timeUs >= fromUs);
  const header = trace.lines.filter((l, i) => l.startsWith('#') && (first === undefined || i < first.line - 1));
  const body = first === undefined ? [] : trace.lines.slice(first.line - 1);
  return [`# kvmfornfv: ${note}`, ...header, ...body].join('\n');
}
