// cyclictest's version, for the run record and for format choices. `cyclictest` alone starts an
// endless measurement and has no --version, so the version comes from the first line of --help.
import { ToolOutputParseError } from '../../errors.ts';

// Argv for the probe: --help exits 0 and prints "cyclictest V 2.40" first, on stdout.
export function buildCyclictestVersionCommand(binary = 'cyclictest'): string[] {
  return [binary, '--help'];
}

// "cyclictest V 2.40" → "2.40"; the same string the --json file calls rt_test_version.
export function parseCyclictestVersion(output: string): string {
  const lines = output.split('\n');
  const index = lines.findIndex((l) => l.trim() !== '');
  const first = (lines[index] ?? '').trim();
  const m = /^cyclictest V ?(\d+\.\d+(?:\.\d+)?)$/.exec(first);
  if (!m) {
    throw new ToolOutputParseError('cyclictest', 'expected "cyclictest V <major.minor>" as the first line of --help', {
      source: 'cyclictest --help',
      lineNumber: index < 0 ? 1 : index + 1,
      line: first,
    });
  }
  return m[1] as string;
}
