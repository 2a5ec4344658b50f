import { expect } from 'chai';
import { TopologyError } from '../../../../lib/errors.ts';
import { readFileSync } from 'node:fs';
import { findPortProblem, planPvp, summarizePortDrops, type PvpPlanInput } from '../../../../lib/tools/ovs/pvp-plan.ts';
import { parseVsctlRecords } from '../../../../lib/tools/ovs/value.ts';

const lab: PvpPlanInput = {
  runId: '20261125-152322-ab12',
  ovs: 'own',
  rundir: '/tmp/kfn-20261125-152322-ab12/ovs',
  physical: [
    { name: 'h0', iface: 'h0' },
    { name: 'h1', iface: 'h1' },
  ],
  pmdCpus: [1],
  lcoreCpus: [0],
  socketMemMb: 512,
  setPmdMaskOnExisting: false,
  noPci: true,
};

describe('tools/ovs planPvp', () => {
  it('plans a private instance on the lab as the recipe that was seen working', () => {
    const plan = planPvp(lab);
    expect(plan.layout?.dbSocket).to.equal('/tmp/kfn-20261125-152322-ab12/ovs/db.sock');
    expect(plan.instance.db).to.equal('unix:/tmp/kfn-20261125-152322-ab12/ovs/db.sock');
    expect(plan.otherConfig).to.deep.equal({
      'dpdk-init': 'true',
      'dpdk-lcore-mask': '0x1',
      'pmd-cpu-mask': '0x2',
      'dpdk-socket-mem': '512',
      'dpdk-extra': '--no-pci --file-prefix=kfn-ovs-20261125-152322-ab12',
      'dpdk-socket-limit': '512',
    });
    expect(plan.ports.map((p) => [p.kind, p.ofport, p.kind === 'dpdk' ? p.devargs : p.socketPath])).to.deep.equal([
      ['dpdk', 1, 'net_af_packet0,iface=h0'],
      ['vhostuserclient', 2, '/tmp/kfn-20261125-152322-ab12/ovs/vhu0.sock'],
      ['vhostuserclient', 3, '/tmp/kfn-20261125-152322-ab12/ovs/vhu1.sock'],
      ['dpdk', 4, 'net_af_packet1,iface=h1'],
    ]);
    expect(plan.pciToBind).to.deep.equal([]);
  });

  it('wires the flows through the VNF: port 0 to vhost 0, vhost 1 to port 1, and back', () => {
    const flows = planPvp(lab).flows;
    expect(flows).to.include('cookie=0x6b666e,priority=100,in_port=1,actions=output:2');
    expect(flows).to.include('cookie=0x6b666e,priority=100,in_port=3,actions=output:4');
    expect(flows).to.include('cookie=0x6b666e,priority=100,in_port=4,actions=output:3');
    expect(flows).to.include('cookie=0x6b666e,priority=100,in_port=2,actions=output:1');
    expect(flows.filter((f) => /NORMAL|learn/i.test(f))).to.deep.equal([]);
  });

  it('uses the system OVS without touching its settings unless asked, with PCI ports and given sockets', () => {
    const input: PvpPlanInput = {
      ...lab,
      ovs: 'existing',
      physical: [
        { name: 'xe0', pci: '0000:3B:00.0', iface: 'ens1f0' },
        { name: 'xe1', pci: '0000:3b:00.1' },
      ],
      vhostSockets: ['/var/run/vnf1/vhu0.sock', '/var/run/vnf1/vhu1.sock'],
      noPci: false,
    };
    const plan = planPvp(input);
    expect(plan.layout).to.equal(null);
    expect(plan.instance.db).to.equal(undefined);
    expect(plan.otherConfig).to.deep.equal({});
    expect(plan.pciToBind).to.deep.equal(['0000:3b:00.0', '0000:3b:00.1']);
    expect(plan.ports[0]).to.include({ devargs: '0000:3b:00.0' });
    expect(plan.ports[1]).to.include({ socketPath: '/var/run/vnf1/vhu0.sock' });
    expect(planPvp({ ...input, setPmdMaskOnExisting: true, pmdCpus: [4, 5] }).otherConfig).to.deep.equal({ 'pmd-cpu-mask': '0x30' });
  });

  it('refuses a host port OVS cannot open', () => {
    expect(() => planPvp({ ...lab, physical: [{ name: 'h0' }, { name: 'h1', iface: 'h1' }] })).to.throw(TopologyError, /h0 has neither/);
  });
});

describe('tools/ovs port checks and counters', () => {
  const plan = planPvp(lab);
  const listing = (error = '[]', ofport = 1) =>
    parseVsctlRecords(plan.ports.map((p, i) => `name                : ${p.name}\nofport              : ${i === 0 ? ofport : p.ofport}\nerror               : ${i === 0 ? error : '[]'}\n`).join('\n'));

  it('accepts ports opened at their planned OpenFlow numbers', () => {
    expect(findPortProblem(plan, listing())).to.equal(null);
  });

  it('names the port OVS could not open, with its error or its wrong number', () => {
    expect(findPortProblem(plan, listing('"could not open network device h0 (No such device)"', -1))).to.equal(
      `OVS could not open port ${plan.names.physical[0]} (net_af_packet0,iface=h0): could not open network device h0 (No such device)`,
    );
    expect(findPortProblem(plan, listing('[]', -1))).to.match(/ofport -1 instead of 1/);
    expect(findPortProblem(plan, listing().slice(1))).to.match(/ofport missing instead of 1/);
  });

  it('keeps the drop and error totals of each port, not the per-queue ones (recorded listing)', () => {
    const records = parseVsctlRecords(readFileSync(new URL('../../../fixtures/ovs/list-interface-columns.txt', import.meta.url), 'utf8'));
    const drops = summarizePortDrops(records);
    expect(drops.vhu0).to.include({ ovs_tx_failure_drops: 10361, tx_dropped: 10361, rx_dropped: 0 });
    expect(Object.keys(drops.p0 ?? {}).some((k) => /_q\d+_/.test(k))).to.equal(false);
    expect(Object.keys(drops.p0 ?? {})).to.include('rx_missed_errors');
  });
});
