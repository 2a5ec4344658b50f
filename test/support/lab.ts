// The lab pod around a group of lab tests: brought up once when it is not up already, and
// taken down afterwards only by whoever brought it up.
import { expect } from 'chai';
import { runCliProcess } from './cli.ts';

// Returns true when this call brought the lab up (so the caller takes it down again). `guest`
// is the lab guest's kind when it is brought up here; a lab already up is used as it is.
export async function ensureLabUp(guest: 'vm' | 'namespace' = 'vm'): Promise<boolean> {
  const status = await runCliProcess(['lab', 'status'], { timeoutMs: 60_000 });
  if ((JSON.parse(status.stdout) as { healthy: boolean }).healthy) return false;
  const up = await runCliProcess(['lab', 'up', '--guest', guest], { timeoutMs: 600_000 });
  expect(up.exitCode, `${up.stdout}\n${up.stderr}`).to.equal(0);
  return true;
}
