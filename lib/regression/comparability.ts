// Like with like: a figure is compared with its baseline only when everything that moves
// it, apart from the change under test, is the same: pod, profile, load, duration, kernels and
// QEMU, and the case arguments each extractor reads back from the details (figures.ts
// FigureContext.conditions: generator, forwarder, loss tolerances, cyclictest interval, ...).
// Each part of the key has a name and a reason, so that every figure not compared says why.
import type { NodeSystemInfo, RunResult } from '../results/model.ts';
import { POD_WIDE, type RegressionFigure } from './figures.ts';
import type { CompareAcross } from './policy.ts';

/** One condition of a measurement. `null` means not recorded, which never matches. */
export interface KeyPart {
  name: string;
  value: string | null;
  /** compare_across can waive kernel and QEMU differences; nothing else. */
  waivableAs?: CompareAcross;
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

// Everything that must match, in the order reasons are reported.
export function buildComparabilityKey(run: RunResult, figure: RegressionFigure, nodeNames: readonly string[] = relevantNodes(run, figure)): ComparabilityKey {
  const { load, durationS, frameSize, conditions } = figure.context;
  const parts: KeyPart[] = [
    { name: 'pod', value: run.pod.name },
    { name: 'threshold profile', value: run.thresholds.profile },
    { name: 'load', value: load === undefined ? 'none' : load },
    { name: 'duration', value: durationS === undefined || durationS === null ? null : `${durationS} s` },
  ];
  if (frameSize !== undefined) parts.push({ name: 'frame size', value: `${frameSize} B` });
  // Case arguments (generator, forwarder, interval, priority, ...): each named after its run.args key.
  for (const [name, value] of Object.entries(conditions ?? {})) parts.push({ name, value });
  for (const name of nodeNames) {
    const info = run.nodes[name];
    parts.push({ name: `kernel of ${name}`, value: kernelOf(info), waivableAs: 'kernel' });
    // A node with no QEMU (bare metal, a namespace) records null; that is a fact, not a gap.
    if (info) parts.push({ name: `QEMU on ${name}`, value: info.qemuVersion ?? 'none found', waivableAs: 'qemu' });
    // A guest's figures under TCG and under KVM are different systems; never waived.
    if (info?.role === 'guest') {
      parts.push({ name: `accelerator of ${name}`, value: info.launch?.accelerator ?? 'not launched by the harness' });
      if (info.launch) parts.push({ name: `QEMU running ${name}`, value: info.launch.qemuVersion, waivableAs: 'qemu' });
    }
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

export interface CompareKeysOptions {
  compareAcross?: readonly CompareAcross[];
  /**
   * 'blocks' (default): a condition this run did not record stops the comparison. 'unknown':
   * it is left unchecked, for a figure this run lacks, whose case often stopped before it
   * recorded its conditions; only a condition recorded in both runs and different then blocks.
   */
  unrecordedInCurrent?: 'blocks' | 'unknown';
}

function reasonFor(name: string, baseline: string | null, current: string | null): string {
  if (baseline === null || current === null) {
    const which = baseline === null && current === null ? 'either run' : baseline === null ? 'the baseline' : 'this run';
    return `${name} not recorded in ${which}: cannot tell whether the conditions changed`;
  }
  if (name === 'duration') return `baseline ran ${baseline}, this run ${current}: max and percentiles over different lengths mislead`;
  if (name === 'load') return `baseline ran under load ${baseline}, this run under ${current}: different loads are different tests`;
  if (name.startsWith('kernel of')) return `${name} differs (baseline ${baseline}, this run ${current}): a different kernel is a different system; add kernel to regression.compare_across to compare anyway`;
  if (name.startsWith('accelerator of')) return `${name} differs (baseline ${baseline}, this run ${current}): figures under KVM and under TCG emulation are not comparable`;
  if (name.startsWith('QEMU on') || name.startsWith('QEMU running')) return `${name} differs (baseline ${baseline}, this run ${current}); add qemu to regression.compare_across to compare anyway`;
  return `${name} differs: baseline ${baseline}, this run ${current}`;
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
    if (bv !== null && bv === cv) {
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
    blocking.push(reasonFor(name, bv, cv));
  }
  return { blocking, waived, matched: matched.join(', '), unrecorded };
}
