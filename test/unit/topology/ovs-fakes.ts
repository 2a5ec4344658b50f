// The host (OVS) and guest (VNF) of the PVP tests: every OVS command answered from recorded
// outputs (test/fixtures/ovs), and every change and undo logged in order.
import { readFileSync } from 'node:fs';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { deriveOvsNames } from '../../../lib/tools/ovs/command.ts';
import { ovsDpdkArgsShape } from '../../../lib/topology/ovs-dpdk.ts';
import { FakeNodeSession, type FakeHandlers } from '../../support/fake-node-session.ts';

export const ovsFixture = (name: string) => readFileSync(new URL(`../../fixtures/ovs/${name}`, import.meta.url), 'utf8');
export const testpmdFixture = (name: string) => readFileSync(new URL(`../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');
export const topoFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
export const LINKS = topoFixture('ip-link-restored.json').replaceAll('"kbh0"', '"h0"').replaceAll('"kbh1"', '"h1"');
export const RUN_ID = '20261125-120000-abcd';
// The recorded idle state after the reservation the host makes (1024 pages, /dev/hugepages mounted).
export const RESERVED = topoFixture('hugepages-idle.txt')
  .replace('pool 2048 0 0', 'pool 2048 1024 1024')
  .replace('node 0 2048 0', 'node 0 2048 1024')
  .replace('folder no /dev/hugepages', 'mount /dev/hugepages rw,relatime,pagesize=2M\nfolder yes /dev/hugepages');
export const names = deriveOvsNames(RUN_ID);
// The recorded dump, with the drop rule carrying the harness's cookie as the plan adds it.
export const FLOWS = ovsFixture('dump-flows-cookie.txt').replace('cookie=0x0, duration=4.020s', 'cookie=0x6b666e, duration=4.020s');
export const PORTS = [names.physical[0], names.vhost[0], names.vhost[1], names.physical[1]].map((n, i) => `name                : ${n}\nofport              : ${i + 1}\nerror               : []\n`).join('\n');

export const args = (over: Record<string, unknown> = {}) => parseForwardingArgs(over, { caseName: 'ovs_dpdk_forwarding', extra: ovsDpdkArgsShape });

export interface Fakes {
  host: FakeNodeSession;
  guest: FakeNodeSession;
  /** Every change and undo, in order, with the number of undo steps registered at that moment. */
  log: string[];
}

export function fakes(pod: Pod, o: { host?: FakeHandlers['exec']; guest?: FakeHandlers['exec']; vnfRunning?: boolean; stdout?: string; cleanupSize?: () => number } = {}): Fakes {
  const log: string[] = [];
  const at = (what: string) => log.push(`${what} [${o.cleanupSize?.() ?? '?'}]`);
  // Host and guest share one kernel on the lab: once reserved, both see the pages and the mount.
  let reserved = false;
  const common = (command: string) => {
    if (command.startsWith('command -v ')) return { stdout: `/usr/bin/${command.slice(11)}\n` };
    if (command === 'ip -j link show') return { stdout: LINKS };
    if (command.startsWith('for d in /sys/kernel/mm/hugepages')) return { stdout: reserved ? RESERVED : topoFixture('hugepages-idle.txt') };
    if (command.startsWith('set -e\necho 1024')) {
      reserved = true;
      at('reserve hugepages');
    }
    if (command.startsWith('rc=0\nif awk')) at('restore hugepages');
    return undefined;
  };
  const host = new FakeNodeSession(pod.nodes.find((n) => n.name === 'host')!, {
    exec: (command, options) => {
      const own = o.host?.(command, options);
      if (own) return own;
      const c = common(command);
      if (c) return c;
      if (command.includes('ip link set dev h0')) at('restore links');
      if (command.startsWith('ovsdb-server ')) at('start ovsdb-server');
      if (command.startsWith('env OVS_RUNDIR=')) at('start ovs-vswitchd');
      if (command.startsWith('rc=0\nmine()')) at('stop private OVS');
      if (/ get Open_vSwitch \. dpdk_initialized$/.test(command)) return { stdout: 'true\n' };
      if (command.endsWith(' version')) return { stdout: ovsFixture('appctl-version.txt') };
      if (command.includes(' br-exists ')) return { exitCode: 2 };
      if (command.includes(' add-br ')) at('add bridge');
      if (command.includes(' del-br ')) at('delete bridge');
      if (command.includes('--columns=name,ofport,error list Interface')) return { stdout: PORTS };
      if (command.includes(' add-flow ')) at('add flow');
      if (command.includes(' dump-flows ')) return { stdout: FLOWS };
      if (command.includes('--columns=link_state list Interface')) return { stdout: 'link_state          : up\n\nlink_state          : up\n' };
      if (command.endsWith('dpif-netdev/pmd-stats-clear')) at('clear PMD stats');
      if (command.endsWith('dpif-netdev/pmd-stats-show')) return { stdout: ovsFixture('pmd-stats-show-one-pmd.txt') };
      if (command.endsWith('dpif-netdev/pmd-rxq-show')) return { stdout: ovsFixture('pmd-rxq-show-one-pmd.txt') };
      if (command.includes('--columns=name,ofport,statistics list Interface')) return { stdout: ovsFixture('list-interface-columns.txt') };
      return {};
    },
  });
  const guest = new FakeNodeSession(pod.nodes.find((n) => n.name === 'guest')!, {
    exec: (command, options) => {
      const own = o.guest?.(command, options);
      if (own) return own;
      const c = common(command);
      if (c) return c;
      if (command.includes('kfn-testpmd-ready')) return { stdout: 'kfn-testpmd-ready\n' };
      if (command.startsWith('cat ')) return { stdout: testpmdFixture('io-bidir-64.stderr') };
      if (command.startsWith('rm -rf /var/run/dpdk/')) at('remove VNF runtime dir');
      return {};
    },
    start: () => void at('start VNF'),
    running: () => o.vnfRunning ?? true,
    outcome: () => ({ stdout: o.stdout ?? testpmdFixture('io-bidir-64.stdout'), stderr: '', exitCode: 0 }),
  });
  return { host, guest, log };
}

