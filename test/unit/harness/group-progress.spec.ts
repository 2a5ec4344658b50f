import { expect } from 'chai';
import { createGroupBoard } from '../../../lib/harness/group-progress.ts';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { stream: { isTTY, write: (t: string) => out.push(t) }, text: () => out.join('') };
}

describe('harness/group-progress: each group state at a glance', () => {
  it('writes plain lines prefixed with the group when not on a terminal, at a bounded rate', () => {
    const s = sink(false);
    const board = createGroupBoard({ groups: ['c0', 'c1'], stream: s.stream, plainEveryS: 10 });
    board.state('c0', 'timer: running');
    const task = board.progressFor('c1').start('cyclictest on c1', 30);
    task.update(1);
    task.update(5);
    task.update(12);
    task.done();
    board.progressFor('c0').note('guest g0: launching');
    expect(s.text().split('\n')).to.deep.equal([
      '[c0] timer: running',
      '[c1] cyclictest on c1: started (30 s)',
      '[c1] cyclictest on c1: 3% (1 s of 30 s)',
      '[c1] cyclictest on c1: 40% (12 s of 30 s)',
      '[c1] cyclictest on c1: done',
      '[c0] guest g0: launching',
      '',
    ]);
  });

  it('redraws one line per group in place on a terminal, with the running measurement', () => {
    const s = sink(true);
    const board = createGroupBoard({ groups: ['c0', 'c10'], stream: s.stream });
    board.state('c10', 'timer: running');
    const task = board.progressFor('c10').start('cyclictest on c10', 20);
    task.update(10);
    const last = s.text().split('\x1b[2A\r\x1b[J').pop();
    expect(last).to.equal('c0   waiting\nc10  timer: running  cyclictest on c10 [##########..........] 50% 10 s/20 s\n');
    // While paused (a case's results being printed) nothing is drawn; resume draws it again below.
    board.pause();
    const before = s.text().length;
    task.update(15);
    board.state('c0', 'timer: running');
    expect(s.text().length).to.equal(before);
    board.resume();
    expect(s.text().slice(before)).to.equal('c0   timer: running\nc10  timer: running  cyclictest on c10 [###############.....] 75% 15 s/20 s\n');
    task.done('pass');
    board.close();
    expect(s.text()).to.contain('[c10] cyclictest on c10: done: pass\n');
  });
});
