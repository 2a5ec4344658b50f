import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildTraceStartScript, buildTraceStopScript, parseProcessTrace } from '../../../../lib/tools/ftrace/process-trace.ts';
import { ProcessTree } from '../../../../lib/tools/ftrace/process-tree.ts';

// Recorded on kernel 6.18: see test/fixtures/ftrace/process-events.txt.source.md.
const fixture = readFileSync(new URL('../../../fixtures/ftrace/process-events.txt', import.meta.url), 'utf8');
const ROOT = 27166;

describe('tools/ftrace process events', () => {
  it('reads fork, exec and exit events with their task, CPU and time', () => {
    const events = parseProcessTrace(fixture);
    expect(events).to.have.length(13);
    expect(events[0]).to.deep.equal({ kind: 'fork', at: 1716.056495, cpu: 1, pid: 27157, comm: 'bash', childPid: ROOT, childComm: 'bash' });
    expect(events[2]).to.deep.equal({ kind: 'exec', at: 1716.057948, cpu: 1, pid: ROOT, filename: '/usr/bin/taskset' });
    expect(events.find((e) => e.kind === 'exit' && e.pid === 27170)).to.include({ comm: 'python3', groupDead: false });
  });

  it('refuses a malformed line of an event it reads, naming the line', () => {
    const bad = '              sh-1   [000] .....  1.000000: sched_process_fork: comm=sh pid=1 child=2';
    expect(() => parseProcessTrace(bad, 'guest trace')).to.throw(ToolOutputParseError, /sched_process_fork fields/);
    expect(() => parseProcessTrace('not a trace line at all')).to.throw(ToolOutputParseError);
    // Other events are skipped, not refused.
    expect(parseProcessTrace('          <idle>-0       [001] d....   2.5: sched_switch: prev_comm=a prev_pid=1 ==> next_comm=b next_pid=2')).to.deep.equal([]);
  });

  it('builds the tree: who forked whom, what each ran, and where it ran after pinning itself', () => {
    const tree = new ProcessTree(parseProcessTrace(fixture));
    const roots = new Set([ROOT]);
    expect(tree.ancestors(27170)).to.deep.equal([27169, ROOT, 27157]);
    expect(tree.image(27169)).to.equal('python3');
    expect(tree.image(27168)).to.equal('sleep');
    expect(tree.execsOf(/\/python3$/, roots).map((t) => t.pid)).to.deep.equal([27169]);
    expect(tree.commandRoot(27170, new Set([27157]))).to.equal(ROOT);
    // The thread python3 started, and nothing else, was forked while python3 ran; excluding python3's own tasks leaves none.
    const py = tree.tasks.get(27169)!;
    const window = { from: py.execs[0]!.at, to: py.exitedAt! };
    expect(tree.forkedDuring(window, roots).map((t) => t.pid)).to.deep.equal([27170]);
    expect(tree.forkedDuring(window, roots, new Set([27169]))).to.deep.equal([]);
    // After `exec taskset -c 0`, every event of the tree is on CPU 0.
    const pinnedAt = tree.tasks.get(ROOT)!.execs.find((x) => x.filename.endsWith('/taskset'))!.at;
    const cpus = [...tree.tasks.values()].filter((t) => tree.isUnder(t.pid, roots)).flatMap((t) => t.seenOn.filter((s) => s.at > pinnedAt).map((s) => s.cpu));
    expect(new Set(cpus)).to.deep.equal(new Set([0]));
  });

  it('builds setup and teardown scripts that sh -n accepts, for its own instance only', () => {
    for (const s of [buildTraceStartScript({ tracefs: '/sys/kernel/tracing', instance: 'kfn-t1' }), buildTraceStopScript({ tracefs: '/sys/kernel/tracing', instance: 'kfn-t1' })]) {
      execFileSync('/bin/sh', ['-n', '-c', s]);
    }
    expect(buildTraceStartScript({ tracefs: '/t', instance: 'kfn-a' })).to.include('echo 1 > /t/instances/kfn-a/events/sched/sched_process_exec/enable');
    expect(() => buildTraceStartScript({ tracefs: '/t', instance: '../x' })).to.throw(TypeError);
  });
});
