// kfn-trace: the shell script that traces a node's RT CPUs in a tracefs instance of the suite's
// own (instances/kfn-…), never the global buffer other users share (linux
// Documentation/trace/ftrace.rst, "Instances"). The script owns every change it makes: it mounts
// tracefs only when none is mounted, creates the instance, and on every exit (the traced command
// ending, the stop file, SIGINT/SIGTERM from the harness's cleanup, a dropped session) switches
// the instance off, removes it and unmounts what it mounted. Nothing global is written: not
// tracing_on, current_tracer, set_event, buffer_size_kb of the top level.
import { quoteArg } from '../../remote/quote.ts';

/** Events read by the summariser; any the kernel lacks is skipped and named in the script's output. */
export const TRACE_EVENTS = [
  'sched/sched_switch',
  'sched/sched_waking',
  'sched/sched_wakeup',
  'sched/sched_wakeup_new',
  'sched/sched_migrate_task',
  'irq/irq_handler_entry',
  'irq/irq_handler_exit',
  'irq/softirq_entry',
  'irq/softirq_exit',
  'irq_vectors',
  'timer/hrtimer_start',
  'timer/hrtimer_expire_entry',
  'timer/hrtimer_expire_exit',
  'timer/timer_expire_entry',
  'timer/timer_expire_exit',
] as const;

/** Where the node runs KVM guests: VM entries and exits on the vCPU's CPU. */
export const KVM_TRACE_EVENTS = ['kvm/kvm_entry', 'kvm/kvm_exit'] as const;

export interface TraceScriptParams {
  /** `kfn-<something>`: the instance's folder name under instances/. */
  instance: string;
  /** The CPUs traced (tracing_cpumask of the instance). */
  cpus: readonly number[];
  /** Ring buffer per CPU, before the cap below. */
  bufferKbPerCpu: number;
  /** All CPUs' buffers together stay under this (the buffer is allocated for every possible CPU). */
  bufferKbTotalCap: number;
  events: readonly string[];
  /** The trace text is written here when the script ends normally. */
  outPath: string;
  /** Written once tracing is on. */
  readyPath: string;
  /**
   * Either a command to trace (tracing stops the moment it exits: a cyclictest -b pass stops the
   * trace at its breach), or a stop file the harness creates, with a bound on how long to wait.
   */
  run: { command: string } | { stopFile: string; maxS: number };
}

const INSTANCE = /^kfn-[A-Za-z0-9_-]{1,60}$/;

// tracing_cpumask takes hex with a comma every 32 bits, as the kernel prints it.
export function formatCpuMask(cpus: readonly number[]): string {
  if (cpus.length === 0) throw new RangeError('a trace needs at least one CPU');
  let mask = 0n;
  for (const cpu of cpus) {
    if (!Number.isSafeInteger(cpu) || cpu < 0 || cpu > 8191) throw new RangeError(`not a CPU number: ${cpu}`);
    mask |= 1n << BigInt(cpu);
  }
  const hex = mask.toString(16);
  const groups: string[] = [];
  for (let end = hex.length; end > 0; end -= 8) groups.unshift(hex.slice(Math.max(0, end - 8), end));
  return groups.join(',');
}

/** The whole script, run as root; its exit code is the traced command's (3: tracing could not start). */
export function buildTraceScript(p: TraceScriptParams): string {
  if (!INSTANCE.test(p.instance)) throw new RangeError(`trace instance name must match ${INSTANCE}: ${JSON.stringify(p.instance)}`);
  for (const e of p.events) if (!/^[a-z0-9_]+(\/[a-z0-9_]+)?$/.test(e)) throw new RangeError(`not a trace event: ${JSON.stringify(e)}`);
  const q = quoteArg;
  const body =
    'command' in p.run
      ? [`${p.run.command} &`, 'CHILD=$!', 'wait "$CHILD"; RC=$?; CHILD=']
      : [
          `i=0; while [ ! -e ${q(p.run.stopFile)} ] && [ $i -lt ${Math.ceil(p.run.maxS * 20)} ]; do sleep 0.05; i=$((i+1)); done`,
          'RC=0',
        ];
  return [
    '#!/bin/sh',
    `# kfn-trace: instance ${p.instance} on CPUs ${p.cpus.join(',')}`,
    'set -u',
    `OUT=${q(p.outPath)}; READY=${q(p.readyPath)}`,
    'MOUNTED=0; I=; CHILD=; SAVE=0',
    `T=$(awk '$3=="tracefs"{print $2; exit}' /proc/mounts)`,
    'if [ -z "$T" ]; then',
    `  D=$(awk '$3=="debugfs"{print $2; exit}' /proc/mounts)`,
    '  if [ -n "$D" ] && [ -d "$D/tracing/instances" ]; then T="$D/tracing"',
    '  else T=/sys/kernel/tracing; mount -t tracefs nodev "$T" || { echo "kfn-trace: no tracefs is mounted and mounting one at $T failed" >&2; exit 3; }; MOUNTED=1; fi',
    'fi',
    'finish() {',
    "  trap '' INT TERM HUP",
    '  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi',
    '  if [ -n "$I" ] && [ -d "$I" ]; then',
    '    echo 0 > "$I/tracing_on"',
    '    [ "$SAVE" = 1 ] && cat "$I/trace" > "$OUT"',
    '    rmdir "$I" || echo "kfn-trace: could not remove $I" >&2',
    '  fi',
    '  if [ "$MOUNTED" = 1 ]; then umount "$T" || echo "kfn-trace: could not unmount $T" >&2; fi',
    '}',
    'trap finish EXIT',
    "trap 'exit 130' INT TERM HUP",
    '[ -d "$T/instances" ] || { echo "kfn-trace: $T has no instances folder: this kernel cannot trace apart from the global buffer" >&2; exit 3; }',
    `[ -e "$T/instances/${p.instance}" ] && { echo "kfn-trace: $T/instances/${p.instance} exists already; not touching it" >&2; exit 3; }`,
    `mkdir "$T/instances/${p.instance}" || exit 3`,
    `I="$T/instances/${p.instance}"`,
    `CPUS=$(getconf _NPROCESSORS_CONF 2>/dev/null || echo 1); KB=$(( ${p.bufferKbTotalCap} / CPUS )); [ $KB -gt ${p.bufferKbPerCpu} ] && KB=${p.bufferKbPerCpu}; [ $KB -lt 256 ] && KB=256`,
    'echo "$KB" > "$I/buffer_size_kb" || exit 3',
    `echo ${formatCpuMask(p.cpus)} > "$I/tracing_cpumask" || exit 3`,
    'echo "tracefs $T mounted_by_kfn=$MOUNTED buffer_kb_per_cpu=$KB"',
    `for e in ${p.events.join(' ')}; do`,
    '  if [ -w "$I/events/$e/enable" ] && echo 1 > "$I/events/$e/enable"; then echo "event $e"; else echo "no event $e"; fi',
    'done',
    'echo 1 > "$I/tracing_on" || exit 3',
    'echo on > "$READY"',
    ...body,
    'echo 0 > "$I/tracing_on"',
    'SAVE=1',
    'exit $RC',
  ].join('\n');
}

/** What the script said about its setup: where tracefs was, and which events the kernel lacked. */
export function parseTraceScriptOutput(stdout: string): { tracefs: string | null; mountedByKfn: boolean; bufferKbPerCpu: number | null; events: string[]; missingEvents: string[] } {
  const lines = stdout.split('\n');
  const setup = lines.map((l) => /^tracefs (\S+) mounted_by_kfn=([01]) buffer_kb_per_cpu=(\d+)$/.exec(l)).find((m) => m !== null);
  return {
    tracefs: setup?.[1] ?? null,
    mountedByKfn: setup?.[2] === '1',
    bufferKbPerCpu: setup ? Number(setup[3]) : null,
    events: lines.flatMap((l) => /^event (\S+)$/.exec(l)?.[1] ?? []),
    missingEvents: lines.flatMap((l) => /^no event (\S+)$/.exec(l)?.[1] ?? []),
  };
}

/**
 * The undo of a kfn-trace run, recorded before it starts for the case where the script itself was
 * killed (SIGKILL) before its own cleanup: switch the instance off and remove it wherever tracefs
 * is mounted. Safe to repeat; touches nothing but that instance.
 */
export function buildInstanceRemovalScript(instance: string): string {
  if (!INSTANCE.test(instance)) throw new RangeError(`trace instance name must match ${INSTANCE}: ${JSON.stringify(instance)}`);
  return [
    `for T in $(awk '$3=="tracefs"{print $2}' /proc/mounts) $(awk '$3=="debugfs"{print $2 "/tracing"}' /proc/mounts); do`,
    `  I="$T/instances/${instance}"`,
    '  if [ -d "$I" ]; then echo 0 > "$I/tracing_on"; rmdir "$I" || exit 1; fi',
    'done',
    'exit 0',
  ].join('\n');
}
