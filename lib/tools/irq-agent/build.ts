// How an agent under lib/agents/<name>/ is built on a node, as data: its sources, the exact
// compiler command, a content hash over both, and where the binary is cached. Generic over
// agents (name -> folder -> build), so the SSH provisioning can reuse it for any of them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionError } from '../../errors.ts';
import { buildShellCommand, quoteArg } from '../../remote/quote.ts';

/** The only flags an agent is built with; warnings are errors so a new compiler cannot hide one. */
export const AGENT_CFLAGS = ['-Wall', '-Wextra', '-Werror', '-O2'] as const;

/** Where the agents' sources live in this checkout. */
export const AGENTS_DIR = fileURLToPath(new URL('../../agents/', import.meta.url));

/** Marker the build script writes after a successful compile, so a half-written binary is never taken as cached. */
export const BUILT_MARKER = '.kfn-built';

/** Exit code of the build script when the node has no gcc. */
export const NO_COMPILER_EXIT = 127;

export interface AgentSource {
  /** File name inside the agent's folder. */
  path: string;
  content: string;
}

export interface AgentBuildRecipe {
  name: string;
  sources: AgentSource[];
  /** Run inside buildDir: `gcc -Wall -Wextra -Werror -O2 -o <name> <name>.c`. */
  compileArgv: string[];
  compileCommand: string;
  /** sha256 (hex) of the sources and the exact compile command. */
  hash: string;
  /** `<cacheDir>/<name>-<hash>`: sources are uploaded here and compiled in place. */
  buildDir: string;
  /** `<cacheDir>/<name>-<hash>/<name>` */
  binaryPath: string;
}

const AGENT_NAME = /^[a-z0-9][a-z0-9-]*$/;
const SOURCE_FILE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[ch]$/;

// A recipe for the given sources; pure, so the hash is testable without a node.
export function buildAgentRecipe(options: { name: string; sources: readonly AgentSource[]; cacheDir: string }): AgentBuildRecipe {
  const { name, cacheDir } = options;
  if (!AGENT_NAME.test(name)) throw new ProvisionError(`agent name: expected lower-case letters, digits and dashes, found ${JSON.stringify(name)}`);
  if (!cacheDir.startsWith('/')) throw new ProvisionError(`agent cache dir: expected an absolute path, found ${JSON.stringify(cacheDir)}`);
  const sources = [...options.sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const s of sources) {
    if (!SOURCE_FILE.test(s.path)) throw new ProvisionError(`agent ${name}: expected .c/.h file names without folders, found ${JSON.stringify(s.path)}`);
  }
  const cFiles = sources.filter((s) => s.path.endsWith('.c')).map((s) => s.path);
  if (!cFiles.includes(`${name}.c`)) throw new ProvisionError(`agent ${name}: expected ${name}.c among its sources, found ${cFiles.join(', ') || 'none'}`);
  const compileArgv = ['gcc', ...AGENT_CFLAGS, '-o', name, ...cFiles];
  const compileCommand = compileArgv.join(' ');
  const hash = hashAgentSources(sources, compileCommand);
  const buildDir = `${cacheDir.replace(/\/+$/, '')}/${name}-${hash}`;
  return { name, sources, compileArgv, compileCommand, hash, buildDir, binaryPath: `${buildDir}/${name}` };
}

// Any change to a source byte or to the command gives a new cache folder, never a stale binary.
export function hashAgentSources(sources: readonly AgentSource[], compileCommand: string): string {
  const h = createHash('sha256');
  for (const s of [...sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const bytes = Buffer.from(s.content, 'utf8');
    h.update(`${s.path}\0${bytes.length}\0`).update(bytes).update('\0');
  }
  h.update(compileCommand);
  return h.digest('hex');
}

// Reads an agent's .c and .h files from this checkout (local files only, never a node).
export function readAgentSources(name: string, agentsDir: string = AGENTS_DIR): AgentSource[] {
  const dir = join(agentsDir, name);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => SOURCE_FILE.test(f)).sort();
  } catch (e) {
    throw new ProvisionError(`agent ${name}: expected a source folder at ${dir}, found none`, { cause: e });
  }
  return files.map((path) => ({ path, content: readFileSync(join(dir, path), 'utf8') }));
}

// The script run on the node after the sources are uploaded to buildDir: reuse, or compile.
export function buildAgentBuildScript(recipe: AgentBuildRecipe): string {
  const dir = quoteArg(recipe.buildDir);
  return [
    `if [ -x ${quoteArg(recipe.binaryPath)} ] && [ -f ${dir}/${BUILT_MARKER} ]; then exit 0; fi`,
    `command -v gcc >/dev/null 2>&1 || { echo 'kfn: command -v gcc: not found' >&2; exit ${NO_COMPILER_EXIT}; }`,
    `cd ${dir} || exit 1`,
    `rm -f ${quoteArg(recipe.name)} ${BUILT_MARKER}`,
    `${buildShellCommand(recipe.compileArgv)} || exit $?`,
    `touch ${BUILT_MARKER}`,
  ].join('\n');
}

export type PackageFamily = 'debian' | 'rpm' | 'unknown';

// Which installer the node speaks, from /etc/os-release (ID and ID_LIKE).
export function detectPackageFamily(osRelease: string | undefined): PackageFamily {
  const ids = [...(osRelease ?? '').matchAll(/^(?:ID|ID_LIKE)=["']?([^"'\n]*)/gm)].flatMap((m) => (m[1] ?? '').toLowerCase().split(/\s+/));
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'debian';
  if (ids.some((id) => ['fedora', 'rhel', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'].includes(id))) return 'rpm';
  return 'unknown';
}

function packageAdvice(family: PackageFamily): string {
  if (family === 'debian') return 'install gcc and libc6-dev (apt-get install -y gcc libc6-dev)';
  if (family === 'rpm') return 'install gcc and glibc-devel (dnf install -y gcc glibc-devel, or yum on older releases)';
  return 'install gcc and the C library headers: gcc and libc6-dev on Debian/Ubuntu, gcc and glibc-devel on dnf/yum systems';
}

export interface BuildFailure {
  node: string;
  recipe: Pick<AgentBuildRecipe, 'name' | 'compileCommand'>;
  exitCode: number | null;
  stderr: string;
  /** Contents of /etc/os-release on the node, when read. */
  osRelease?: string;
}

// Turns a failed build script (or a failed `command -v gcc`) into a message that names the package to install.
export function explainBuildFailure(f: BuildFailure): ProvisionError {
  const what = `cannot build ${f.recipe.name} on node ${f.node}`;
  const advice = packageAdvice(detectPackageFamily(f.osRelease));
  const firstError = f.stderr.split('\n').find((l) => /error|not found|cannot/i.test(l))?.trim();
  if (f.exitCode === NO_COMPILER_EXIT || /command -v gcc: not found|gcc: (command )?not found/.test(f.stderr)) {
    return new ProvisionError(`${what}: no C compiler (command -v gcc found nothing); ${advice}`);
  }
  if (/fatal error: [\w/]+\.h: No such file or directory|cannot find crt1\.o|cannot find -lc\b/.test(f.stderr)) {
    // The first line (the short message) names the package; stderr follows for the log.
    return new ProvisionError(`${what}: the C library headers are missing (${firstError}); ${advice}\n${f.stderr}`);
  }
  if (/cannot execute '?cc1'?|error trying to exec 'cc1'/.test(f.stderr)) {
    return new ProvisionError(`${what}: gcc is installed but incomplete (${firstError}); reinstall it: ${advice}\n${f.stderr}`);
  }
  return new ProvisionError(
    `${what}: ${f.recipe.compileCommand} failed with exit code ${f.exitCode ?? 'none'}` +
      `${firstError ? `: ${firstError}` : ''} (agents are checked with Debian 12's gcc 12; a different compiler may warn where it did not)\n${f.stderr}`,
  );
}
