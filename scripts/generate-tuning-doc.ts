// Writes docs/tuning.md from the audit's check definitions. Run after changing a check:
//   node scripts/generate-tuning-doc.ts
// test/unit/audit/tuning-doc.spec.ts fails while the committed file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CHECKS, renderTuningDoc } from '../lib/audit/index.ts';

const target = join(import.meta.dirname, '..', 'docs', 'tuning.md');
writeFileSync(target, renderTuningDoc(ALL_CHECKS));
console.log(`wrote ${target} (${ALL_CHECKS.length} checks)`);
