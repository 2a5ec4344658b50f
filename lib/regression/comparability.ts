// Like with like: a figure is compared with its baseline only when everything that moves
// it, apart from the change under test, is the same: pod, profile, load, duration, kernels and
// QEMU, and the case arguments each extractor reads back from the details (figures.ts
// FigureContext.conditions: generator, forwarder, accelerator, loss tolerances, cyclictest
// interval, ...). Each part of the key has a name and a reason, so that every figure not
// compared says why. decideComparability is the one place that says whether, and how, a figure
// may be set against a reference: the regression gate, the forwarding comparison and
// `report --vs` all ask it, so a bound is never shown as an exact difference in one of them.
import type { Delta, NoDelta } from '../results/comparison.ts';
import type { NodeSystemInfo, RunResult } from '../results/model.ts';
import { convert } from '../verdict/units.ts';
import { ACCELERATOR_CONDITION, NO_ACCELERATOR } from './conditions.ts';
import { POD_WIDE, type RegressionFigure } from './figures.ts';
import type { CompareAcross } from './policy.ts';

/** One condition of a measurement. `null` means not recorded, which never matches. */
export interface KeyPart {
  name: string;
  value: string | null;
  /** compare_across can waive kernel and QEMU differences; nothing else. */
  waivableAs?: CompareAcross;
  /** Compared instead of `value` when set (see acrossPaths); `value` stays what is reported. */
  matchAs?: string;
}

export type ComparabilityKey = KeyPart[];

// The hypervisor shapes every guest figure, so its kernel and QEMU belong to every key;
// a pod-wide figure (forwarding through several nodes) depends on every node.
export function relevantNodes(run: RunResult, figure: RegressionFigure): string[] {
  if (figure.node === POD_WIDE) return Object.keys(run.nodes).sort();
  const hosts = Object.entries(run.nodes)
    .filter(([, n]) => n.role === 'host')
    .map(([name]) => name);
  return [...new Set([figure.node, ...hosts])].sort();
}

function kernelOf(info: NodeSystemInfo | undefined): string | null {
  if (!info || info.kernelRelease === null) return null;
  return info.kernelVersion === null ? info.kernelRelease : `${info.kernelRelease} ${info.kernelVersion}`;
}

/**
 * The conditions of the figure itself: load, duration, frame size and the case arguments.
 * Two paths of one run share everything else; `report --vs` states the rest (pod, profile,
 * kernels, QEMU) as caveats beside the figures instead.
 */
export function buildConditionKey(figure: RegressionFigure): ComparabilityKey {
  const { load, durationS, frameSize, conditions } = figure.context;
  const parts: KeyPart[] = [
    { name: 'load', value: load === undefined ? 'none' : load },
    { name: 'duration', value: durationS === undefined || durationS === null ? null : `${durationS} s` },
  ];
  if (frameSize !== undefined) parts.push({ name: 'frame size', value: `${frameSize} B` });
  // Case arguments (generator, forwarder, accelerator, interval, ...): each named after its run.args key.
  for (const [name, value] of Object.entries(conditions ?? {})) parts.push({ name, value });
  return parts;
}

/**
 * For setting one path of a run against another (SR-IOV or OVS-DPDK against bare metal): the
 * VM is the change under test, so a guest under KVM is compared with bare metal, which has no
 * accelerator. An emulated guest (TCG) measures the emulator, not KVM: it is not comparable.
 * Every other condition must still be equal.
 */
export function acrossPaths(key: ComparabilityKey): ComparabilityKey {
  return key.map((p) => (p.name === ACCELERATOR_CONDITION && (p.value === NO_ACCELERATOR || p.value === 'kvm') ? { ...p, matchAs: 'native or KVM' } : p));
}

// Everything that must match, in the order reasons are reported.
export function buildComparabilityKey(run: RunResult, figure: RegressionFigure, nodeNames: readonly string[] = relevantNodes(run, figure)): ComparabilityKey {
  const parts: KeyPart[] = [
    { name: 'pod', value: run.pod.name },
    { name: 'threshold profile', value: run.thresholds.profile },
    ...buildConditionKey(figure),
  ];
  for (const name of nodeNames) {
    const info = run.nodes[name];
    parts.push({ name: `kernel of ${name}`, value: kernelOf(info), waivableAs: 'kernel' });
    // A node with no QEMU (bare metal, a namespace) records null; that is a fact, not a gap.
    if (info) parts.push({ name: `QEMU on ${name}`, value: info.qemuVersion ?? 'none found', waivableAs: 'qemu' });
    // The QEMU that ran a launched guest (a gate job's new build); its accelerator is a case condition.
    if (info?.launch) parts.push({ name: `QEMU running ${name}`, value: info.launch.qemuVersion, waivableAs: 'qemu' });
  }
  return parts;
}

export interface KeyComparison {
  /** Differences that stop the comparison, each a full sentence. */
  blocking: string[];
  /** Differences waived by compare_across, stated beside the compared figure. */
  waived: string[];
  /** What matched, e.g. `pod intel-pod10, load idle, duration 60 s, ...`. */
  matched: string;
  /** With `unrecordedInCurrent: 'unknown'`: conditions this run did not record, left unchecked. */
  unrecorded: string[];
}

/** How the two sides are named in reasons: by default the baseline run and this run. */
export interface ComparisonLabels {
  reference: string;
  current: string;
  /** Both sides, e.g. `either run`. */
  either: string;
}

const RUN_LABELS: ComparisonLabels = { reference: 'the baseline', current: 'this run', either: 'either run' };

export interface CompareKeysOptions {
  compareAcross?: readonly CompareAcross[];
  labels?: ComparisonLabels;
  /**
   * 'blocks' (default): a condition this run did not record stops the comparison. 'unknown':
   * it is left unchecked, for a figure this run lacks, whose case often stopped before it
   * recorded its conditions; only a condition recorded in both runs and different then blocks.
   */
  unrecordedInCurrent?: 'blocks' | 'unknown';
}

function reasonFor(name: string, baseline: string | null, current: string | null, labels: ComparisonLabels): string {
  if (baseline === null || current === null) {
    const which = baseline === null && current === null ? labels.either : baseline === null ? labels.reference : labels.current;
    return `${name} not recorded in ${which}: cannot tell whether the conditions changed`;
  }
  const ref = labels.reference.replace(/^the /, '');
  const cur = labels.current;
  if (name === 'duration') return `${ref} ran ${baseline}, ${cur} ${current}: max and percentiles over different lengths mislead`;
  if (name === 'load') return `${ref} ran under load ${baseline}, ${cur} under ${current}: different loads are different tests`;
  if (name.startsWith('kernel of')) return `${name} differs (${ref} ${baseline}, ${cur} ${current}): a different kernel is a different system; add kernel to regression.compare_across to compare anyway`;
  if (name.startsWith('QEMU on') || name.startsWith('QEMU running')) return `${name} differs (${ref} ${baseline}, ${cur} ${current}); add qemu to regression.compare_across to compare anyway`;
  if (name === ACCELERATOR_CONDITION) return `${name} differs: ${ref} ${baseline}, ${cur} ${current}: figures of an emulated or another hypervisor are not KVM's`;
  return `${name} differs: ${ref} ${baseline}, ${cur} ${current}`;
}

// Compares part by part; a part missing from one key counts as not recorded there.
export function compareKeys(baseline: ComparabilityKey, current: ComparabilityKey, options: CompareKeysOptions = {}): KeyComparison {
  const compareAcross = options.compareAcross ?? [];
  const blocking: string[] = [];
  const waived: string[] = [];
  const matched: string[] = [];
  const unrecorded: string[] = [];
  const names = [...new Set([...current.map((p) => p.name), ...baseline.map((p) => p.name)])];
  for (const name of names) {
    const b = baseline.find((p) => p.name === name);
    const c = current.find((p) => p.name === name);
    const bv = b?.value ?? null;
    const cv = c?.value ?? null;
    if (bv !== null && cv !== null && (b?.matchAs ?? bv) === (c?.matchAs ?? cv)) {
      matched.push(`${name} ${cv}`);
      continue;
    }
    if (cv === null && options.unrecordedInCurrent === 'unknown') {
      unrecorded.push(name);
      continue;
    }
    const waivable = c?.waivableAs ?? b?.waivableAs;
    if (waivable !== undefined && compareAcross.includes(waivable) && bv !== null && cv !== null) {
      waived.push(`${name} changed from ${bv} to ${cv} (compared because regression.compare_across includes ${waivable})`);
      continue;
    }
    blocking.push(reasonFor(name, bv, cv, options.labels ?? RUN_LABELS));
  }
  return { blocking, waived, matched: matched.join(', '), unrecorded };
}

const hasValue = (f: RegressionFigure) => f.value !== null || f.atLeast !== undefined;

// What a side has of the figure, for a reason: `this run's ndr` or `ovs_dpdk_forwarding's ndr`.
function sideOf(label: string, metric: string): string {
  return label === 'this run' ? `this run's ${metric}` : label === 'the baseline' ? `the baseline's ${metric}` : `${label}'s ${metric}`;
}

/**
 * The difference of two figures, in the current figure's unit. Exact against exact is signed;
 * when one of them is only a lower bound, only one side of the difference is known; two bounds,
 * or a figure missing on either side, give no difference at all.
 */
export function compareFigureValues(current: RegressionFigure, reference: RegressionFigure, labels: ComparisonLabels = RUN_LABELS): Delta | NoDelta {
  const metric = current.metric;
  if (!hasValue(current) && !hasValue(reference)) return { kind: 'not-comparable', reason: `neither ${labels.either.replace(/^either /, '')} has ${metric}: ${current.note ?? 'not measured'}` };
  if (!hasValue(current)) return { kind: 'not-comparable', reason: `${labels.current} has no ${metric}: ${current.note ?? 'not measured'}` };
  if (!hasValue(reference)) return { kind: 'not-comparable', reason: `${labels.reference} has no ${metric}: ${reference.note ?? 'not measured'}` };
  let ref: number;
  try {
    ref = convert((reference.value ?? reference.atLeast) as number, reference.unit, current.unit);
  } catch {
    return { kind: 'not-comparable', reason: `units differ and do not convert: ${labels.reference.replace(/^the /, '')} ${reference.unit}, ${labels.current} ${current.unit}` };
  }
  const cur = (current.value ?? current.atLeast) as number;
  const value = cur - ref;
  const percent = ref === 0 ? null : (value / ref) * 100;
  if (current.value !== null && reference.value !== null) return { kind: 'exact', value, percent };
  if (current.value !== null) return { kind: 'at-most', value, percent };
  if (reference.value !== null) return { kind: 'at-least', value, percent };
  return {
    kind: 'not-comparable',
    reason: `${sideOf(labels.current, metric)} and ${sideOf(labels.reference, metric)} are both only lower bounds (${current.note ?? 'not exact'}; ${reference.note ?? 'not exact'}): the difference could have either sign`,
  };
}

export type Comparability =
  | { comparable: true; delta: Delta; matched: string; waived: string[] }
  /** `not-comparable`: the conditions differ; `unavailable`: the figures allow no difference. */
  | { comparable: false; kind: 'not-comparable' | 'unavailable'; reason: string };

export interface DecideComparabilityInput {
  current: RegressionFigure;
  reference: RegressionFigure;
  currentKey: ComparabilityKey;
  referenceKey: ComparabilityKey;
  options?: CompareKeysOptions;
}

// Conditions first, then the values: a figure measured otherwise is not compared even when exact.
export function decideComparability(input: DecideComparabilityInput): Comparability {
  const options = input.options ?? {};
  const keys = compareKeys(input.referenceKey, input.currentKey, options);
  if (keys.blocking.length > 0) return { comparable: false, kind: 'not-comparable', reason: keys.blocking.join('; ') };
  const delta = compareFigureValues(input.current, input.reference, options.labels);
  if (delta.kind === 'not-comparable') return { comparable: false, kind: 'unavailable', reason: delta.reason };
  return { comparable: true, delta, matched: keys.matched, waived: keys.waived };
}
