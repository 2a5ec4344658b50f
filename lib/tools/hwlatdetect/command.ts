// hwlatdetect's command line, and the scripts around it. hwlatdetect (rt-tests
// src/hwlatdetect/hwlatdetect.py) drives the kernel's hwlat tracer through the GLOBAL tracing
// files: it sets current_tracer=hwlat, tracing_thresh, tracing_cpumask, hwlat_detector/width and
// window, and on exit writes tracing_on=0 and current_tracer=nop, whatever they were before. The
// hwlat tracer cannot run in an instance. So the suite wraps it in kfn-hwlat, which refuses to
// start while someone else's tracer is set, saves every file hwlatdetect writes, and puts them
// back on every exit. The probe reads available_tracers without leaving anything mounted.
import { formatCpuList } from '../../config/cpu-list.ts';
import { buildShellCommand, quoteArg } from '../../remote/quote.ts';

export interface HwlatdetectParams {
  binary?: string;
  durationS: number;
  thresholdUs: number;
  windowUs: number;
  widthUs: number;
  /** CPUs the hwlat thread moves across (--cpu-list). */
  cpus: readonly number[];
}

export function buildHwlatdetectCommand(p: HwlatdetectParams): string[] {
  for (const [name, v] of Object.entries({ durationS: p.durationS, thresholdUs: p.thresholdUs, windowUs: p.windowUs, widthUs: p.widthUs })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`hwlatdetect ${name} must be a whole number ≥ 1, got ${v}`);
  }
  if (p.widthUs >= p.windowUs) throw new RangeError(`hwlatdetect width ${p.widthUs} us must be below the window ${p.windowUs} us`);
  if (p.cpus.length === 0) throw new RangeError('hwlatdetect needs at least one CPU');
  // Plain digits: hwlatdetect's seconds() and microseconds() read them as s and us.
  return [p.binary ?? 'hwlatdetect', '--watch', '--duration', String(p.durationS), '--threshold', String(p.thresholdUs), '--window', String(p.windowUs), '--width', String(p.widthUs), '--cpu-list', formatCpuList(p.cpus)];
}

/** The tracing folder, found as hwlatdetect and the kernel docs describe: tracefs, or debugfs/tracing. */
const FIND_TRACING = [
  `T=$(awk '$3=="tracefs"{print $2; exit}' /proc/mounts)`,
  `D=$(awk '$3=="debugfs"{print $2; exit}' /proc/mounts)`,
  '[ -z "$T" ] && [ -n "$D" ] && [ -d "$D/tracing" ] && T="$D/tracing"',
];

// The tracing folder, or one mounted in a folder of the run's own for the length of the script.
function withTracing(runDir: string): string[] {
  const m = quoteArg(`${runDir}/kfn-tracefs-probe`);
  return [
    'set -u',
    ...FIND_TRACING,
    'if [ -z "$T" ]; then',
    `  mkdir -p ${m} && mount -t tracefs nodev ${m} || { echo "no tracefs: none mounted and mounting one failed" >&2; exit 3; }`,
    `  trap 'umount ${m}; rmdir ${m}' EXIT; T=${m}`,
    'fi',
  ];
}

/**
 * Prints `tracers: <available_tracers>`, `current: <current_tracer>` and `file <name>=<value>` for
 * every global file hwlatdetect writes, read before it runs; mounts nothing that outlives it.
 */
export function buildTracerProbeScript(runDir: string): string {
  return [
    ...withTracing(runDir),
    'echo "tracers: $(cat "$T/available_tracers")"',
    'echo "current: $(cat "$T/current_tracer")"',
    ...SAVED.map((f) => `[ -r "$T/${f}" ] && echo "file ${f}=$(cat "$T/${f}")"`),
    'exit 0',
  ].join('\n');
}

export interface TracerProbe {
  tracers: string[];
  current: string | null;
  /** The global files hwlatdetect writes, as they were. */
  saved: Record<string, string>;
}

export function parseTracerProbe(stdout: string): TracerProbe {
  const tracers = /^tracers: (.*)$/m.exec(stdout)?.[1];
  if (tracers === undefined) throw new Error(`the tracer probe printed no "tracers:" line: ${JSON.stringify(stdout.slice(0, 200))}`);
  const saved: Record<string, string> = {};
  for (const m of stdout.matchAll(/^file ([a-z_/]+)=(.*)$/gm)) saved[m[1] as string] = (m[2] as string).trim();
  return { tracers: tracers.trim().split(/\s+/).filter(Boolean), current: /^current: (\S+)$/m.exec(stdout)?.[1] ?? null, saved };
}

/**
 * The undo of a hwlatdetect run, recorded before it starts for the case where neither kfn-hwlat
 * nor the harness lives to restore: while the hwlat tracer is still set, put back the values
 * read beforehand. Safe to repeat; does nothing once someone else set another tracer.
 */
export function buildHwlatRestoreScript(runDir: string, probe: TracerProbe): string {
  const writes = [...SAVED].reverse().flatMap((f) => (probe.saved[f] === undefined ? [] : [`echo ${quoteArg(probe.saved[f] as string)} > "$T/${f}"`]));
  return [
    ...withTracing(runDir),
    '[ "$(cat "$T/current_tracer")" = hwlat ] || exit 0',
    `echo ${quoteArg(probe.current ?? 'nop')} > "$T/current_tracer"`,
    ...writes,
  ].join('\n');
}

const SAVED = ['tracing_on', 'tracing_thresh', 'tracing_cpumask', 'hwlat_detector/width', 'hwlat_detector/window'] as const;

/** Exit codes of kfn-hwlat when it did not run hwlatdetect. */
export const HWLAT_WRAPPER_EXIT = { noTracing: 3, tracerBusy: 4, noHwlat: 5 } as const;

/**
 * kfn-hwlat: runs hwlatdetect with debugfs mounted (by it, when it was not), every global file
 * hwlatdetect writes saved first and written back on any exit; on SIGINT/SIGTERM hwlatdetect is
 * stopped with SIGTERM. Exits with hwlatdetect's code (1: a sample above its threshold, which it
 * reports as a failure and the suite reads as a figure).
 */
export function buildHwlatWrapperScript(argv: readonly string[]): string {
  const restore = [...SAVED].reverse().map((f) => `  [ -n "$S_${f.replace('/', '_')}" ] && echo "$S_${f.replace('/', '_')}" > "$T/${f}"`);
  return [
    '#!/bin/sh',
    '# kfn-hwlat: hwlatdetect with the global tracing state saved and restored',
    'set -u',
    'MOUNTED=0; CHILD=; SAVED=0',
    `D=$(awk '$3=="debugfs"{print $2; exit}' /proc/mounts)`,
    'if [ -z "$D" ]; then mount -t debugfs none /sys/kernel/debug || { echo "kfn-hwlat: cannot mount debugfs" >&2; exit 3; }; D=/sys/kernel/debug; MOUNTED=1; fi',
    'T="$D/tracing"',
    'finish() {',
    "  trap '' INT TERM HUP",
    '  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi',
    '  if [ "$SAVED" = 1 ]; then',
    '  echo "$S_current_tracer" > "$T/current_tracer"',
    ...restore,
    '  echo "kfn-hwlat: restored tracing_on=$S_tracing_on current_tracer=$S_current_tracer tracing_thresh=$S_tracing_thresh"',
    '  fi',
    '  if [ "$MOUNTED" = 1 ]; then umount "$D" || echo "kfn-hwlat: could not unmount $D" >&2; fi',
    '}',
    'trap finish EXIT',
    "trap 'exit 130' INT TERM HUP",
    `[ -r "$T/available_tracers" ] || { echo "kfn-hwlat: no tracing folder under $D" >&2; exit ${HWLAT_WRAPPER_EXIT.noTracing}; }`,
    `grep -qw hwlat "$T/available_tracers" || { echo "kfn-hwlat: this kernel has no hwlat tracer (available_tracers: $(cat "$T/available_tracers"))" >&2; exit ${HWLAT_WRAPPER_EXIT.noHwlat}; }`,
    'S_current_tracer=$(cat "$T/current_tracer")',
    `[ "$S_current_tracer" = nop ] || { echo "kfn-hwlat: the global tracer is in use ($S_current_tracer): not taking it over" >&2; exit ${HWLAT_WRAPPER_EXIT.tracerBusy}; }`,
    ...SAVED.map((f) => `S_${f.replace('/', '_')}=$(cat "$T/${f}" 2>/dev/null)`),
    'SAVED=1',
    `${buildShellCommand(argv)} &`,
    'CHILD=$!',
    'wait "$CHILD"; RC=$?',
    'CHILD=',
    'exit $RC',
  ].join('\n');
}
