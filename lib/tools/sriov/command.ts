// Commands that give a VNF an SR-IOV VF, and the probe that reads what a PF has before they
// run. Pure: scripts and argv only. The sysfs layout and rules are those of the kernel's
// Documentation/PCI/pci-iov-howto.rst and Documentation/ABI/testing/sysfs-bus-pci
// (sriov_numvfs, sriov_totalvfs, virtfnN, driver_override, drivers_probe); the VF settings
// are those of ip-link(8) `ip link set DEVICE vf NUM [mac] [vlan] [spoofchk] [trust]`.
// Binding a VF to vfio-pci and back is lib/topology/hugepages.ts (bindPciDevices).
import { ConfigError, ToolOutputParseError, type ConfigIssue } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';
import type { VfLinkInfo } from './ip-link.ts';

const IFNAME = /^[A-Za-z0-9_.:+-]{1,15}$/;
const PCI = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** What a PF's sysfs says before the harness touches it. */
export interface SriovProbe {
  pf: string;
  pfPci: string;
  pfDriver: string | null;
  totalVfs: number;
  numVfs: number;
  vfs: Array<{ vf: number; pci: string; driver: string | null; driverOverride: string | null }>;
}

// One script reads everything about the PF, so a probe is one round trip. `sysfs` is a
// parameter so the unit tests run the very same script over a tree laid out like /sys.
export function buildSriovProbeScript(pf: string, sysfs = '/sys'): string {
  checkIfname(pf, 'pf');
  const dev = `${sysfs}/class/net/${pf}/device`;
  return [
    'set -u',
    `dev=${quoteArg(dev)}`,
    `[ -e "$dev/sriov_totalvfs" ] || { echo "no SR-IOV capability: $dev/sriov_totalvfs is missing" >&2; exit 3; }`,
    'echo "pf_pci=$(basename "$(readlink -f "$dev")")"',
    'if [ -e "$dev/driver" ]; then echo "pf_driver=$(basename "$(readlink -f "$dev/driver")")"; else echo "pf_driver="; fi',
    'echo "totalvfs=$(cat "$dev/sriov_totalvfs")"',
    'echo "numvfs=$(cat "$dev/sriov_numvfs")"',
    'for link in "$dev"/virtfn*; do',
    '  [ -e "$link" ] || continue',
    '  n=${link##*virtfn}',
    '  vf=$(readlink -f "$link")',
    '  drv=; [ -e "$vf/driver" ] && drv=$(basename "$(readlink -f "$vf/driver")")',
    '  ovr=$(cat "$vf/driver_override" 2>/dev/null || echo "(null)")',
    '  echo "vf=$n pci=$(basename "$vf") driver=$drv override=$ovr"',
    'done',
  ].join('\n');
}

// The probe's own output format; anything else means the script did not run as written.
export function parseSriovProbe(pf: string, text: string): SriovProbe {
  const tool = 'SR-IOV sysfs probe';
  const out: Partial<SriovProbe> & { vfs: SriovProbe['vfs'] } = { pf, vfs: [] };
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fail = (message: string) => new ToolOutputParseError(tool, message, { lineNumber: i + 1, line });
    const vf = /^vf=(\d+) pci=(\S+) driver=(\S*) override=(\S*)$/.exec(line);
    const kv = /^(pf_pci|pf_driver|totalvfs|numvfs)=(\S*)$/.exec(line);
    if (vf) {
      if (!PCI.test(vf[2] as string)) throw fail('expected the VF PCI address as DDDD:BB:DD.F');
      const override = vf[4] as string;
      out.vfs.push({ vf: Number(vf[1]), pci: vf[2] as string, driver: vf[3] || null, driverOverride: override === '' || override === '(null)' ? null : override });
    } else if (kv) {
      const [, key, value] = kv as unknown as [string, string, string];
      if (key === 'pf_pci') {
        if (!PCI.test(value)) throw fail('expected the PF PCI address as DDDD:BB:DD.F');
        out.pfPci = value;
      } else if (key === 'pf_driver') out.pfDriver = value || null;
      else {
        if (!/^\d+$/.test(value)) throw fail(`expected ${key} to be a count`);
        out[key === 'totalvfs' ? 'totalVfs' : 'numVfs'] = Number(value);
      }
    } else throw fail('expected pf_pci=, pf_driver=, totalvfs=, numvfs= or a vf= line');
  }
  if (out.pfPci === undefined || out.totalVfs === undefined || out.numVfs === undefined) {
    throw new ToolOutputParseError(tool, `expected pf_pci, totalvfs and numvfs for ${pf}, found ${Object.keys(out).filter((k) => k !== 'vfs' && k !== 'pf').join(', ') || 'none'}`);
  }
  out.vfs.sort((a, b) => a.vf - b.vf);
  if (out.vfs.length !== out.numVfs) {
    throw new ToolOutputParseError(tool, `sriov_numvfs says ${out.numVfs} VFs but ${out.vfs.length} virtfn links were found`);
  }
  return { pf, pfPci: out.pfPci, pfDriver: out.pfDriver ?? null, totalVfs: out.totalVfs, numVfs: out.numVfs, vfs: out.vfs };
}

// The kernel refuses to change a non-zero VF count to another non-zero one (EBUSY), so a
// change goes through 0; an unchanged count writes nothing, which keeps existing VFs alive.
export function buildSetNumVfsScript(pf: string, count: number, sysfs = '/sys'): string {
  checkIfname(pf, 'pf');
  if (!Number.isInteger(count) || count < 0 || count > 4096) throw new ConfigError('sriov', [{ path: 'num_vfs', message: `expected an integer 0..4096, found ${count}` }]);
  const file = quoteArg(`${sysfs}/class/net/${pf}/device/sriov_numvfs`);
  return [`cur=$(cat ${file})`, `if [ "$cur" != ${count} ]; then`, `  if [ "$cur" != 0 ]; then echo 0 > ${file}; fi`, ...(count > 0 ? [`  echo ${count} > ${file}`] : []), 'fi'].join('\n');
}

export interface VfSettings {
  mac: string;
  /** 0 removes the port VLAN. */
  vlan: number;
  qos?: number;
  spoofchk: boolean;
  trust: boolean;
}

// One `ip link set` per VF; both the setup and the restore use it.
export function buildVfSettings(pf: string, vf: number, s: VfSettings): string[] {
  const issues: ConfigIssue[] = [];
  if (!IFNAME.test(pf)) issues.push({ path: 'pf', message: `expected an interface name, found ${JSON.stringify(pf)}` });
  if (!Number.isInteger(vf) || vf < 0) issues.push({ path: 'vf', message: `expected a VF index >= 0, found ${vf}` });
  if (!MAC.test(s.mac)) issues.push({ path: 'mac', message: `expected a MAC like 02:00:00:00:00:01, found ${JSON.stringify(s.mac)}` });
  if (!Number.isInteger(s.vlan) || s.vlan < 0 || s.vlan > 4094) issues.push({ path: 'vlan', message: `expected 0..4094, found ${s.vlan}` });
  const qos = s.qos ?? 0;
  if (!Number.isInteger(qos) || qos < 0 || qos > 7) issues.push({ path: 'qos', message: `expected 0..7, found ${qos}` });
  if (issues.length) throw new ConfigError('sriov', issues);
  return [
    'ip', 'link', 'set', 'dev', pf, 'vf', String(vf),
    'mac', s.mac.toLowerCase(),
    'vlan', String(s.vlan), ...(qos > 0 ? ['qos', String(qos)] : []),
    'spoofchk', s.spoofchk ? 'on' : 'off',
    'trust', s.trust ? 'on' : 'off',
  ];
}

// Puts a VF back as `ip -d link show` found it; settings the driver did not report stay as set.
export function buildVfRestore(pf: string, found: VfLinkInfo): string[] {
  return buildVfSettings(pf, found.vf, {
    mac: found.mac,
    vlan: found.vlan,
    qos: found.qos,
    spoofchk: found.spoofchk ?? true,
    trust: found.trust ?? false,
  });
}

// A libvirt hostdev for `virsh attach-device`: the VF handed to the guest as a PCI device,
// at the guest address pod.yaml names for the VNF port when given (so testpmd finds it there).
export function buildHostdevXml(hostPci: string, guestPci?: string): string {
  const address = (pci: string, extra = '') => {
    checkPci(pci);
    const [domain, bus, rest] = pci.toLowerCase().split(':') as [string, string, string];
    const [slot, fn] = rest.split('.') as [string, string];
    return `<address${extra} domain='0x${domain}' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/>`;
  };
  return [
    "<hostdev mode='subsystem' type='pci' managed='no'>",
    `  <source>${address(hostPci)}</source>`,
    ...(guestPci ? [`  ${address(guestPci, " type='pci'")}`] : []),
    '</hostdev>',
    '',
  ].join('\n');
}

// --live only: the guest's persistent definition is never changed.
export function buildVirshDevice(action: 'attach-device' | 'detach-device', domain: string, xmlPath: string): string[] {
  if (!/^[A-Za-z0-9_.+-]{1,200}$/.test(domain)) throw new ConfigError('sriov', [{ path: 'domain', message: `expected a libvirt domain name, found ${JSON.stringify(domain)}` }]);
  return ['virsh', action, domain, xmlPath, '--live'];
}

function checkIfname(name: string, path: string): void {
  if (!IFNAME.test(name)) throw new ConfigError('sriov', [{ path, message: `expected an interface name (1-15 characters), found ${JSON.stringify(name)}` }]);
}

function checkPci(pci: string): void {
  if (!PCI.test(pci)) throw new ConfigError('sriov', [{ path: 'pci', message: `expected a PCI address like 0000:3b:02.0, found ${JSON.stringify(pci)}` }]);
}
