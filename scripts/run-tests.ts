// `npm test`: the project's whole test suite, as CI runs it on a fresh Debian 12 machine.
// It installs the Debian packages the tests need (as root), type-checks, then runs the
// unit, integration and lab-pod tests, and ends with one "N passed, N failed" line.
import { execa } from 'execa';
import { ensureDebianPackages, LAB_PACKAGES } from '../lib/lab/packages.ts';

/** Packages only the tests need, beyond the lab's own. */
const TEST_PACKAGES = ['influxdb', 'libxml2-utils', 'jenkins-job-builder', 'shellcheck', 'sudo', 'chromium'];

interface Phase {
  name: string;
  command: string[];
}

const mocha = (glob: string, extra: string[] = []) => ['mocha', '--config', '.mocharc.yaml', ...extra, glob];

const PHASES: Phase[] = [
  { name: 'typecheck', command: ['tsc', '-p', 'tsconfig.json'] },
  { name: 'unit', command: mocha('test/unit/**/*.spec.ts') },
  { name: 'integration', command: mocha('test/integration/**/*.spec.ts', ['--timeout', '120000']) },
  { name: 'lab', command: mocha('test/lab/**/*.spec.ts', ['--timeout', '900000']) },
];

function countOf(output: string, word: string): number {
  const match = new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(output);
  return match ? Number(match[1]) : 0;
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  if (process.getuid?.() === 0) {
    await ensureDebianPackages([...LAB_PACKAGES, ...TEST_PACKAGES], (line) => console.log(line));
  } else {
    console.log('not root: Debian packages are not checked, and the lab tests need root');
  }
  let passed = 0;
  let failed = 0;
  let pending = 0;
  const failedPhases: string[] = [];
  for (const phase of PHASES.filter((p) => only.length === 0 || only.includes(p.name))) {
    console.log(`\n=== ${phase.name}: ${phase.command.join(' ')}`);
    const [file, ...args] = phase.command as [string, ...string[]];
    // Printed as it comes (a lab phase runs for minutes) and kept to read the counts.
    const run = await execa(file, args, { reject: false, all: true, preferLocal: true, stdin: 'ignore', stdout: ['pipe', 'inherit'], stderr: ['pipe', 'inherit'] });
    const output = String(run.all ?? '');
    if (phase.name === 'typecheck') {
      if (run.exitCode === 0) passed += 1;
      else failed += 1;
    } else {
      passed += countOf(output, 'passing');
      failed += countOf(output, 'failing');
      pending += countOf(output, 'pending');
    }
    if (run.exitCode !== 0) {
      failedPhases.push(phase.name);
      // A phase that died without mocha's summary still counts as a failure.
      if (phase.name !== 'typecheck' && countOf(output, 'failing') === 0) failed += 1;
    }
  }
  if (failedPhases.length > 0) console.log(`\nfailed phases: ${failedPhases.join(', ')}`);
  console.log(`\n${passed} passed, ${failed} failed, ${pending} skipped`);
  return failedPhases.length > 0 ? 1 : 0;
}

process.exitCode = await main();
