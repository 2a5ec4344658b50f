// lab down removes the undo logs of runs on its nodes: the namespaces go, and a later one may be
// given the same inode, which would make a stale log look like its own.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { removeUndoLogsOf } from '../../../lib/lab/down.ts';

describe('lab down: undo logs of the lab namespaces', () => {
  let work = '';
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'kfn-lab-undo-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('removes the logs whose network namespace is one of the lab\'s, and keeps the others', async () => {
    const netns = join(work, 'netns');
    mkdirSync(netns);
    writeFileSync(join(netns, 'kfn1234-host'), '');
    writeFileSync(join(netns, 'other-host'), '');
    const inode = (ns: string) => statSync(join(netns, ns)).ino;
    const root = join(work, 'undo');
    const logAt = (run: string, node: string, ns: string) => {
      mkdirSync(join(root, run, node, 'undo'), { recursive: true });
      writeFileSync(join(root, run, node, 'context'), `boot-1 net:[${inode(ns)}]\n`);
    };
    logAt('dead-run', 'host', 'kfn1234-host');
    logAt('dead-run', 'compute-0', 'other-host');
    logAt('gone-run', 'host', 'kfn1234-host');
    const lines: string[] = [];
    await removeUndoLogsOf(['kfn1234-host', 'kfn1234-missing'], (l) => lines.push(l), { root, netnsDir: netns });
    expect([existsSync(join(root, 'dead-run', 'host')), existsSync(join(root, 'dead-run', 'compute-0')), existsSync(join(root, 'gone-run'))]).to.deep.equal([false, true, false]);
    expect(lines.sort()).to.deep.equal(['lab: removing the undo log of run dead-run on host', 'lab: removing the undo log of run gone-run on host']);
  });
});
