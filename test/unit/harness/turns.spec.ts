import { expect } from 'chai';
import { TurnRefused, Turns } from '../../../lib/harness/turns.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('harness/turns: shared nodes, one group at a time', () => {
  it('lets one holder in, queues the next until release, and lets a holder take its own turn again', async () => {
    const turns = new Turns();
    const a = { id: 'timer on c0' };
    const b = { id: 'timer on c1' };
    await turns.take('tg', a);
    await turns.take('tg', a);
    let bIn = false;
    const waiting = turns.take('tg', b).then(() => (bIn = true));
    await tick();
    expect(bIn).to.equal(false);
    expect(turns.holderOf('tg')).to.equal('timer on c0');
    turns.release(a);
    await waiting;
    expect(turns.holderOf('tg')).to.equal('timer on c1');
  });

  it('refuses a wait that would never end (each holding what the other wants) instead of hanging', async () => {
    const turns = new Turns();
    const a = { id: 'A' };
    const b = { id: 'B' };
    await turns.take('tg1', a);
    await turns.take('tg2', b);
    const aWaits = turns.take('tg2', a);
    await tick();
    const refused = await turns.take('tg1', b).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(TurnRefused);
    expect((refused as Error).message).to.equal("B and A would wait for each other's turn (on tg1): refused rather than hang");
    turns.release(b);
    await aWaits;
    expect(turns.holderOf('tg2')).to.equal('A');
  });

  it('refuses a turn to a holder that has ended, and to one waiting when the run is aborted', async () => {
    const turns = new Turns();
    const a = { id: 'A' };
    turns.release(a);
    await turns.take('tg', a).then(() => expect.fail('taken'), (e: unknown) => expect((e as Error).message).to.match(/A has ended/));
    const b = { id: 'B' };
    const c = { id: 'C' };
    await turns.take('tg', b);
    const controller = new AbortController();
    const waiting = turns.take('tg', c, controller.signal).then(() => 'taken', (e: unknown) => (e as Error).message);
    controller.abort();
    expect(await waiting).to.equal('the run was aborted while C waited for its turn on tg');
  });
});
