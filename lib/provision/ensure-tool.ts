// Provisions a measurement tool on a node: a configured path wins, then whatever is on
// PATH, then the node's package manager. A node that cannot install gets an error that
// names the package, so an operator can fix the pod instead of reading a stack trace.
import type { NodeSession } from '../remote/types.ts';
import { ProvisionError } from '../errors.ts';
import { timeoutFor } from '../remote/timeouts.ts';

export type PackageManager = 'apt' | 'dnf' | 'yum';

export interface ToolSpec {
  /** Binary name, e.g. `cyclictest`. */
  binary: string;
  /** Package per package manager, e.g. `{ apt: 'rt-tests', dnf: 'realtime-tests', yum: 'rt-tests' }`. */
  packages: Record<PackageManager, string>;
}

export const TOOLS = {
  cyclictest: { binary: 'cyclictest', packages: { apt: 'rt-tests', dnf: 'realtime-tests', yum: 'rt-tests' } },
  stressNg: { binary: 'stress-ng', packages: { apt: 'stress-ng', dnf: 'stress-ng', yum: 'stress-ng' } },
} as const satisfies Record<string, ToolSpec>;

const INSTALL: Record<PackageManager, (pkg: string) => string> = {
  apt: (pkg) => `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg} || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg}; }`,
  dnf: (pkg) => `dnf install -y ${pkg}`,
  yum: (pkg) => `yum install -y ${pkg}`,
};

// Probes in one round trip; the order decides which manager wins on hybrid systems.
export async function detectPackageManager(session: NodeSession): Promise<PackageManager | undefined> {
  const result = await session.exec(
    { script: 'for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { echo $m; exit 0; }; done; exit 1' },
    { reject: false, label: 'detect package manager', privileged: false },
  );
  const found = result.stdout.trim();
  if (found === 'apt-get') return 'apt';
  if (found === 'dnf' || found === 'yum') return found;
  return undefined;
}

/** Returns the path of the tool on the node, installing its package when it is missing. */
export async function ensureTool(session: NodeSession, spec: ToolSpec): Promise<string> {
  const node = session.node.name;
  const configured = session.node.tools[spec.binary];
  if (configured) {
    const check = await session.exec(['test', '-x', configured], { reject: false, label: `check ${spec.binary}` });
    if (check.failed) {
      throw new ProvisionError(`${spec.binary} on ${node}: the configured path ${configured} (pod.yaml nodes.${node}.tools.${spec.binary}) is not an executable file`);
    }
    return configured;
  }
  const found = await locate(session, spec.binary);
  if (found) return found;

  const manager = await detectPackageManager(session);
  if (!manager) {
    throw new ProvisionError(
      `${spec.binary} is missing on ${node} and no apt-get, dnf or yum was found; install package ${spec.packages.apt} (Debian/Ubuntu) or ${spec.packages.dnf} (Fedora/RHEL), or set tools.${spec.binary} in pod.yaml`,
    );
  }
  const pkg = spec.packages[manager];
  const install = await session.exec({ script: INSTALL[manager](pkg) }, { reject: false, timeoutMs: timeoutFor(300), label: `install ${pkg}` });
  const installed = install.failed ? undefined : await locate(session, spec.binary);
  if (!installed) {
    const why = install.stderr.trim().split('\n').slice(-2).join(' ') || `exit code ${install.exitCode}`;
    throw new ProvisionError(
      `${spec.binary} is missing on ${node} and installing package ${pkg} with ${manager} failed (${why}); install ${pkg} on the node, or set tools.${spec.binary} in pod.yaml`,
    );
  }
  return installed;
}

async function locate(session: NodeSession, binary: string): Promise<string | undefined> {
  const which = await session.exec({ script: `command -v ${binary}` }, { reject: false, label: `locate ${binary}`, privileged: false });
  const path = which.stdout.trim();
  return !which.failed && path ? path : undefined;
}
