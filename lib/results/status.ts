import type { Status } from './model.ts';

// error outranks fail outranks pass; a whole is skipped only when every part was.
// An empty list is an error: nothing judged must never read as a pass.
export function combineStatuses(statuses: readonly Status[]): Status {
  if (statuses.length === 0) return 'error';
  if (statuses.includes('error')) return 'error';
  if (statuses.includes('fail')) return 'fail';
  if (statuses.every((s) => s === 'skip')) return 'skip';
  return 'pass';
}

// A run that has not reached its verdict (still running, or killed before it): never a pass,
// never a baseline, never pushed.
export function isUnfinished(run: { status: string }): boolean {
  return run.status === 'running';
}
