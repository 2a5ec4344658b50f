// Shared by the preflight unit tests: fake nodes that answer the snapshot script with a
// recorded or written node tree (test/fixtures/node-trees), and fresh copies of the suite
// file, because Node loads an ES module once per process and each run needs its own load.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Pod, PodNode } from '../../../lib/config/pod-model.ts';
import type { NodeSnapshot } from '../../../lib/tools/node-snapshot/parse.ts';
import { snapshotFromTree } from '../../support/node-tree.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const TREES = join(REPO, 'test', 'fixtures', 'node-trees');
export const THRESHOLD_FIXTURES = join(REPO, 'test', 'fixtures', 'config', 'thresholds');

export function loadTree(name: string): Promise<NodeSnapshot> {
  return snapshotFromTree(join(TREES, name));
}

// The inverse of parseNodeSnapshot: what the snapshot script would have printed for this node.
export function renderSnapshotOutput(snapshot: NodeSnapshot, boundary: string): string {
  const h = (kind: string, arg: string) => `==> ${boundary} ${kind} ${arg} <==\n`;
  const item = (kind: string, name: string, body: string, status: number) => `${h(kind, name)}${body}\n${h('end', String(status))}`;
  let out = h('begin', 'v1');
  for (const [path, content] of snapshot.files) out += item('file', path, content, 0);
  for (const [path, message] of snapshot.errors) out += item('file', path, message, 1);
  for (const [path, target] of snapshot.links) out += item('link', path, target, 0);
  for (const path of snapshot.missing) out += h('missing', path);
  for (const [name, output] of snapshot.commands) out += item('cmd', name, output.stdout, output.exitCode);
  return `${out}${h('done', 'v1')}`;
}

export function boundaryOf(script: string): string {
  const match = /^B=(\S+)$/m.exec(script);
  if (!match) throw new Error('fake: no boundary in the snapshot script');
  return match[1] as string;
}

/** What a fake node answers to the snapshot script: a tree, raw text, or a refusal to connect. */
export type FakeAnswer = NodeSnapshot | { stdout: string; exitCode?: number; stderr?: string } | Error;

export function buildSnapshotSession(node: PodNode, answer: FakeAnswer): FakeNodeSession {
  return new FakeNodeSession(node, {
    exec: (script) => {
      if (answer instanceof Error) throw answer;
      if ('files' in answer) return { stdout: renderSnapshotOutput(answer, boundaryOf(script)) };
      return answer;
    },
  });
}

/** host: the recorded lab VM; guest: the written RT-tuned guest with a DPDK port; tgen: a veth. */
export function buildPreflightPod(): Pod {
  const nodes: PodNode[] = [
    buildFakeNode({ name: 'host', role: 'host', declaredRole: 'host', rtCpus: [1], housekeepingCpus: [0] }),
    buildFakeNode({ name: 'guest', role: 'guest', declaredRole: 'guest', rtCpus: [1], housekeepingCpus: [0], ports: [{ name: 'v0', pci: '0000:00:05.0' }] }),
    buildFakeNode({ name: 'tgen', role: 'tgen', declaredRole: 'tgen', rtCpus: [], housekeepingCpus: [0], ports: [{ name: 't0', interface: 't0' }] }),
  ];
  return { file: '/pods/intel-pod10.yaml', name: 'intel-pod10', lab: false, nodes, notes: [] };
}

/** A fresh copy of testcases/preflight.spec.ts in its own folder, importing the real lib/. */
export async function copyPreflightSuite(): Promise<{ dir: string; remove(): Promise<void> }> {
  const text = await readFile(join(REPO, 'testcases', 'preflight.spec.ts'), 'utf8');
  const lib = pathToFileURL(join(REPO, 'lib')).href;
  const rewritten = text.replaceAll("from '../lib/", `from '${lib}/`);
  if (rewritten === text) throw new Error('fake: the suite imports nothing from ../lib/; update copyPreflightSuite');
  const dir = await mkdtemp(join(tmpdir(), 'kfn-preflight-suite-'));
  await writeFile(join(dir, 'preflight.spec.ts'), rewritten);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function preflightCase(args: Record<string, unknown> = {}) {
  return { caseName: 'preflight', tier: 'preflight', blocking: true, enabled: true, description: '', dependencies: [], suite: 'preflight', args };
}
