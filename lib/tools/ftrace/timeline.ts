// One CPU's trace as what held it: task slices from sched_switch, and the interrupts, vectors
// and softirqs nested in them from their entry/exit pairs. Pure, for the breach summary.
import { readIrqMark, readSchedSwitch, type IrqMark, type TraceEvent } from './parse.ts';

export interface Slice {
  pid: number;
  comm: string;
  /** Kernel prio (0-98 real-time, 100-139 normal). */
  prio: number;
  startUs: number;
  endUs: number;
  /** False when the slice began before the first event of this CPU in the trace. */
  startSeen: boolean;
  /** prev_state at its end (R: preempted while runnable); null when the trace ended first. */
  endState: string | null;
}

export interface NestedSpan {
  kind: 'irq' | 'vector' | 'softirq';
  label: string;
  startUs: number;
  endUs: number;
}

export interface CpuTimeline {
  cpu: number;
  firstUs: number;
  lastUs: number;
  slices: Slice[];
  /** Interrupts, vectors and softirqs; timer callbacks run inside these and are not repeated. */
  spans: NestedSpan[];
  /** Everything on this CPU, in order, for the callers that read wakeups and timers. */
  events: TraceEvent[];
}

// Builds the timeline of one CPU; an entry whose exit is past the trace's end ends there.
export function buildCpuTimeline(all: readonly TraceEvent[], cpu: number): CpuTimeline {
  const events = all.filter((e) => e.cpu === cpu);
  const firstUs = events[0]?.timeUs ?? 0;
  const lastUs = events.at(-1)?.timeUs ?? 0;
  const slices: Slice[] = [];
  const spans: NestedSpan[] = [];
  const open = new Map<string, { mark: IrqMark; startUs: number }>();
  let current: Omit<Slice, 'endUs' | 'endState'> | undefined;
  for (const e of events) {
    if (e.name === 'sched_switch') {
      const sw = readSchedSwitch(e);
      const running = current ?? { pid: sw.prevPid, comm: sw.prevComm, prio: sw.prevPrio, startUs: firstUs, startSeen: false };
      slices.push({ ...running, endUs: e.timeUs, endState: sw.prevState });
      current = { pid: sw.nextPid, comm: sw.nextComm, prio: sw.nextPrio, startUs: e.timeUs, startSeen: true };
      continue;
    }
    const mark = readIrqMark(e);
    if (!mark || mark.kind === 'hrtimer' || mark.kind === 'timer') continue;
    if (mark.edge === 'entry') {
      open.set(mark.key, { mark, startUs: e.timeUs });
      continue;
    }
    const started = open.get(mark.key);
    open.delete(mark.key);
    const label = started?.mark.label ?? mark.label ?? mark.key;
    spans.push({ kind: mark.kind, label, startUs: started?.startUs ?? firstUs, endUs: e.timeUs });
  }
  if (current) slices.push({ ...current, endUs: lastUs, endState: null });
  for (const { mark, startUs } of open.values()) spans.push({ kind: mark.kind as NestedSpan['kind'], label: mark.label ?? mark.key, startUs, endUs: lastUs });
  spans.sort((a, b) => a.startUs - b.startUs);
  return { cpu, firstUs, lastUs, slices, spans, events };
}

/** Length of [a, b) ∩ [from, to). */
export function overlapUs(a: number, b: number, from: number, to: number): number {
  return Math.max(0, Math.min(b, to) - Math.max(a, from));
}

// Interrupt time inside [from, to), each instant counted once however deeply they nest.
export function nestedTimeUs(spans: readonly NestedSpan[], from: number, to: number): number {
  let total = 0;
  let reach = from;
  for (const s of spans) {
    const start = Math.max(s.startUs, reach);
    const end = Math.min(s.endUs, to);
    if (end > start) {
      total += end - start;
      reach = end;
    }
  }
  return total;
}
