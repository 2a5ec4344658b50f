// Parses the sysinfo probe. Unknown stays null: a guessed kernel or machine kind would
// put the wrong build under test in the results.
import type { NodeSystemInfo } from '../../results/model.ts';
import { ToolOutputParseError } from '../../errors.ts';
import { SYSINFO_MARK } from './command.ts';

export function parseSysinfo(text: string, node: { name: string; role: string }): NodeSystemInfo {
  const sections = new Map<string, string>();
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(SYSINFO_MARK)) {
      key = line.slice(SYSINFO_MARK.length).trim();
      sections.set(key, '');
    } else if (key !== undefined) {
      sections.set(key, `${sections.get(key)}${line}\n`);
    }
  }
  if (!sections.has('release')) {
    throw new ToolOutputParseError('sysinfo probe', `no "${SYSINFO_MARK}release" section`, { lineNumber: 1, line: text.split('\n')[0] ?? '' });
  }
  const get = (k: string): string | null => {
    const v = sections.get(k)?.trim();
    return v ? v : null;
  };
  const version = get('version');
  const realtime = get('realtime');
  const preemptRt = realtime !== null ? realtime === '1' : version !== null ? /\bPREEMPT_RT\b/.test(version) : null;
  const cpus = Number.parseInt(get('cpus') ?? '', 10);
  return {
    node: node.name,
    role: node.role,
    kernelRelease: get('release'),
    kernelVersion: version,
    cmdline: get('cmdline'),
    preemptRt,
    ...classifyMachine(get('netns'), get('virt'), get('hypervisor_flag'), get('dmi')),
    qemuVersion: get('qemu'),
    cpus: Number.isFinite(cpus) ? cpus : null,
  };
}

function classifyMachine(netns: string | null, virt: string | null, flag: string | null, dmi: string | null): Pick<NodeSystemInfo, 'kind' | 'kindEvidence'> {
  if (netns) return { kind: 'namespace', kindEvidence: `network namespace "${netns}" (ip netns identify)` };
  if (virt && virt !== 'none') return { kind: 'vm', kindEvidence: `systemd-detect-virt --vm: ${virt}` };
  if (flag && Number(flag) > 0) return { kind: 'vm', kindEvidence: 'hypervisor flag in /proc/cpuinfo' };
  if (dmi && /qemu|kvm|vmware|virtualbox|xen|hyper-v|openstack/i.test(dmi)) return { kind: 'vm', kindEvidence: `DMI: ${dmi.replace(/\n/g, ' ')}` };
  if (virt === 'none' || (flag !== null && Number(flag) === 0)) return { kind: 'bare-metal', kindEvidence: 'no hypervisor flag or virtualisation detected' };
  return { kind: 'unknown', kindEvidence: 'no evidence could be read' };
}
