// The lab guest image as data: Debian packages only (mmdebstrap, bookworm), Debian's
// PREEMPT_RT kernel booted directly (-kernel/-initrd/-append, so the guest command line is the
// suite's), the tools the cases run in the guest, and a few files that make it boot fast and
// answer SSH with a key known in advance. The hash of this recipe names the cache folder, so
// a changed package or file gives a new image and never reuses a stale one. Pure.
import { createHash } from 'node:crypto';
import { DEFAULT_CACHE_DIRS, buildAgentBuildScript, placeAgentBuild, type AgentBuildRecipe } from '../../provision/build-agent.ts';
import { quoteArg } from '../../remote/quote.ts';

export const IMAGE_RECIPE_VERSION = 2;

/**
 * Agents that run in the guest, built into the image at the place build-agent.ts looks first,
 * so that a run does not compile them under emulation each time (the VM boots from a fresh
 * snapshot of the image): the same recipe, hash and gcc command as on any node.
 */
export const IMAGE_AGENTS: readonly string[] = Object.freeze(['kfn-irqrecv']);
export const IMAGE_SUITE = 'bookworm';

/**
 * What the guest runs: the RT kernel, sshd, the measurement tools, gcc for the kfn agents, and
 * the VNF of the forwarding cases (dpdk-testpmd: Debian ships it in dpdk-dev, not in dpdk).
 */
export const IMAGE_PACKAGES: readonly string[] = Object.freeze([
  'linux-image-rt-amd64',
  'systemd-sysv',
  'openssh-server',
  'rt-tests',
  'stress-ng',
  'iproute2',
  'procps',
  'util-linux',
  'kmod',
  'gcc',
  'libc6-dev',
  'dpdk-dev',
]);

/** The management NIC's MAC: the image configures the NIC with this address and no other. */
export const MANAGEMENT_MAC = '52:54:00:6b:66:6e';
/** QEMU user networking's fixed guest address and gateway (slirp defaults, net/slirp.c). */
export const SLIRP_GUEST = { address: '10.0.2.15/24', gateway: '10.0.2.2' } as const;

export interface ImageFile {
  path: string;
  content: string;
  mode?: number;
}

/** Units that only cost boot time in a throwaway guest. */
const MASKED_UNITS = [
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'fstrim.timer',
  'e2scrub_all.timer',
  'man-db.timer',
  'systemd-networkd-wait-online.service',
  'networking.service',
  'getty-static.service',
  'serial-getty@ttyS0.service',
  'getty@tty1.service',
  'systemd-pstore.service',
];

// The files written into the root file system, beside the packages.
export function buildImageFiles(): ImageFile[] {
  const net = [
    '#!/bin/sh',
    '# The management NIC (the one with the MAC the launcher gives it), static on QEMU user networking.',
    'ip link set lo up',
    'for d in /sys/class/net/*; do',
    `  if [ "$(cat "$d/address")" = "${MANAGEMENT_MAC}" ]; then`,
    '    dev=${d##*/}',
    `    ip addr add ${SLIRP_GUEST.address} dev "$dev"`,
    '    ip link set "$dev" up',
    `    ip route add default via ${SLIRP_GUEST.gateway}`,
    '  fi',
    'done',
    '',
  ].join('\n');
  return [
    { path: '/etc/hostname', content: 'kfn-guest\n' },
    { path: '/etc/hosts', content: '127.0.0.1 localhost\n127.0.1.1 kfn-guest\n' },
    { path: '/etc/fstab', content: '/dev/vda / ext4 rw,relatime 0 1\n' },
    { path: '/usr/local/sbin/kfn-mgmt-net', content: net, mode: 0o755 },
    {
      path: '/etc/systemd/system/kfn-mgmt-net.service',
      content: '[Unit]\nDescription=kvmfornfv-tests management NIC\nBefore=network.target ssh.service\nWants=network.target\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/kfn-mgmt-net\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n',
    },
    {
      // The launcher's boot watcher waits for this line on the serial console (lib/tools/qemu/boot-log.ts).
      path: '/etc/systemd/system/kfn-guest-ready.service',
      content: '[Unit]\nDescription=kvmfornfv-tests: tell the launcher that sshd is up\nAfter=ssh.service kfn-mgmt-net.service\nWants=ssh.service\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c \'echo "kfn-guest-ready $(uname -r)" > /dev/ttyS0\'\n\n[Install]\nWantedBy=multi-user.target\n',
    },
    {
      path: '/etc/ssh/sshd_config.d/kfn.conf',
      content: 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nMaxSessions 64\nMaxStartups 64:30:128\n',
    },
    // A KVM module in the guest has nothing to do, and under TCG it prints "RT requires X86_FEATURE_CONSTANT_TSC".
    { path: '/etc/modprobe.d/kfn-no-nested-kvm.conf', content: 'blacklist kvm\nblacklist kvm_intel\nblacklist kvm_amd\n' },
  ];
}

const MARKER = 'KFN_IMAGE_FILE_END';

function writeFileLines(path: string, content: string, mode: number): string[] {
  if (content.includes(MARKER)) throw new Error(`image file ${path} contains the heredoc marker`);
  return [`mkdir -p "$root${path.replace(/\/[^/]*$/, '')}"`, `cat > "$root${path}" <<'${MARKER}'`, content.replace(/\n$/, ''), MARKER, `chmod ${mode.toString(8)} "$root${path}"`];
}

// Each agent's sources go to its staging folder in the image, then its own build script runs in the image.
function agentLines(recipe: AgentBuildRecipe): string[] {
  const placement = placeAgentBuild(recipe, DEFAULT_CACHE_DIRS[0]);
  const staging = `${DEFAULT_CACHE_DIRS[0]}/.${recipe.name}-${recipe.hash}.staging`;
  return [
    `mkdir -p -m 700 "$root${DEFAULT_CACHE_DIRS[0]}"`,
    ...recipe.sources.flatMap((src) => writeFileLines(`${staging}/${src.path}`, src.content, 0o644)),
    `chroot "$root" sh -c ${quoteArg(buildAgentBuildScript(recipe, staging, placement))}`,
  ];
}

/** The hook mmdebstrap runs in the finished root (`$1`): files, keys, units, the guest's agents. */
export function buildCustomizeScript(input: { files: ImageFile[]; authorizedKey: string; hostKeyDir: string; agents?: readonly AgentBuildRecipe[] }): string {
  const lines = ['#!/bin/sh', 'set -eu', 'root="$1"'];
  for (const f of input.files) lines.push(...writeFileLines(f.path, f.content, f.mode ?? 0o644));
  for (const recipe of input.agents ?? []) lines.push(...agentLines(recipe));
  lines.push(
    'rm -f "$root"/etc/ssh/ssh_host_*',
    `cp "${input.hostKeyDir}/ssh_host_ed25519_key" "${input.hostKeyDir}/ssh_host_ed25519_key.pub" "$root/etc/ssh/"`,
    'chmod 600 "$root/etc/ssh/ssh_host_ed25519_key"',
    'mkdir -p "$root/root/.ssh"',
    'chmod 700 "$root/root/.ssh"',
    `printf '%s\\n' '${input.authorizedKey.trim().replaceAll("'", '')}' > "$root/root/.ssh/authorized_keys"`,
    'chmod 600 "$root/root/.ssh/authorized_keys"',
    'chroot "$root" systemctl enable kfn-mgmt-net.service kfn-guest-ready.service >/dev/null',
    `chroot "$root" systemctl mask ${MASKED_UNITS.join(' ')} >/dev/null`,
    'chroot "$root" systemctl disable systemd-networkd.service systemd-networkd.socket >/dev/null 2>&1 || true',
    // A throwaway guest keeps no journal on disk and needs no apt lists.
    'rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin',
  );
  return `${lines.join('\n')}\n`;
}

// The cache key: everything that changes what the image contains.
export function hashImageRecipe(agents: readonly AgentBuildRecipe[], files: readonly ImageFile[] = buildImageFiles()): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ version: IMAGE_RECIPE_VERSION, suite: IMAGE_SUITE, packages: IMAGE_PACKAGES, masked: MASKED_UNITS, files, agents: agents.map((a) => `${a.name}-${a.hash}`) }));
  return h.digest('hex').slice(0, 16);
}

/** The mmdebstrap argv; the hook gets the root folder as "$1". */
export function buildMmdebstrapArgv(input: { rootDir: string; hookScript: string }): string[] {
  return ['mmdebstrap', '--variant=apt', `--include=${IMAGE_PACKAGES.join(',')}`, `--customize-hook=sh ${input.hookScript} "$1"`, IMAGE_SUITE, input.rootDir];
}
