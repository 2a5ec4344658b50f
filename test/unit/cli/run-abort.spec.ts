// The run's abort wiring: a forced exit (a second signal, or a graceful stop past its grace)
// still writes the reports, and they say error, never running and never pass.
import { expect } from 'chai';
import { createRunAbort } from '../../../lib/cli/run-abort.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { withRun } from '../regression/runs.ts';
import { FakeProcess } from '../../support/fake-process.ts';


describe('cli/run-abort', () => {
  it('on a forced exit: runs the cleanup, then writes the run as it stood with status error and exit 70', async () => {
    const proc = new FakeProcess();
    const events: string[] = [];
    let exited: number | undefined;
    const abort = createRunAbort({ processLike: proc.asProcess(), exit: (code) => void (exited = code), duplicateWindowMs: 0 });
    abort.setLog((line) => events.push(`log ${line.split(':')[0]}`));
    abort.setEmergencyCleanup(async () => void events.push('cleanup'));
    const written: RunResult[] = [];
    abort.setFinalReporters([{ name: 'results.json', onEnd: (run) => void written.push(structuredClone(run)) }]);
    const run = withRun((r) => {
      r.status = 'running';
      r.exitCode = 70;
    });
    await abort.tracker.onBegin?.(run);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(abort.handlers.signal.aborted).to.equal(true);
    proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    expect(events).to.deep.equal(['log SIGTERM received', 'log second SIGTERM', 'cleanup']);
    expect(written.map((r) => [r.status, r.exitCode])).to.deep.equal([['error', 70]]);
    expect(written[0]?.notes.at(-1)).to.equal('aborted by SIGTERM; the graceful stop did not finish, so the emergency cleanup ran and the harness exited');
    expect(exited).to.equal(70);
    abort.handlers.dispose();
  });
});
