import { expect } from 'chai';
import { buildLabPlan, chooseLabCpus, deriveLabNames, listPlanIfnames, MAX_IFNAME } from '../../../lib/lab/plan.ts';

// Expected hashes computed independently: `printf %s /work/main | sha1sum` = 261c21465e46...
describe('lab plan', () => {
  describe('deriveLabNames', () => {
    it('takes the prefix and preferred octet from sha1 of the real path', () => {
      const n = deriveLabNames('/work/main');
      expect(n.prefix).to.equal('kfn261c');
      expect(n.rootHash).to.equal('261c21465e46f16c73ee7cb63d55da09c9afa159');
      expect(n.preferredOctet).to.equal(0x21);
      expect(n.bridge).to.equal('kfn261c-br');
    });

    it('gives another checkout another prefix and subnet', () => {
      // `printf %s /srv/checkouts/kvmfornfv | sha1sum` = 9d82cb60...
      const n = deriveLabNames('/srv/checkouts/kvmfornfv');
      expect(n.prefix).to.equal('kfn9d82');
      expect(n.preferredOctet).to.equal(0xcb);
    });
  });

  describe('buildLabPlan', () => {
    const plan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2 });

    it('names namespaces, management links and addresses by node', () => {
      expect(plan.nodes.map((n) => [n.name, n.namespace, n.ip, n.rootLink])).to.deep.equal([
        ['host', 'kfn261c-host', '198.18.33.2', 'kfn261c-mh'],
        ['guest', 'kfn261c-guest', '198.18.33.3', 'kfn261c-mg'],
        ['tgen', 'kfn261c-tgen', '198.18.33.4', 'kfn261c-mt'],
      ]);
      expect(plan.gateway).to.equal('198.18.33.1');
      expect(plan.managementCidr).to.equal('198.18.33.0/24');
      expect(plan.interruptCidr).to.equal('198.19.33.0/30');
    });

    it('keeps every file under <root>/.lab', () => {
      expect(plan.paths.stateDir).to.equal('/work/main/.lab');
      expect(plan.paths.stateFile).to.equal('/work/main/.lab/state.json');
      expect(plan.paths.podYaml).to.equal('/work/main/.lab/pod.yaml');
      expect(plan.paths.keyFile).to.equal('/work/main/.lab/id_ed25519');
      expect(plan.nodes[0]!.hostKeyFile).to.equal('/work/main/.lab/ssh_host_ed25519_key.host');
      expect(plan.nodes[2]!.pidFile).to.equal('/work/main/.lab/sshd.tgen.pid');
      expect(plan.nodes[1]!.logFile).to.equal('/work/main/.lab/logs/sshd.guest.log');
    });

    it('wires the data links of the test plan', () => {
      const wiring = plan.links.map((l) => `${l.a.node}:${l.a.ifname}-${l.b.node}:${l.b.ifname}`);
      expect(wiring).to.deep.equal([
        'tgen:t0-host:h0',
        'tgen:t1-host:h1',
        'tgen:t2-guest:g0',
        'tgen:t3-guest:g1',
        'tgen:ti-guest:gi',
        'tgen:c0-tgen:c1',
      ]);
      const irq = plan.links[4]!;
      expect(irq.a.address).to.equal('198.19.33.1/30');
      expect(irq.b.address).to.equal('198.19.33.2/30');
      expect(plan.links[0]!.a.address).to.equal(undefined);
    });

    it('gives each data end a fixed, unique, locally administered unicast MAC', () => {
      const macs = plan.links.flatMap((l) => [l.a.mac, l.b.mac]);
      expect(macs[0]).to.equal('02:26:1c:01:01:00');
      expect(macs[1]).to.equal('02:26:1c:01:02:00');
      expect(new Set(macs).size).to.equal(macs.length);
      for (const mac of macs) expect(Number.parseInt(mac.slice(0, 2), 16) & 0x03).to.equal(0x02);
    });

    it('fits every interface name in IFNAMSIZ', () => {
      for (const name of listPlanIfnames(plan)) expect(name.length, name).to.be.at.most(MAX_IFNAME);
      expect(listPlanIfnames(plan)).to.include('kfn261c-br');
    });

    it('rejects an octet outside 0..255', () => {
      expect(() => buildLabPlan({ realRoot: '/work/main', octet: 256, cpuCount: 2 })).to.throw(RangeError, /0\.\.255/);
    });
  });

  describe('chooseLabCpus', () => {
    it('uses CPU 1 for measurements on the 2-core lab machine', () => {
      expect(chooseLabCpus(2)).to.deep.equal({ rtCpus: '1', housekeepingCpus: '0' });
    });
    it('uses the last CPU when there are more', () => {
      expect(chooseLabCpus(8)).to.deep.equal({ rtCpus: '7', housekeepingCpus: '0' });
    });
    it('rejects a CPU count of zero', () => {
      expect(() => chooseLabCpus(0)).to.throw(RangeError);
    });
  });
});
