// The optional loads of kvmfornfv's daily runs (idle, cpu, memory, io), rebuilt on
// stress-ng, which replaced stress on current distributions.
import { formatCpuList } from '../../config/cpu-list.ts';

export const LOAD_KINDS = ['idle', 'cpu', 'memory', 'io'] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

export interface StressParams {
  binary?: string;
  kind: Exclude<LoadKind, 'idle'>;
  cpus: readonly number[];
  durationS: number;
  /** Where io workers write their files (the run's directory on the node). */
  tempDir: string;
}

/** argv for one load; one worker per CPU in the list, pinned there by --taskset. */
export function buildStressCommand(params: StressParams): string[] {
  if (params.cpus.length === 0) throw new Error('stress-ng load needs at least one CPU');
  const workers = String(params.cpus.length);
  const common = ['--taskset', formatCpuList(params.cpus), '--timeout', `${Math.ceil(params.durationS)}s`, '--metrics-brief'];
  const byKind: Record<StressParams['kind'], string[]> = {
    cpu: ['--cpu', workers, '--cpu-load', '100'],
    memory: ['--vm', workers, '--vm-bytes', '256M'],
    io: ['--io', workers, '--hdd', workers, '--hdd-bytes', '128M', '--temp-path', params.tempDir],
  };
  return [params.binary ?? 'stress-ng', ...byKind[params.kind], ...common];
}
