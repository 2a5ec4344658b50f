// When a sleeping thread should have run, read from the trace. Best: its own timer. The
// hrtimer_start it armed before sleeping says when the timer was due (`expires`, CLOCK_MONOTONIC
// ns), and hrtimer_expire_entry of the same timer says when the interrupt ran it (`now`, the
// same clock): the due moment on the trace clock is the expiry's time minus (now − expires),
// so a timer interrupt that came late (interrupts off) counts too. Otherwise the wakeup event,
// or, for a thread preempted while runnable, the moment it was switched out.
import type { TraceEvent } from './parse.ts';
import { readWakeup } from './parse.ts';
import type { CpuTimeline, Slice } from './timeline.ts';

export interface ExpectedWakeup {
  timeUs: number;
  how: string;
}

interface Timed<T> {
  timeUs: number;
  value: T;
}

/** The thread's timers, their expiries and its wakeups, indexed once for a whole trace. */
export interface WakeupIndex {
  armed: Array<Timed<{ timer: string; expiresNs: bigint }>>;
  ran: Map<string, Array<Timed<bigint>>>;
  woken: Array<Timed<string>>;
}

export function indexWakeups(events: readonly TraceEvent[], pid: number): WakeupIndex {
  const index: WakeupIndex = { armed: [], ran: new Map(), woken: [] };
  for (const e of events) {
    if (e.name === 'hrtimer_start' && e.pid === pid) {
      const m = /^hrtimer=(\S+) function=hrtimer_wakeup expires=(\d+) softexpires=\d+/.exec(e.fields);
      if (m) index.armed.push({ timeUs: e.timeUs, value: { timer: m[1] as string, expiresNs: BigInt(m[2] as string) } });
    } else if (e.name === 'hrtimer_expire_entry') {
      const m = /^hrtimer=(\S+) function=\S+ now=(\d+)/.exec(e.fields);
      if (m) {
        const list = index.ran.get(m[1] as string) ?? [];
        list.push({ timeUs: e.timeUs, value: BigInt(m[2] as string) });
        index.ran.set(m[1] as string, list);
      }
    } else if (e.name === 'sched_waking' || e.name === 'sched_wakeup') {
      if (readWakeup(e)?.pid === pid) index.woken.push({ timeUs: e.timeUs, value: `${e.comm} (pid ${e.pid})` });
    }
  }
  return index;
}

/** Index of the first entry at or after timeUs (entries are in time order). */
function firstAtOrAfter<T>(list: ReadonlyArray<Timed<T>>, timeUs: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Timed<T>).timeUs < timeUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// `run` is a slice of the thread that the trace saw start, `prev` its slice before (if any).
export function findExpectedWakeup(t: CpuTimeline, index: WakeupIndex, run: Slice, prev: Slice | undefined): ExpectedWakeup | undefined {
  const outUs = prev?.endUs ?? t.firstUs;
  const fromUs = prev?.startUs ?? t.firstUs;
  // The last timer it armed while it last ran.
  const armedAt = firstAtOrAfter(index.armed, outUs + 1e-9) - 1;
  const armed = armedAt >= 0 ? index.armed[armedAt] : undefined;
  if (armed && armed.timeUs >= fromUs) {
    const ran = index.ran.get(armed.value.timer) ?? [];
    const hit = ran[firstAtOrAfter(ran, armed.timeUs + 1e-9)];
    if (hit && hit.timeUs <= run.startUs) {
      const lateUs = Number(hit.value - armed.value.expiresNs) / 1000;
      return { timeUs: hit.timeUs - Math.max(0, lateUs), how: `its timer ran ${Math.max(0, lateUs).toFixed(1)} us after it was due` };
    }
  }
  const woken = index.woken[firstAtOrAfter(index.woken, outUs)];
  if (woken && woken.timeUs <= run.startUs) return { timeUs: woken.timeUs, how: `woken by ${woken.value}` };
  if (prev?.endState?.startsWith('R')) return { timeUs: outUs, how: 'preempted while runnable' };
  return undefined;
}
