// The kfn-trace script as text: what it writes is the suite's own instance only, and every exit
// undoes it. Running it against a kernel is the lab's job (test/lab/trace-on-breach.spec.ts).
import { expect } from 'chai';
import { buildInstanceRemovalScript, buildTraceScript, formatCpuMask, parseTraceScriptOutput, TRACE_EVENTS } from '../../../../lib/tools/ftrace/script.ts';

const base = { instance: 'kfn-20261207-host', cpus: [1], bufferKbPerCpu: 8192, bufferKbTotalCap: 262144, events: [...TRACE_EVENTS], outPath: '/tmp/kfn-x/t.trace', readyPath: '/tmp/kfn-x/t.ready' };

describe('tools/ftrace/script', () => {
  it('formats tracing_cpumask as the kernel prints it: hex, a comma every 32 CPUs', () => {
    expect(formatCpuMask([1])).to.equal('2');
    expect(formatCpuMask([2, 3, 4, 5])).to.equal('3c');
    expect(formatCpuMask([0, 32, 65])).to.equal('2,00000001,00000001');
    expect(() => formatCpuMask([])).to.throw(/at least one CPU/);
  });

  it('writes only below instances/<its own name>, never a global tracing file', () => {
    const script = buildTraceScript({ ...base, run: { command: 'cyclictest -b 40' } });
    const writes = [...script.matchAll(/> "([^"]+)"/g)].map((m) => m[1]);
    expect(writes.length).to.be.greaterThan(4);
    for (const target of writes) expect(target, target).to.match(/^\$(I\/|OUT|READY)/);
    expect(script).to.include('mkdir "$T/instances/kfn-20261207-host"');
    expect(script).to.include('echo 2 > "$I/tracing_cpumask"');
  });

  it('mounts tracefs only when none is mounted, and unmounts only what it mounted', () => {
    const script = buildTraceScript({ ...base, run: { command: 'true' } });
    expect(script).to.match(/if \[ -z "\$T" \]; then[\s\S]*mount -t tracefs nodev "\$T"[\s\S]*MOUNTED=1/);
    expect(script).to.include('if [ "$MOUNTED" = 1 ]; then umount "$T"');
  });

  it('switches the instance off and removes it on every exit; keeps the trace only when the command ended by itself', () => {
    const script = buildTraceScript({ ...base, run: { command: 'cyclictest -b 40' } });
    expect(script).to.include('trap finish EXIT');
    expect(script).to.include("trap 'exit 130' INT TERM HUP");
    const finish = script.slice(script.indexOf('finish() {'), script.indexOf('trap finish EXIT'));
    expect(finish).to.include('echo 0 > "$I/tracing_on"');
    expect(finish).to.include('rmdir "$I"');
    expect(finish).to.include('[ "$SAVE" = 1 ] && cat "$I/trace" > "$OUT"');
    // The command is stopped with TERM: a background job of sh starts with SIGINT ignored.
    expect(finish).to.include('kill -TERM "$CHILD"');
    const tail = script.slice(script.indexOf('cyclictest -b 40 &'));
    expect(tail.indexOf('echo 0 > "$I/tracing_on"')).to.be.below(tail.indexOf('SAVE=1'));
  });

  it('refuses to touch an instance that exists already, and names that are not kfn-*', () => {
    expect(buildTraceScript({ ...base, run: { command: 'true' } })).to.match(/exists already; not touching it" >&2; exit 3; \}/);
    expect(() => buildTraceScript({ ...base, instance: 'other', run: { command: 'true' } })).to.throw(/kfn-/);
    expect(() => buildTraceScript({ ...base, instance: 'kfn-a/../b', run: { command: 'true' } })).to.throw(/kfn-/);
    expect(() => buildTraceScript({ ...base, events: ['sched/$(reboot)'], run: { command: 'true' } })).to.throw(/not a trace event/);
  });

  it('waits for a stop file, bounded, in companion mode', () => {
    const script = buildTraceScript({ ...base, run: { stopFile: '/tmp/kfn-x/stop', maxS: 90 } });
    expect(script).to.include('while [ ! -e /tmp/kfn-x/stop ] && [ $i -lt 1800 ]');
  });

  it('removes a killed script\'s instance wherever tracefs is mounted, and nothing else', () => {
    const undo = buildInstanceRemovalScript('kfn-20261207-host');
    expect(undo).to.include('I="$T/instances/kfn-20261207-host"');
    expect(undo).to.include('if [ -d "$I" ]; then echo 0 > "$I/tracing_on"; rmdir "$I" || exit 1; fi');
    expect(() => buildInstanceRemovalScript('*')).to.throw(/kfn-/);
  });

  it('reads back where tracefs was and which events the kernel lacked', () => {
    const out = 'tracefs /sys/kernel/tracing mounted_by_kfn=1 buffer_kb_per_cpu=8192\nevent sched/sched_switch\nno event kvm/kvm_entry\n';
    expect(parseTraceScriptOutput(out)).to.deep.equal({ tracefs: '/sys/kernel/tracing', mountedByKfn: true, bufferKbPerCpu: 8192, events: ['sched/sched_switch'], missingEvents: ['kvm/kvm_entry'] });
  });
});
