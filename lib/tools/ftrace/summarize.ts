// What kept a measurement thread from its CPU, read from a trace of that CPU. Two questions:
// - wakeup (cyclictest): the thread slept until a timer; which switch-in came latest after the
//   moment it should have run, and what held the CPU in the window before it did;
// - preemption (oslat, a host's vCPU thread): the thread wanted the CPU all along; what is the
//   longest stretch it was runnable but not running, or interrupted, and what ran then.
// Blame goes by the time an activity held the CPU inside that window, never by how busy it was
// elsewhere in the trace or by its name: the measurement's own thread and idle are never blamed.
import { describePrio, isRealtimePrio, readWakeup, type TraceText } from './parse.ts';
import { buildCpuTimeline, nestedTimeUs, overlapUs, type CpuTimeline, type NestedSpan, type Slice } from './timeline.ts';
import { findExpectedWakeup, indexWakeups } from './wakeup.ts';

export interface Activity {
  kind: 'task' | 'irq' | 'vector' | 'softirq' | 'idle';
  /** The task's comm, or what the interrupt is (`irq 11 (virtio0)`, `local_timer interrupt`). */
  name: string;
  pid?: number;
  /** Tasks: `rt prio 99`, `nice 0`. */
  priority?: string;
  realtime?: boolean;
  /** Time it held the CPU inside the window, interrupts nested in it excluded. */
  inWindowUs: number;
  /** Its whole run over the slices (or occurrences) that overlap the window: what it really ran. */
  ranUs: number;
  count: number;
  longestUs: number;
}

export interface BreachSummary {
  mode: 'wakeup' | 'preemption';
  cpu: number;
  victim: { pid: number; comm: string };
  /** The delay the trace shows for the breaching wakeup or interruption. */
  latencyUs: number;
  window: { startUs: number; endUs: number };
  activities: Activity[];
  culprit: Activity | null;
  longestNonRt: Activity | null;
  notes: string[];
  /** One paragraph for JUnit and the console. */
  text: string;
}

const MAX_LISTED = 6;

function fmtUs(us: number): string {
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${Math.round(us)} us`;
}

function describe(a: Activity): string {
  if (a.kind !== 'task') return `${a.name} ${a.count}x, ${fmtUs(a.inWindowUs)} (longest ${fmtUs(a.longestUs)})`;
  return `${a.name} (pid ${a.pid}, ${a.priority}) ran ${fmtUs(a.ranUs)}${a.ranUs - a.inWindowUs > 1 ? ` (${fmtUs(a.inWindowUs)} of it in the window)` : ''}`;
}

function taskActivities(t: CpuTimeline, from: number, to: number, victims: ReadonlySet<number>): Activity[] {
  const byPid = new Map<number, Activity>();
  for (const s of t.slices) {
    if (victims.has(s.pid) || overlapUs(s.startUs, s.endUs, from, to) <= 0) continue;
    const inWindow = overlapUs(s.startUs, s.endUs, from, to) - nestedTimeUs(t.spans, Math.max(s.startUs, from), Math.min(s.endUs, to));
    const ran = s.endUs - s.startUs - nestedTimeUs(t.spans, s.startUs, s.endUs);
    const idle = s.pid === 0;
    const a = byPid.get(s.pid) ?? {
      kind: idle ? 'idle' : 'task',
      name: idle ? 'idle' : s.comm,
      ...(idle ? {} : { pid: s.pid, priority: describePrio(s.prio), realtime: isRealtimePrio(s.prio) }),
      inWindowUs: 0,
      ranUs: 0,
      count: 0,
      longestUs: 0,
    };
    a.inWindowUs += inWindow;
    a.ranUs += ran;
    a.count += 1;
    a.longestUs = Math.max(a.longestUs, ran);
    byPid.set(s.pid, a);
  }
  return [...byPid.values()];
}

function nestedActivities(t: CpuTimeline, from: number, to: number): Activity[] {
  const byLabel = new Map<string, Activity>();
  for (const s of t.spans) {
    const inWindow = overlapUs(s.startUs, s.endUs, from, to);
    if (inWindow <= 0) continue;
    const a = byLabel.get(s.label) ?? { kind: s.kind, name: s.label, inWindowUs: 0, ranUs: 0, count: 0, longestUs: 0 };
    a.inWindowUs += inWindow;
    a.ranUs += s.endUs - s.startUs;
    a.count += 1;
    a.longestUs = Math.max(a.longestUs, s.endUs - s.startUs);
    byLabel.set(s.label, a);
  }
  return [...byLabel.values()];
}

// Everything that held the CPU in [from, to), largest share first, the culprit and the longest
// activity of a task that is not real-time (housekeeping work that should not be on this CPU).
function summarizeWindow(t: CpuTimeline, window: { startUs: number; endUs: number }, victims: ReadonlySet<number>) {
  const activities = [...taskActivities(t, window.startUs, window.endUs, victims), ...nestedActivities(t, window.startUs, window.endUs)]
    .filter((a) => a.inWindowUs > 0)
    .sort((a, b) => b.inWindowUs - a.inWindowUs);
  const culprit = activities.find((a) => a.kind !== 'idle') ?? null;
  const nonRt = activities.filter((a) => a.kind === 'task' && a.realtime === false).sort((a, b) => b.ranUs - a.ranUs)[0] ?? null;
  return { activities, culprit, longestNonRt: nonRt };
}

// The culprit first: JUnit keeps the first 500 characters of a failure message in its attribute.
function composeText(s: Omit<BreachSummary, 'text'>, what: string): string {
  const where = `on CPU ${s.cpu} in the ${fmtUs(s.window.endUs - s.window.startUs)} before ${what}`;
  const others = s.activities.filter((a) => a !== s.culprit);
  const listed = others.slice(0, MAX_LISTED).map(describe);
  const more = others.length > MAX_LISTED ? `; and ${others.length - MAX_LISTED} more` : '';
  const idle = s.activities.find((a) => a.kind === 'idle');
  return [
    s.culprit ? `Culprit: ${describe(s.culprit)}, ${where}.` : `No culprit ${where}: nothing else ran or interrupted (the delay is not on this CPU: interrupts off, a C-state or the hypervisor).`,
    s.longestNonRt ? `Longest non-RT activity: ${describe(s.longestNonRt)}.` : 'No non-RT task ran in the window.',
    ...(listed.length > 0 ? [`Also in the window: ${listed.join('; ')}${more}.`] : []),
    ...(idle && idle.inWindowUs > (s.window.endUs - s.window.startUs) / 2 ? ['The CPU was idle for most of the window: the delay came from outside this CPU\'s tasks.'] : []),
    ...s.notes,
  ].join(' ');
}

/** Wakeup mode: `pid` (cyclictest's breaking thread) on `cpu`; `breakUs` what cyclictest measured. */
export function summarizeWakeupBreach(trace: TraceText, input: { cpu: number; pid: number; breakUs?: number }): BreachSummary {
  const t = buildCpuTimeline(trace.events, input.cpu);
  const own = t.slices.filter((s) => s.pid === input.pid);
  if (!own.some((s) => s.startSeen)) throw new Error(`the trace has no switch to thread ${input.pid} on CPU ${input.cpu}`);
  const index = indexWakeups(trace.events, input.pid);
  let best: { run: Slice; expectedUs: number; latencyUs: number; how: string } | undefined;
  for (const [i, run] of own.entries()) {
    if (!run.startSeen) continue;
    const expected = findExpectedWakeup(t, index, run, own[i - 1]);
    if (!expected) continue;
    const latencyUs = run.startUs - expected.timeUs;
    if (!best || latencyUs > best.latencyUs) best = { run, expectedUs: expected.timeUs, latencyUs, how: expected.how };
  }
  if (!best) throw new Error(`the trace shows no wakeup of thread ${input.pid} on CPU ${input.cpu} (no hrtimer, wakeup or preemption event before a switch to it)`);
  // A little before the due moment, so that what was already running then shows.
  const margin = Math.max(20, best.latencyUs * 0.01);
  const window = { startUs: best.expectedUs - margin, endUs: best.run.startUs };
  const notes: string[] = [];
  if (input.breakUs !== undefined && Math.abs(best.latencyUs - input.breakUs) > 0.2 * input.breakUs) {
    notes.push(`The trace shows a ${fmtUs(best.latencyUs)} delay (${best.how}) where the tool measured ${fmtUs(input.breakUs)}.`);
  }
  if (trace.lost) notes.push(`The ring buffer dropped ${trace.lost} older events.`);
  const victims = new Set([input.pid]);
  const s = { mode: 'wakeup' as const, cpu: input.cpu, victim: { pid: input.pid, comm: best.run.comm }, latencyUs: best.latencyUs, window, ...summarizeWindow(t, window, victims), notes };
  return { ...s, text: composeText(s, `${best.run.comm} (pid ${input.pid}) got its CPU, ${fmtUs(best.latencyUs)} late`) };
}

/**
 * Preemption mode: the longest stretch any of `pids` on `cpu` was runnable but not running
 * (woken and waiting, or preempted), or was interrupted while running.
 */
export function summarizePreemption(trace: TraceText, input: { cpu: number; pids: readonly number[] }): BreachSummary {
  const t = buildCpuTimeline(trace.events, input.cpu);
  const victims = new Set(input.pids);
  let worst: { startUs: number; endUs: number; pid: number; comm: string; how: string } | undefined;
  const consider = (c: NonNullable<typeof worst>) => {
    if (!worst || c.endUs - c.startUs > worst.endUs - worst.startUs) worst = c;
  };
  for (const pid of victims) {
    const own = t.slices.filter((s) => s.pid === pid);
    let spanAt = 0;
    own.forEach((s, i) => {
      const next = own[i + 1];
      if (next && s.endState?.startsWith('R')) consider({ startUs: s.endUs, endUs: next.startUs, pid, comm: s.comm, how: 'preempted' });
      while (spanAt < t.spans.length && (t.spans[spanAt] as NestedSpan).startUs < s.startUs) spanAt++;
      for (let k = spanAt; k < t.spans.length && (t.spans[k] as NestedSpan).startUs < s.endUs; k++) {
        const span = t.spans[k] as NestedSpan;
        consider({ startUs: span.startUs, endUs: Math.min(span.endUs, s.endUs), pid, comm: s.comm, how: `interrupted by ${span.label}` });
      }
    });
    let runAt = 0;
    for (const e of trace.events) {
      const w = e.name === 'sched_wakeup' || e.name === 'sched_waking' ? readWakeup(e) : undefined;
      if (w?.pid !== pid || w.targetCpu !== input.cpu) continue;
      while (runAt < own.length && (own[runAt] as Slice).startUs < e.timeUs) runAt++;
      const next = own[runAt];
      if (next) consider({ startUs: e.timeUs, endUs: next.startUs, pid, comm: w.comm, how: 'woken and waiting' });
    }
  }
  if (!worst) throw new Error(`the trace shows thread ${[...victims].join(', ')} neither waiting for CPU ${input.cpu} nor interrupted on it`);
  const window = { startUs: worst.startUs, endUs: worst.endUs };
  // A thread's first slices may carry the name it had before exec: name it by its last.
  const victimPid = worst.pid;
  worst.comm = t.slices.filter((s) => s.pid === victimPid).at(-1)?.comm ?? worst.comm;
  const notes = trace.lost ? [`The ring buffer dropped ${trace.lost} older events.`] : [];
  const s = { mode: 'preemption' as const, cpu: input.cpu, victim: { pid: worst.pid, comm: worst.comm }, latencyUs: worst.endUs - worst.startUs, window, ...summarizeWindow(t, window, victims), notes };
  return { ...s, text: composeText(s, `${worst.comm} (pid ${worst.pid}) had its CPU back (${worst.how})`) };
}
