import { expect } from 'chai';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import { buildNodeContext } from '../../../lib/audit/index.ts';

const node: PodNode = {
  name: 'compute-1', role: 'host', declaredRole: 'Compute', ip: '10.0.0.5', user: 'root', sshPort: 22,
  rtCpus: [2, 3], housekeepingCpus: [0, 1], tools: {}, extra: {},
  ports: [
    { name: 'p0', pci: '0000:18:00.0' },
    { name: 'pf0', pci: '0000:18:00.1', interface: 'ens1f1' },
    { name: 'veth0', interface: 'd0' },
  ],
};

describe('buildNodeContext', () => {
  it('makes PCI ports DPDK ports unless they are SR-IOV PFs', () => {
    const context = buildNodeContext({ node, sriovPfs: [{ port: 'pf0', minVfs: 4 }] });
    expect(context.dataPorts.map((p) => [p.name, p.binding])).to.deep.equal([['p0', 'vfio-pci'], ['pf0', 'kernel'], ['veth0', 'kernel']]);
    expect(context.sriovPfs).to.deep.equal([{ port: 'pf0', minVfs: 4, pci: '0000:18:00.1', interface: 'ens1f1' }]);
    expect(context.usesSriov).to.equal(true);
  });

  it('never asks for fewer than one free hugepage, which would make the check vacuous', () => {
    expect(buildNodeContext({ node, minFreeHugepages: 0 }).hugepages.minFreePerNode).to.equal(1);
    expect(buildNodeContext({ node }).usesSriov).to.equal(false);
  });
});
