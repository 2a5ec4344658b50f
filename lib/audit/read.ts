// Reading a snapshot the way a check must: anything absent, unreadable or malformed
// stops the check with an unknown outcome and a reason, so that no default value can
// ever stand in for a fact the node did not show.
import type { CommandOutput, NodeSnapshot } from '../tools/node-snapshot/parse.ts';
import { parseKernelCpuList } from './kernel-cpu-list.ts';

/** Thrown by the read helpers; defineCheck turns it into an unknown outcome. */
export class UnknownState extends Error {
  readonly found: string | undefined;

  constructor(reason: string, found?: string) {
    super(reason);
    this.name = 'UnknownState';
    this.found = found;
  }
}

// Ends a check as unknown from anywhere in its logic.
export function giveUp(reason: string, found?: string): never {
  throw new UnknownState(reason, found);
}

// Unknown outcomes name which of the three ways a file was not there.
export function describeAbsence(snapshot: NodeSnapshot, path: string, glob?: string): string {
  const error = snapshot.errors.get(path);
  if (error !== undefined) return `${path} could not be read: ${error}`;
  if (snapshot.missing.has(path)) return `${path} does not exist on this node`;
  if (glob !== undefined && snapshot.missing.has(glob)) return `nothing on this node matches ${glob}`;
  return `${path} is not in the snapshot`;
}

// For facts whose absence is itself meaningful (e.g. /sys/kernel/realtime on a non-RT kernel).
export function tryText(snapshot: NodeSnapshot, path: string): string | undefined {
  return snapshot.files.get(path);
}

// The content of one file, or an unknown outcome naming why it is not there.
export function readText(snapshot: NodeSnapshot, path: string): string {
  const text = snapshot.files.get(path);
  if (text === undefined) giveUp(describeAbsence(snapshot, path));
  return text;
}

// Sysfs and procfs single values: one integer on one line.
export function readInteger(snapshot: NodeSnapshot, path: string): number {
  const text = readText(snapshot, path).trim();
  if (!/^-?\d{1,19}$/.test(text)) giveUp(`expected an integer in ${path}, found ${JSON.stringify(text.slice(0, 80))}`, text.slice(0, 80));
  return Number(text);
}

// Sysfs lists such as node0/cpulist or smp_affinity_list.
export function readCpuList(snapshot: NodeSnapshot, path: string): number[] {
  return parseCpusOrGiveUp(readText(snapshot, path).trim(), path);
}

// CPU lists in kernel parameters are as untrusted as file contents.
export function parseCpusOrGiveUp(text: string, where: string, lastCpu?: number): number[] {
  const parsed = parseKernelCpuList(text, lastCpu);
  if (!parsed.ok) giveUp(`${where}: ${parsed.message}`, text.slice(0, 80));
  return parsed.cpus;
}

// Globbed files (per CPU, per IRQ, per NUMA node) are found by their path shape.
export function matchingPaths(snapshot: NodeSnapshot, pattern: RegExp): string[] {
  return [...snapshot.files.keys(), ...snapshot.errors.keys()].filter((p) => pattern.test(p)).sort(comparePaths);
}

// Natural order, so cpu10 sorts after cpu9 in messages.
export function comparePaths(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

// Command outputs are optional by nature (virsh, systemctl may not exist), so no unknown here.
export function readCommand(snapshot: NodeSnapshot, name: string): CommandOutput | undefined {
  return snapshot.commands.get(name);
}

// Kernel version gates (the fair server exists from 6.12); the pod may have stated it already.
export function readKernelRelease(snapshot: NodeSnapshot, context: { kernelRelease?: string }): string {
  if (context.kernelRelease) return context.kernelRelease;
  const uname = snapshot.commands.get('uname-r');
  if (uname && uname.exitCode === 0 && uname.stdout.trim() !== '') return uname.stdout.trim();
  const osrelease = snapshot.files.get('/proc/sys/kernel/osrelease');
  if (osrelease !== undefined && osrelease.trim() !== '') return osrelease.trim();
  return giveUp('kernel release unknown: no uname -r output and no /proc/sys/kernel/osrelease');
}

// Only major.minor matter for feature gates; vendor suffixes are ignored.
export function parseKernelVersion(release: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

// NUMA placement checks need each node's CPUs; a kernel without NUMA sysfs gives unknown.
export function readNumaNodes(snapshot: NodeSnapshot): Map<number, number[]> {
  const nodes = new Map<number, number[]>();
  for (const path of matchingPaths(snapshot, /^\/sys\/devices\/system\/node\/node\d+\/cpulist$/)) {
    nodes.set(Number(/node(\d+)\/cpulist$/.exec(path)?.[1]), readCpuList(snapshot, path));
  }
  if (nodes.size === 0) giveUp(describeAbsence(snapshot, '/sys/devices/system/node/node*/cpulist'));
  return nodes;
}

// Checks that say "every rt CPU ..." would pass vacuously on an empty list.
export function requireRtCpus(context: { rtCpus: readonly number[]; node: string }): readonly number[] {
  if (context.rtCpus.length === 0) giveUp(`pod.yaml gives no rt_cpus for node ${context.node}, so there is nothing to check against`, 'no rt_cpus');
  return context.rtCpus;
}

// Set arithmetic on CPU lists, keeping the first list's order for messages.
export function intersect(a: readonly number[], b: readonly number[]): number[] {
  const set = new Set(b);
  return a.filter((x) => set.has(x));
}

// The CPUs of `a` missing from `b`: what a fix must add or move.
export function difference(a: readonly number[], b: readonly number[]): number[] {
  const set = new Set(b);
  return a.filter((x) => !set.has(x));
}
