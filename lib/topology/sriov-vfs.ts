// SR-IOV VFs on a host's PFs, made ready for a guest: each PF read first, VFs created only on a
// PF that has none (so no VF someone else uses is destroyed), each VF's MAC, VLAN, spoof check
// and trust set, and every change registered with its undo before it is made. Used by the
// SR-IOV topology (VFs for a guest it does not launch) and by the launcher (VFs it passes
// through to the guest it starts).
import { TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { buildShellCommand as shell } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildSetNumVfsScript, buildSriovProbeScript, buildVfRestore, buildVfSettings, parseSriovProbe, type SriovProbe } from '../tools/sriov/command.ts';
import { parseIpLinkShow, type VfLinkInfo } from '../tools/sriov/ip-link.ts';
import { applyWithUndo, runScript } from './undo.ts';

/** One VF as the caller wants it. */
export interface VfRequest {
  /** The PF's kernel interface. */
  pf: string;
  vf: number;
  mac: string;
  vlan: number;
  qos: number;
  spoofchk: boolean;
  trust: boolean;
}

/** What a change needs of the case (or of the launcher, which has no case). */
export type VfContext = Pick<CaseContext, 'cleanup' | 'dryRun' | 'recordUndo'> & { writeRaw?: CaseContext['writeRaw'] };

interface PfUse {
  pf: string;
  probe: SriovProbe;
  links: VfLinkInfo[];
}

// Prepares every VF asked for; returns each VF's PCI address on the host (empty in a dry run).
export async function prepareVfs(ctx: VfContext, host: NodeSession, input: { vfs: readonly VfRequest[]; create: boolean; numVfs?: number }): Promise<Array<VfRequest & { pci: string | undefined }>> {
  const pfs = new Map<string, PfUse>();
  const out: Array<VfRequest & { pci: string | undefined }> = [];
  for (const want of input.vfs) {
    let use = pfs.get(want.pf);
    if (!use) {
      const wanted = input.numVfs ?? Math.max(...input.vfs.filter((v) => v.pf === want.pf).map((v) => v.vf)) + 1;
      use = await preparePf(ctx, host, { pf: want.pf, create: input.create, wanted });
      pfs.set(want.pf, use);
    }
    const vf = use.probe.vfs.find((v) => v.vf === want.vf);
    if (!vf && !ctx.dryRun) throw new TopologyError(`${want.pf} on ${host.node.name} has no VF ${want.vf} (it has ${use.probe.numVfs})`);
    const found = use.links.find((l) => l.vf === want.vf);
    const settings = { mac: want.mac, vlan: want.vlan, qos: want.qos, spoofchk: want.spoofchk, trust: want.trust };
    const same = found && found.mac === want.mac.toLowerCase() && found.vlan === want.vlan && found.qos === want.qos && found.spoofchk === want.spoofchk && found.trust === want.trust;
    if (!same) {
      await applyWithUndo(ctx, {
        label: `VF ${want.vf} settings of ${want.pf} on ${host.node.name}`,
        session: host,
        apply: async () => void (await runScript(host, shell(buildVfSettings(want.pf, want.vf, settings)), `set VF ${want.vf} of ${want.pf}`)),
        // As read before the change; a VF the harness created goes away with its PF's VF count.
        undoScript: found ? shell(buildVfRestore(want.pf, found)) : 'true',
      });
    }
    out.push({ ...want, pci: vf?.pci });
  }
  return out;
}

// Reads the PF; creates VFs only on a PF that has none, so no VF someone else uses is destroyed.
async function preparePf(ctx: VfContext, host: NodeSession, a: { pf: string; create: boolean; wanted: number }): Promise<PfUse> {
  const read = async (): Promise<PfUse> => {
    const probe = await runScript(host, buildSriovProbeScript(a.pf), `read SR-IOV state of ${a.pf}`);
    const links = await runScript(host, shell(['ip', '-d', 'link', 'show', 'dev', a.pf]), `read the VFs of ${a.pf}`);
    if (ctx.dryRun) return { pf: a.pf, probe: { pf: a.pf, pfPci: '0000:00:00.0', pfDriver: null, totalVfs: a.wanted, numVfs: a.wanted, vfs: [] }, links: [] };
    return { pf: a.pf, probe: parseSriovProbe(a.pf, probe), links: parseIpLinkShow(links).vfs };
  };
  const before = await read();
  await ctx.writeRaw?.(`sriov/${a.pf}-before.txt`, JSON.stringify(before, null, 1));
  if (!a.create || before.probe.numVfs >= a.wanted) return before;
  if (before.probe.numVfs > 0) {
    throw new TopologyError(`${a.pf} on ${host.node.name} has ${before.probe.numVfs} VFs and ${a.wanted} are needed; changing the count would destroy VFs the harness did not create, so it is left alone (raise sriov_numvfs yourself, or use vfs: existing)`);
  }
  if (a.wanted > before.probe.totalVfs) throw new TopologyError(`${a.pf} supports ${before.probe.totalVfs} VFs, ${a.wanted} needed`);
  await applyWithUndo(ctx, {
    label: `sriov_numvfs of ${a.pf} on ${host.node.name} (0 -> ${a.wanted})`,
    session: host,
    apply: async () => void (await runScript(host, buildSetNumVfsScript(a.pf, a.wanted), `create ${a.wanted} VFs on ${a.pf}`)),
    undoScript: buildSetNumVfsScript(a.pf, 0),
  });
  return read();
}
