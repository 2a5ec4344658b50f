// The trace parser and breach summariser on traces recorded with a known blocking task
// (test/fixtures/ftrace/README.source.md): rt-hog at SCHED_FIFO 99 spins 60 ms on the measured
// CPU, beside two decoys it must not blame: busy-decoy, busier than rt-hog in the trace but never
// in the way of a real-time thread, and kfn-decoy, a kfn-named helper.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { findOslatThreads } from '../../../../lib/cases/breach-passes.ts';
import { parseCyclictestHistogramText } from '../../../../lib/tools/cyclictest/parse-text.ts';
import { cutTraceText, describePrio, parseTraceText } from '../../../../lib/tools/ftrace/parse.ts';
import { summarizePreemption, summarizeWakeupBreach } from '../../../../lib/tools/ftrace/summarize.ts';
import { buildCpuTimeline } from '../../../../lib/tools/ftrace/timeline.ts';
import { catchParseError } from '../../../support/catch-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ftrace/${name}`, import.meta.url), 'utf8');
const burstsMs = (name: string) => [...fixture(name).matchAll(/^burst \S+ (\S+)$/gm)].map((m) => Number(m[1]));

describe('tools/ftrace', () => {
  describe('a cyclictest -b pass broken by rt-hog (kernel 6.18, cyclictest 2.40)', () => {
    const trace = parseTraceText(fixture('cyclictest-break-hog60.trace.txt'));
    const ct = parseCyclictestHistogramText(fixture('cyclictest-break-hog60.stdout.txt'));
    const summary = summarizeWakeupBreach(trace, { cpu: 1, pid: ct.breakThreadId as number, breakUs: ct.breakValue as number });

    it('parses every event line, with the 5-flag column of Linux ≥ 6.1, and the buffer lost nothing', () => {
      expect(trace.events).to.have.length(635);
      expect(trace.events[0]).to.include({ comm: 'busy-decoy', pid: 11157, cpu: 1, name: 'local_timer_entry' });
      expect(trace.lost).to.equal(0);
    });

    it("finds the breaking wakeup from cyclictest's own timer, as late as cyclictest measured", () => {
      expect(summary.victim).to.deep.equal({ pid: 11176, comm: 'cyclictest' });
      expect(summary.window.endUs).to.equal(6171593380);
      expect(summary.latencyUs).to.be.within(57280 * 0.98, 57280 * 1.02);
      expect(summary.notes).to.deep.equal([]);
    });

    it('blames rt-hog, with the run time it really had within 20 %', () => {
      const [burst] = burstsMs('cyclictest-break-hog60.rt-hog.txt');
      expect(summary.culprit).to.include({ kind: 'task', name: 'rt-hog', pid: 11172, priority: 'rt prio 99', realtime: true });
      expect(summary.culprit?.ranUs).to.be.within((burst as number) * 800, (burst as number) * 1200);
      expect(summary.text).to.match(/^Culprit: rt-hog \(pid 11172, rt prio 99\) ran 59\.\d ms \(57\.\d ms of it in the window\), on CPU 1 in the 57\.\d ms before cyclictest/);
    });

    it('blames neither the busier non-RT decoy nor the kfn- helper, which were not in the way', () => {
      const totals = new Map<string, number>();
      for (const s of buildCpuTimeline(trace.events, 1).slices) totals.set(s.comm, (totals.get(s.comm) ?? 0) + s.endUs - s.startUs);
      // The decoy really is busier than the culprit over the trace...
      expect(totals.get('busy-decoy')).to.be.above(2 * (totals.get('rt-hog') as number));
      expect(totals.get('kfn-decoy')).to.be.above(10_000);
      // ...and neither is the culprit nor takes any share of the window before the wakeup.
      expect(summary.activities.map((a) => a.name)).to.not.include.members(['busy-decoy', 'kfn-decoy']);
      expect(summary.longestNonRt).to.equal(null);
      expect(summary.text).to.include('No non-RT task ran in the window.');
    });

    it('lists the interrupts that nested in the window, with counts and durations', () => {
      const timer = summary.activities.find((a) => a.name === 'local_timer interrupt');
      expect(timer).to.include({ kind: 'vector' });
      expect(timer?.count).to.be.greaterThan(5);
      expect(timer?.longestUs).to.be.below(100);
    });

    it('falls back to the wakeup event when the timer events are missing, and still blames rt-hog', () => {
      const noTimers = fixture('cyclictest-break-hog60.trace.txt').split('\n').filter((l) => !/hrtimer_start|hrtimer_expire/.test(l)).join('\n');
      const s = summarizeWakeupBreach(parseTraceText(noTimers), { cpu: 1, pid: 11176, breakUs: 57280 });
      expect(s.culprit?.name).to.equal('rt-hog');
      expect(s.latencyUs).to.be.within(50_000, 60_000);
    });

    it('keeps the last milliseconds as raw output: the header, a note, and the lines from the window on', () => {
      const text = cutTraceText(trace, summary.window.startUs - 1000, 'host CPU 1');
      const lines = text.split('\n');
      expect(lines[0]).to.equal('# kvmfornfv: host CPU 1');
      expect(lines[1]).to.equal('# tracer: nop');
      expect(text).to.include('prev_comm=rt-hog prev_pid=11172 prev_prio=0 prev_state=S ==> next_comm=cyclictest next_pid=11176');
      expect(lines.length).to.be.below(trace.lines.length);
      expect(parseTraceText(text).events.at(-1)).to.deep.include({ timeUs: trace.events.at(-1)?.timeUs });
    });
  });

  describe('an oslat pass preempted by rt-hog (kernel 6.18, oslat 2.40)', () => {
    const trace = parseTraceText(fixture('oslat-hog60.trace.txt'));

    it('finds the polling thread by its name and real-time priority, and blames rt-hog for its longest wait', () => {
      const pids = findOslatThreads(trace, 1);
      expect(pids).to.deep.equal([16757]);
      const s = summarizePreemption(trace, { cpu: 1, pids });
      expect(s.victim).to.deep.equal({ pid: 16757, comm: 'oslat' });
      expect(s.latencyUs).to.be.within(60057 * 0.98, 60057 * 1.02);
      expect(s.culprit).to.include({ name: 'rt-hog', realtime: true });
      expect(s.culprit?.ranUs).to.be.within(60 * 800, 60 * 1200);
    });
  });

  describe('refuses', () => {
    it('text that is not a trace, and an event line it cannot read', () => {
      expect(catchParseError(() => parseTraceText('cyclictest V 2.40\n')).message).to.match(/not a trace event line/);
      const broken = fixture('oslat-hog60.trace.txt').replace(/^(\s+oslat-16757\s+)\[001\]/m, '$1[x01]');
      expect(catchParseError(() => parseTraceText(broken)).message).to.match(/not a trace event line/);
    });

    it('a thread the trace never switched to', () => {
      expect(() => summarizeWakeupBreach(parseTraceText(fixture('oslat-hog60.trace.txt')), { cpu: 1, pid: 4242 })).to.throw(/no switch to thread 4242/);
    });
  });

  it('says priorities as people do', () => {
    expect([0, 98, 120, 139].map(describePrio)).to.deep.equal(['rt prio 99', 'rt prio 1', 'nice 0', 'nice 19']);
  });
});
