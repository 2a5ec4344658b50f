// The PVP VNF on the lab: dpdk-testpmd with two virtio_user ports acting as vhost-user
// servers on the sockets OVS's dpdkvhostuserclient ports connect to (lab.md, "OVS-DPDK with
// a DPDK VNF on vhost-user"). Built with the shared testpmd builder (lib/tools/testpmd),
// which knows af_packet and PCI ports: this swaps its port arguments for virtio_user ones.
import { ConfigError } from '../../errors.ts';
import { buildShellCommand } from '../../remote/quote.ts';
import { buildTestpmdCommand, type TestpmdCommand, type TestpmdOptions } from '../testpmd/command.ts';

export interface VirtioUserVnfOptions extends Omit<TestpmdOptions, 'ports' | 'memory'> {
  /** The two vhost-user sockets, port 0 first; testpmd creates them (server=1). */
  sockets: [string, string];
  /** Hugepage memory in MB: vhost-user shares the VNF's memory with OVS by file descriptor. */
  memoryMb: number;
}

const PLACEHOLDERS = ['kfnvirtio0', 'kfnvirtio1'] as const;

// testpmd as a vhost-user server; --single-file-segments keeps its memory within the few
// regions a vhost-user message can describe.
export function buildVirtioUserVnfCommand(o: VirtioUserVnfOptions): TestpmdCommand {
  for (const [i, socket] of o.sockets.entries()) {
    if (!socket.startsWith('/') || /[\s,]/.test(socket) || socket.length > 107) {
      throw new ConfigError('testpmd command', [{ path: `sockets[${i}]`, message: `expected an absolute socket path without spaces or commas, at most 107 bytes, found ${JSON.stringify(socket)}` }]);
    }
  }
  const { sockets, memoryMb, ...rest } = o;
  const base = buildTestpmdCommand({
    ...rest,
    ports: PLACEHOLDERS.map((iface) => ({ kind: 'af_packet' as const, iface })),
    memory: { kind: 'hugepages', socketMemMb: [memoryMb] },
  });
  const argv = base.argv.flatMap((arg): string[] => {
    const i = PLACEHOLDERS.findIndex((p, k) => arg === `--vdev=net_af_packet${k},iface=${p}`);
    if (i >= 0) return [`--vdev=virtio_user${i},path=${sockets[i]},server=1,queues=1`];
    if (arg === '--in-memory') return [arg, '--single-file-segments'];
    return [arg];
  });
  const swapped = argv.filter((a) => a.startsWith('--vdev=virtio_user')).length;
  if (swapped !== 2 || !argv.includes('--single-file-segments')) {
    throw new ConfigError('testpmd command', [{ path: 'ports', message: `the shared testpmd builder changed its port arguments; expected two --vdev=net_af_packetN,iface=... and --in-memory, found ${base.command}` }]);
  }
  return { argv, command: buildShellCommand(argv), runtimeDir: base.runtimeDir };
}
