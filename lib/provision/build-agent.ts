// Provisions an agent of lib/agents (kfn-irqgen, kfn-irqrecv, kfn-softgen, ...) on a node:
// its sources are uploaded and built there with one exact gcc command, and the binary is
// cached under a folder named by a hash of the sources and that command, outside the
// per-run folder, so that later runs reuse it and a changed byte never reuses a stale one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionError } from '../errors.ts';
import { buildShellCommand, quoteArg } from '../remote/quote.ts';
import type { Pod, PodNode } from '../config/pod-model.ts';
import type { NodeSession } from '../remote/types.ts';

/** The only flags an agent is built with; warnings are errors so a new compiler cannot hide one. */
export const AGENT_CFLAGS = ['-Wall', '-Wextra', '-Werror', '-O2'] as const;

/** Where the agents' sources live in this checkout: `<name>/<name>.c` and `common/*.h`. */
export const AGENTS_DIR = fileURLToPath(new URL('../agents/', import.meta.url));

/** Headers shared by every agent, included as `../common/<file>.h`. */
export const COMMON_DIR = 'common';

/** Cache folders tried in order; the first the session can own and write wins. `$(id -u)` is expanded on the node. */
export const DEFAULT_CACHE_DIRS = ['/var/cache/kvmfornfv/agents', '/tmp/kfn-agents-$(id -u)'] as const;

/** Written after a successful compile, so a half-built folder is never taken as cached. */
export const BUILT_MARKER = '.kfn-built';

/** Exit code of the build script when the node has no gcc. */
export const NO_COMPILER_EXIT = 127;

export interface AgentSource {
  /** Relative to lib/agents: `<name>/<file>` or `common/<file>`. */
  path: string;
  content: string;
}

export interface AgentBuildRecipe {
  name: string;
  /** Sorted by path. */
  sources: AgentSource[];
  /** Run inside `<buildDir>/<name>`: exactly `gcc -Wall -Wextra -Werror -O2 -o <name> <name>.c`. */
  compileArgv: string[];
  compileCommand: string;
  /** sha256 (hex) of the sources (paths and bytes) and the exact compile command. */
  hash: string;
}

export interface AgentPlacement {
  /** `<cacheDir>/<name>-<hash>`: the sources keep their layout below it. */
  buildDir: string;
  /** `<buildDir>/<name>/<name>`: gcc writes the binary in the agent's own folder. */
  binaryPath: string;
}

/** Expanded on the node, so that each user gets a cache folder of their own under /tmp. */
const UID = '$(id -u)';
const AGENT_NAME = /^[a-z0-9][a-z0-9-]*$/;
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[ch]$/;
const byPath = (a: AgentSource, b: AgentSource) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

// A recipe for the given sources; pure, so the hash is testable without a node.
export function buildAgentRecipe(options: { name: string; sources: readonly AgentSource[] }): AgentBuildRecipe {
  const { name } = options;
  if (!AGENT_NAME.test(name)) throw new ProvisionError(`agent name: expected lower-case letters, digits and dashes, found ${JSON.stringify(name)}`);
  const sources = [...options.sources].sort(byPath);
  for (const s of sources) {
    const [dir, file, ...rest] = s.path.split('/');
    const ok = rest.length === 0 && file !== undefined && FILE_NAME.test(file) && (dir === name || (dir === COMMON_DIR && file.endsWith('.h')));
    if (!ok) throw new ProvisionError(`agent ${name}: expected sources ${name}/<file>.c|.h or ${COMMON_DIR}/<file>.h, found ${JSON.stringify(s.path)}`);
  }
  const cFiles = sources.filter((s) => s.path.endsWith('.c')).map((s) => s.path);
  // The command compiles <name>.c alone: any other .c would silently not be built.
  if (cFiles.length !== 1 || cFiles[0] !== `${name}/${name}.c`) {
    throw new ProvisionError(`agent ${name}: expected exactly one C file, ${name}/${name}.c, found ${cFiles.join(', ') || 'none'}`);
  }
  const compileArgv = ['gcc', ...AGENT_CFLAGS, '-o', name, `${name}.c`];
  const compileCommand = compileArgv.join(' ');
  return { name, sources, compileArgv, compileCommand, hash: hashAgentSources(sources, compileCommand) };
}

// Any change to a source byte, a file name or the command gives a new cache folder.
export function hashAgentSources(sources: readonly AgentSource[], compileCommand: string): string {
  const h = createHash('sha256');
  for (const s of [...sources].sort(byPath)) {
    const bytes = Buffer.from(s.content, 'utf8');
    h.update(`${s.path}\0${bytes.length}\0`).update(bytes).update('\0');
  }
  h.update(compileCommand);
  return h.digest('hex');
}

// Where a recipe lives below a cache folder.
export function placeAgentBuild(recipe: AgentBuildRecipe, cacheDir: string): AgentPlacement {
  if (!cacheDir.startsWith('/')) throw new ProvisionError(`agent cache dir: expected an absolute path, found ${JSON.stringify(cacheDir)}`);
  const buildDir = `${cacheDir.replace(/\/+$/, '')}/${recipe.name}-${recipe.hash}`;
  return { buildDir, binaryPath: `${buildDir}/${recipe.name}/${recipe.name}` };
}

// Reads an agent's sources and the shared headers from this checkout (local files, never a node).
export function readAgentSources(name: string, agentsDir: string = AGENTS_DIR): AgentSource[] {
  const read = (dir: string, required: boolean): AgentSource[] => {
    let files: string[];
    try {
      files = readdirSync(join(agentsDir, dir)).filter((f) => FILE_NAME.test(f));
    } catch (e) {
      if (!required) return [];
      throw new ProvisionError(`agent ${name}: expected a source folder at ${join(agentsDir, dir)}, found none`, { cause: e });
    }
    return files.map((f) => ({ path: `${dir}/${f}`, content: readFileSync(join(agentsDir, dir, f), 'utf8') }));
  };
  return [...read(name, true), ...read(COMMON_DIR, false)].sort(byPath);
}

// One round trip: pick the cache folder, and on a miss make a private staging folder in it.
export function buildAgentProbeScript(recipe: AgentBuildRecipe, cacheDirs: readonly string[] = DEFAULT_CACHE_DIRS): string {
  const entry = `${recipe.name}-${recipe.hash}`;
  for (const d of cacheDirs) {
    if (!d.startsWith('/')) throw new ProvisionError(`agent cache dir: expected an absolute path, found ${JSON.stringify(d)}`);
  }
  const subdirs = [...new Set(recipe.sources.map((s) => s.path.split('/')[0]!))].map(quoteArg).join(' ');
  // Everything is quoted but the one `$(id -u)` a default may hold, which the node expands.
  const dirs = cacheDirs.map((d) => d.split(UID).map((part) => (part === '' ? '' : quoteArg(part))).join(`"${UID}"`)).join(' ');
  return [
    `for d in ${dirs}; do`,
    '  mkdir -p -m 700 "$d" 2>/dev/null || continue',
    // A folder someone else owns could hold a planted binary that we would run as root.
    '  [ -d "$d" ] && [ -O "$d" ] && [ -w "$d" ] && chmod go-w "$d" 2>/dev/null || continue',
    `  if [ -f "$d/${entry}/${BUILT_MARKER}" ] && [ -x "$d/${entry}/${recipe.name}/${recipe.name}" ]; then printf 'kfn-agent-cache hit\\t%s\\n' "$d"; exit 0; fi`,
    `  s=$(mktemp -d "$d/.${entry}.XXXXXX") || exit 1`,
    `  (cd "$s" && mkdir ${subdirs}) || exit 1`,
    `  printf 'kfn-agent-cache miss\\t%s\\t%s\\n' "$d" "$s"; exit 0`,
    'done',
    `echo ${quoteArg(`kfn: no cache folder could be created, owned and written among: ${cacheDirs.join(' ')}`)} >&2; exit 1`,
  ].join('\n');
}

export type ProbeAnswer = { hit: true; cacheDir: string } | { hit: false; cacheDir: string; stagingDir: string };

// The probe's one line (tab-separated: paths may hold spaces); undefined when it is not there (e.g. a dry run answers nothing).
export function parseAgentProbe(stdout: string): ProbeAnswer | undefined {
  const m = /^kfn-agent-cache (hit|miss)\t(\/[^\t\n]*)(?:\t(\/[^\t\n]*))?$/m.exec(stdout);
  if (!m) return undefined;
  if (m[1] === 'hit') return { hit: true, cacheDir: m[2]! };
  return m[3] ? { hit: false, cacheDir: m[2]!, stagingDir: m[3] } : undefined;
}

// Runs after the upload: compile in the staging folder, then rename it into place atomically,
// so a concurrent run or a broken transfer never leaves a folder that looks built.
export function buildAgentBuildScript(recipe: AgentBuildRecipe, stagingDir: string, placement: AgentPlacement): string {
  const s = quoteArg(stagingDir);
  const dest = quoteArg(placement.buildDir);
  const built = `[ -f ${dest}/${BUILT_MARKER} ] && [ -x ${quoteArg(placement.binaryPath)} ]`;
  return [
    `command -v gcc >/dev/null 2>&1 || { echo 'kfn: command -v gcc: not found' >&2; rm -rf ${s}; exit ${NO_COMPILER_EXIT}; }`,
    `cd ${s}/${quoteArg(recipe.name)} || exit 1`,
    `${buildShellCommand(recipe.compileArgv)} || { rc=$?; rm -rf ${s}; exit $rc; }`,
    `touch ${s}/${BUILT_MARKER} || exit 1`,
    `mv -T ${s} ${dest} 2>/dev/null && exit 0`,
    `if ${built}; then rm -rf ${s}; exit 0; fi`,
    `rm -rf ${dest} && mv -T ${s} ${dest}`,
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

const STDERR_TAIL_LINES = 20;

// Turns a failed build into a message that names the package to install, or gcc's own words.
export function explainBuildFailure(f: BuildFailure): ProvisionError {
  const what = `cannot build ${f.recipe.name} on node ${f.node}`;
  const advice = packageAdvice(detectPackageFamily(f.osRelease));
  const firstError = f.stderr.split('\n').find((l) => /error|not found|cannot/i.test(l))?.trim();
  const tail = f.stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  if (f.exitCode === NO_COMPILER_EXIT || /command -v gcc: not found|gcc: (command )?not found/.test(f.stderr)) {
    return new ProvisionError(`${what}: no C compiler (command -v gcc found nothing); ${advice}`);
  }
  if (/fatal error: [\w/]+\.h: No such file or directory|cannot find crt1\.o|cannot find -lc\b/.test(f.stderr)) {
    return new ProvisionError(`${what}: the C library headers are missing (${firstError}); ${advice}\n${tail}`);
  }
  if (/cannot execute '?cc1'?|error trying to exec 'cc1'/.test(f.stderr)) {
    return new ProvisionError(`${what}: gcc is installed but incomplete (${firstError}); reinstall it: ${advice}\n${tail}`);
  }
  return new ProvisionError(
    `${what}: ${f.recipe.compileCommand} failed with exit code ${f.exitCode ?? 'none'}` +
      `${firstError ? `: ${firstError}` : ''} (agents are checked with Debian 12's gcc 12; a different compiler may warn where it did not)\n${tail}`,
  );
}

// Where a node's agents are cached: the pod's own setting, else beside a lab pod's pod.yaml
// (its state folder, which `lab down` removes) for the lab's namespace nodes, else the defaults.
export function resolveAgentCacheDirs(pod: Pick<Pod, 'lab' | 'file'>, node: PodNode): string[] {
  const own = node.extra.agent_cache_dir;
  if (own !== undefined) {
    if (typeof own !== 'string' || !own.startsWith('/')) {
      throw new ProvisionError(`pod.yaml nodes.${node.name}.extra.agent_cache_dir: expected an absolute path, found ${JSON.stringify(own)}`);
    }
    return [own];
  }
  // A launched guest has a file system of its own: its image carries its agents at the default place.
  if (pod.lab && node.launch === undefined) return [join(dirname(pod.file), 'agents')];
  return [...DEFAULT_CACHE_DIRS];
}

export interface EnsureAgentOptions {
  /** Default DEFAULT_CACHE_DIRS. */
  cacheDirs?: readonly string[];
  /** Where the sources are read; default this checkout's lib/agents. */
  agentsDir?: string;
  /** A dry-run session answers nothing: assume a miss so that every command is still shown. */
  dryRun?: boolean;
}

export interface EnsuredAgent {
  binaryPath: string;
  hash: string;
  /** True when a build from an earlier run was reused. */
  cached: boolean;
}

/** Returns the path of the built agent on the node, building it there when the cache has none. */
export async function ensureAgent(session: NodeSession, name: string, options: EnsureAgentOptions = {}): Promise<EnsuredAgent> {
  const node = session.node.name;
  const recipe = buildAgentRecipe({ name, sources: readAgentSources(name, options.agentsDir) });
  const probe = await session.exec({ script: buildAgentProbeScript(recipe, options.cacheDirs) }, { reject: false, label: `${name} cache` });
  const first = (options.cacheDirs ?? DEFAULT_CACHE_DIRS)[0]!.replaceAll(UID, '0');
  const dryRunAnswer: ProbeAnswer = { hit: false, cacheDir: first, stagingDir: `${first}/.${name}-${recipe.hash}.staging` };
  const answer = parseAgentProbe(probe.stdout) ?? (options.dryRun ? dryRunAnswer : undefined);
  if (probe.failed || !answer) {
    const why = probe.stderr.trim().split('\n').slice(-2).join(' ') || `exit code ${probe.exitCode}, output ${JSON.stringify(probe.stdout.slice(0, 200))}`;
    throw new ProvisionError(`cannot provision ${name} on node ${node}: no usable agent cache folder (${why})`);
  }
  const placement = placeAgentBuild(recipe, answer.cacheDir);
  if (answer.hit) return { binaryPath: placement.binaryPath, hash: recipe.hash, cached: true };

  try {
    for (const source of recipe.sources) await session.upload(source.content, `${answer.stagingDir}/${source.path}`);
  } catch (error) {
    await session.exec(['rm', '-rf', answer.stagingDir], { reject: false, label: `remove ${name} staging` }).catch(() => undefined);
    throw error;
  }
  const build = await session.exec({ script: buildAgentBuildScript(recipe, answer.stagingDir, placement) }, { reject: false, timeoutMs: 180_000, label: `build ${name}` });
  if (build.failed) {
    const os = await session.exec(['cat', '/etc/os-release'], { reject: false, label: 'os-release', privileged: false });
    throw explainBuildFailure({ node, recipe, exitCode: build.exitCode, stderr: build.stderr, ...(os.failed ? {} : { osRelease: os.stdout }) });
  }
  return { binaryPath: placement.binaryPath, hash: recipe.hash, cached: false };
}
