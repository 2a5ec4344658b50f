import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CHECKS, renderTuningDoc } from '../../../lib/audit/index.ts';

const DOC = join(import.meta.dirname, '..', '..', '..', 'docs', 'tuning.md');

describe('docs/tuning.md', () => {
  it('is exactly what the check definitions render', () => {
    const committed = readFileSync(DOC, 'utf8');
    const fresh = renderTuningDoc(ALL_CHECKS);
    // A diff of the whole guide is unreadable; the message says what to do.
    if (committed !== fresh) expect.fail('docs/tuning.md is stale: run `node scripts/generate-tuning-doc.ts`');
  });

  it('has a section for every check, with its id, why and fix', () => {
    const doc = renderTuningDoc(ALL_CHECKS);
    for (const check of ALL_CHECKS) {
      expect(doc, check.id).to.include(`Check \`${check.id}\``);
    }
    expect(doc).to.include('## BIOS and firmware (guidance, not audited)');
    expect(doc).to.include('## QEMU/KVM options, by example');
    for (const heading of ['## Kernel\n', '## Kernel command line', '## Runtime settings', '## Guest placement', '## Forwarding nodes']) expect(doc).to.include(heading);
  });

  it('changes when a definition changes, so staleness is detectable', () => {
    const [first, ...rest] = ALL_CHECKS;
    const changed = renderTuningDoc([{ ...(first as (typeof ALL_CHECKS)[number]), why: 'a different reason, long enough to matter' }, ...rest]);
    expect(changed).to.not.equal(renderTuningDoc(ALL_CHECKS));
  });

  it('escapes XML in prose so markdown does not swallow it, but not inside code spans', () => {
    const doc = renderTuningDoc(ALL_CHECKS);
    expect(doc).to.include('libvirt &lt;memoryBacking&gt;&lt;locked/&gt;');
    expect(doc).to.include("`<cputune><emulatorpin cpuset='<housekeeping cpus>'/></cputune>`");
  });
});
