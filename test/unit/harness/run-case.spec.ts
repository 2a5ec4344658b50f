import { expect } from 'chai';
import { runCase } from '../../../lib/harness/run-case.ts';
import { buildFakeScope, catalogueCase } from '../../support/fake-scope.ts';

describe('runCase: mocha under the harness', () => {
  it('turns a failed before hook into one error per declared test, with the cause, and no made-up hook test', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('before-throws', 'timer'));
    const titles = result.testcases.map((t) => t.title);
    expect(titles).to.deep.equal(['guest: cyclictest measured every thread', 'guest: max ≤ 1000 us (assert)', 'host: cyclictest measured every thread']);
    expect(titles.join()).not.to.match(/before all|hook/i);
    const [a, b, c] = result.testcases;
    expect(a?.status).to.equal('error');
    expect(a?.message).to.contain('ECONNREFUSED 198.18.9.3:22');
    expect(b?.status).to.equal('error');
    expect(c?.status).to.equal('pass');
    expect(result.status).to.equal('error');
    expect(result.testcases.every((t) => t.classname === 'kvmfornfv.latency.timer')).to.equal(true);
  });

  it('classifies pass, threshold failure, unjudgeable figure, crash, skip and dry run', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('mixed-outcomes'));
    const byTitle = Object.fromEntries(result.testcases.map((t) => [t.title, t]));
    expect(byTitle.passes?.status).to.equal('pass');
    expect(byTitle.passes?.properties).to.deep.equal({ samples: 1000 });
    expect(byTitle.passes?.measurements).to.deep.equal({ guest_max_us: 42 });
    expect(byTitle.passes?.systemOut).to.equal('table');
    expect(byTitle['misses a threshold']?.status).to.equal('fail');
    expect(byTitle['misses a threshold']?.message).to.equal('guest thread 0 (cpu 1): max 150 us > limit 100 us (assert, profile p)');
    expect(byTitle['cannot be judged']?.status).to.equal('error');
    expect(byTitle['cannot be judged']?.message).to.contain('could not be determined (no samples)');
    expect(byTitle.crashes?.status).to.equal('error');
    expect(byTitle.crashes?.message).to.equal('TypeError: boom');
    expect(byTitle['is skipped with a reason']?.status).to.equal('skip');
    expect(byTitle['is skipped with a reason']?.message).to.equal('pod has no guest node');
    expect(byTitle['stops for a dry run']?.status).to.equal('skip');
    expect(result.status).to.equal('error');
  });

  it('reports a failed after hook as a teardown error instead of hiding it', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('after-throws'));
    expect(result.testcases.map((t) => [t.title, t.status])).to.deep.equal([
      ['passes', 'pass'],
      ['after_throws: teardown', 'error'],
    ]);
    expect(result.testcases[1]?.message).to.contain('could not restore hugepages');
  });

  it('never reads a suite that declares nothing as a pass', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('declares-nothing'));
    expect(result.status).to.equal('error');
  });

  it('reports a suite file that does not exist as an error', async () => {
    const result = await runCase(await buildFakeScope(), catalogueCase('no-such-suite'));
    expect(result.status).to.equal('error');
    expect(result.testcases[0]?.message).to.contain('could not be loaded');
  });

  it('runs the undo steps of a case that failed halfway, newest first', async () => {
    const order: string[] = [];
    (globalThis as unknown as { __undoOrder: string[] }).__undoOrder = order;
    const result = await runCase(await buildFakeScope(), catalogueCase('cleanup-undo'));
    expect(order).to.deep.equal(['second', 'first']);
    expect(result.testcases[0]?.status).to.equal('error');
  });
});
