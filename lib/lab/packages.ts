// Debian packages the lab nodes need; since the nodes share this machine's file
// system, installing them here installs them on every node.

import { LabError } from '../errors.ts';
import { runCommand } from './exec.ts';

export const LAB_PACKAGES: readonly string[] = Object.freeze([
  'openssh-server',
  'openssh-client',
  'iproute2',
  'rt-tests',
  'stress-ng',
  'dpdk-dev',
  'openvswitch-switch-dpdk',
  'netsniff-ng',
  'tcpdump',
  'iputils-ping',
  'gcc',
  'libc6-dev',
  'make',
  'procps',
  'util-linux',
  // The guest VM: QEMU, and its image built from Debian packages.
  'qemu-system-x86',
  'mmdebstrap',
  'e2fsprogs',
]);

/** Binaries the lab itself runs, with the package that ships each. */
export const LAB_CORE_BINARIES: Readonly<Record<string, string>> = Object.freeze({
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/bin/ssh-keygen': 'openssh-client',
  '/usr/bin/ip': 'iproute2',
  '/usr/sbin/sysctl': 'procps',
});

export const DPKG_QUERY_FORMAT = '${Package}\\t${db:Status-Status}\\n';

// dpkg-query lists removed-but-configured packages too, so the status must be read.
export function parseDpkgStatus(output: string): Map<string, string> {
  const status = new Map<string, string>();
  for (const [i, line] of output.split('\n').entries()) {
    if (line.trim() === '') continue;
    const m = /^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?\t([a-z-]*)$/.exec(line);
    if (!m) throw new LabError(`expected "<package>\\t<status>" from dpkg-query at line ${i + 1}, found ${JSON.stringify(line)}`);
    status.set(m[1]!, m[2]!);
  }
  return status;
}

// A package counts as present only when dpkg says "installed".
export function findMissingPackages(wanted: readonly string[], status: Map<string, string>): string[] {
  return wanted.filter((p) => status.get(p) !== 'installed');
}

async function queryMissing(wanted: readonly string[]): Promise<string[]> {
  // dpkg-query exits 1 when some package is unknown; its stdout is still complete.
  const r = await runCommand(['dpkg-query', '-W', `-f=${DPKG_QUERY_FORMAT}`, ...wanted], { allowFailure: true });
  if (r.failed && r.exitCode !== 1) throw new LabError(`\`${r.command}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
  return findMissingPackages(wanted, parseDpkgStatus(r.stdout));
}

// The lab's own packages; the project's test runner adds its test-only ones.
export function ensureLabPackages(log: (line: string) => void): Promise<string[]> {
  return ensureDebianPackages(LAB_PACKAGES, log);
}

// Installs only what is missing, and runs `apt-get update` only when it must.
export async function ensureDebianPackages(wanted: readonly string[], log: (line: string) => void): Promise<string[]> {
  const missing = await queryMissing(wanted);
  if (missing.length === 0) return [];
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await runCommand(['apt-get', 'update'], { env, timeoutMs: 600_000 });
    await runCommand(['apt-get', 'install', '-y', '--no-install-recommends', ...missing], { env, timeoutMs: 1_800_000 });
  } catch (error) {
    throw new LabError(`could not install Debian packages ${missing.join(', ')}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const still = await queryMissing(missing);
  if (still.length) throw new LabError(`apt-get reported success but these packages are still not installed: ${still.join(', ')}`);
  return missing;
}
