import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { AGENTS_DIR, readAgentSources } from '../../../../lib/provision/build-agent.ts';

const FIXTURES = new URL('../../../fixtures/irq-agent/', import.meta.url);
const AGENTS = ['kfn-irqgen', 'kfn-irqrecv'] as const;

describe('tools/irq-agent sources and fixtures agree', () => {
  it('keeps the shared code in common/kfn-common.h only: each agent includes it and redefines none of it', () => {
    const header = readFileSync(`${AGENTS_DIR}common/kfn-common.h`, 'utf8');
    const shared = [...header.matchAll(/^static inline [\w\s*]*?\b(\w+)\(/gm)].map((m) => m[1]!);
    expect(shared).to.include.members(['hist_add', 'hist_pct', 'hist_json', 'parse_u64', 'parse_seconds', 'apply_rt', 'rt_json']);
    for (const name of AGENTS) {
      const text = readFileSync(`${AGENTS_DIR}${name}/${name}.c`, 'utf8');
      expect(text, name).to.contain('#include "../common/kfn-common.h"');
      for (const fn of shared) expect(new RegExp(`^static [\\w\\s*]*\\b${fn}\\(`, 'm').test(text), `${name} defines ${fn} again`).to.equal(false);
      expect(text, name).to.not.contain('#define KFN_MAGIC');
    }
  });

  it('records fixtures from the agents as they are now: every source file, the shared header included (re-record after a change)', () => {
    const notes = readdirSync(FIXTURES).filter((f) => f.endsWith('.source.md'));
    expect(notes.length).to.be.greaterThan(0);
    for (const note of notes) {
      const text = readFileSync(new URL(note, FIXTURES), 'utf8');
      const m = /^- Program: (kfn-irq\w+) \S+ \(no git version; sources: (.*)\)$/m.exec(text);
      expect(m, `${note} names its program and its sources' sha256`).to.not.equal(null);
      const listed = [...m![2]!.matchAll(/lib\/agents\/(\S+) sha256 ([0-9a-f]{64})/g)].map((x) => [x[1]!, x[2]!] as const);
      const built = readAgentSources(m![1]!).map((s) => s.path);
      expect(listed.map(([path]) => path), `${note} lists exactly the files the agent is built from`).to.deep.equal(built);
      for (const [path, sha] of listed) {
        expect(createHash('sha256').update(readFileSync(`${AGENTS_DIR}${path}`)).digest('hex'), `${note}: ${path}`).to.equal(sha);
      }
    }
  });
});
