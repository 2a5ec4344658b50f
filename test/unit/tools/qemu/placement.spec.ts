import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildPinScript, buildPlacementProbeScript, parsePlacementProbe } from '../../../../lib/tools/qemu/placement.ts';

// Recorded with util-linux 2.38.1 on QEMU 7.2 (test/fixtures/qemu/README.md).
const recorded = readFileSync(new URL('../../../fixtures/qemu/placement-probe-util-linux-2.38.txt', import.meta.url), 'utf8');

describe('tools/qemu thread placement', () => {
  it('pins every thread to housekeeping first, then each vCPU, with its policy', () => {
    expect(buildPinScript(4903, [0], [{ tid: 4907, cpus: [0] }, { tid: 4908, cpus: [1], policy: { policy: 'SCHED_FIFO', priority: 1 } }]).split('\n')).to.deep.equal([
      'set -e',
      'taskset -a -p -c 0 4903 >/dev/null',
      'taskset -p -c 0 4907 >/dev/null',
      'taskset -p -c 1 4908 >/dev/null',
      'chrt -f -p 1 4908',
    ]);
    expect(buildPlacementProbeScript(7)).to.contain('/proc/7/task/*');
  });

  it('reads back what the kernel holds for every thread, vCPU names included', () => {
    const threads = parsePlacementProbe(recorded);
    expect(threads.map((t) => [t.name, t.cpus, t.policy, t.priority])).to.deep.equal([
      ['kfn-qmptest', [0], 'SCHED_OTHER', 0],
      ['qemu-system-x86', [0], 'SCHED_OTHER', 0],
      ['IO mon_iothread', [0], 'SCHED_OTHER', 0],
      ['CPU 0/TCG', [0], 'SCHED_OTHER', 0],
      ['CPU 1/TCG', [1], 'SCHED_FIFO', 1],
    ]);
  });

  it('rejects a thread whose policy is missing (chrt failed) and unknown lines', () => {
    const cut = recorded.replace("pid 4908's current scheduling policy: SCHED_FIFO\n", '');
    expect(() => parsePlacementProbe(cut)).to.throw(ToolOutputParseError, /thread 4908: no policy/);
    expect(() => parsePlacementProbe(`${recorded}chrt: failed to get pid 4909's policy: No such process\n`)).to.throw(/expected a thread marker/);
    expect(() => parsePlacementProbe('')).to.throw(/no thread listed/);
  });
});
