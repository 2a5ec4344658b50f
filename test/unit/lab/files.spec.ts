import { expect } from 'chai';
import { load } from 'js-yaml';
import { LabError } from '../../../lib/errors.ts';
import { buildKnownHosts, buildPodYaml, buildSshdConfig } from '../../../lib/lab/files.ts';
import { buildLabPlan } from '../../../lib/lab/plan.ts';

const plan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2 });

describe('lab files', () => {
  describe('buildSshdConfig', () => {
    it('writes the settings the per-node sshds need', () => {
      const lines = buildSshdConfig(plan).split('\n').filter((l) => l && !l.startsWith('#'));
      expect(lines).to.deep.equal([
        'Port 22',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'AuthorizedKeysFile /work/main/.lab/authorized_keys',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'X11Forwarding no',
        'MaxSessions 64',
        'MaxStartups 64:30:128',
        'Subsystem sftp internal-sftp',
      ]);
    });
  });

  describe('buildKnownHosts', () => {
    it('pins each node address to its host key, dropping the key comment', () => {
      const text = buildKnownHosts([
        { ip: '198.18.33.2', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost kvmfornfv-lab kfn261c host\n' },
        { ip: '198.18.33.3', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuest' },
      ]);
      expect(text).to.equal('198.18.33.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\n198.18.33.3 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuest\n');
    });
    it('rejects something that is not a public key', () => {
      expect(() => buildKnownHosts([{ ip: '198.18.33.2', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----' }])).to.throw(LabError, /public key/);
    });
  });

  describe('buildPodYaml', () => {
    const text = buildPodYaml(plan);
    const pod = load(text) as { pod_name: string; nodes: Record<string, unknown>[] };

    it('names the pod after the lab prefix', () => {
      expect(pod.pod_name).to.equal('lab-kfn261c');
      expect(Object.keys(pod)).to.deep.equal(['pod_name', 'lab', 'nodes']);
    });

    it('writes Yardstick node fields plus the project extensions', () => {
      expect(pod.nodes.map((n) => n.name)).to.deep.equal(['host', 'guest', 'tgen']);
      expect(pod.nodes[0]).to.deep.equal({
        name: 'host',
        role: 'host',
        ip: '198.18.33.2',
        user: 'root',
        ssh_port: 22,
        key_filename: '/work/main/.lab/id_ed25519',
        rt_cpus: '1',
        housekeeping_cpus: '0',
        host_key: { known_hosts: '/work/main/.lab/known_hosts' },
        ports: [
          { name: 'h0', interface: 'h0', mac: '02:26:1c:01:02:00', peer: 'tgen:t0' },
          { name: 'h1', interface: 'h1', mac: '02:26:1c:02:02:00', peer: 'tgen:t1' },
        ],
        tools: {},
        extra: { lab: true, namespace: 'kfn261c-host' },
      });
    });

    it('gives the guest the passthrough ports and the addressed interrupt port', () => {
      const guest = pod.nodes[1]!;
      expect((guest.ports as { name: string; peer: string }[]).map((p) => `${p.name}>${p.peer}`)).to.deep.equal(['g0>tgen:t2', 'g1>tgen:t3', 'gi>tgen:ti']);
      expect(guest.extra).to.deep.equal({ lab: true, namespace: 'kfn261c-guest', port_addresses: { gi: '198.19.33.2/30' } });
    });

    it('gives the generator all seven ports, the loopback pair peering with itself', () => {
      const ports = pod.nodes[2]!.ports as { name: string; peer: string }[];
      expect(ports.map((p) => `${p.name}>${p.peer}`)).to.deep.equal([
        't0>host:h0', 't1>host:h1', 't2>guest:g0', 't3>guest:g1', 'ti>guest:gi', 'c0>tgen:c1', 'c1>tgen:c0',
      ]);
      expect((pod.nodes[2]!.extra as Record<string, unknown>).port_addresses).to.deep.equal({ ti: '198.19.33.1/30' });
    });

    it('says in its comments that IPv6 is off on the data links', () => {
      const comments = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
      expect(comments).to.match(/IPv6 is disabled on them/);
      expect(comments).to.include('#   tgen:ti <-> guest:gi  device-interrupt test');
      expect(comments).to.include('Management network 198.18.33.0/24 via bridge kfn261c-br');
    });
  });

  describe('buildPodYaml with a VM guest', () => {
    const vmPlan = buildLabPlan({ realRoot: '/work/main', octet: 33, cpuCount: 2, guest: 'vm' });
    const image = { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', rootfs: '/img/rootfs.img', accessKey: '/img/id_ed25519', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` };
    const pod = load(buildPodYaml(vmPlan, image)) as { nodes: Array<Record<string, any>> };
    const node = (name: string) => pod.nodes.find((n) => n.name === name)!;

    it('has no namespace VNF left: the guest is the VM, the host and the generator the only namespaces', () => {
      expect(pod.nodes.map((n) => `${n.name}:${n.role}`)).to.deep.equal(['host:host', 'guest:guest', 'tgen:tgen']);
      expect(vmPlan.nodes.map((n) => n.namespace)).to.deep.equal(['kfn261c-host', 'kfn261c-tgen']);
      expect(JSON.stringify(pod)).not.to.match(/forwarding_vnf|"vnf"/);
    });

    it('gives the VM the SR-IOV analogue links through macvtap and two vhost-user NICs, the host none of its plumbing', () => {
      const guest = node('guest');
      expect(guest.ports.map((p: { name: string; peer?: string }) => `${p.name}>${p.peer ?? '-'}`)).to.deep.equal(['g0>tgen:t2', 'g1>tgen:t3', 'gi>tgen:ti', 'v0>-', 'v1>-']);
      expect(guest.launch.nics).to.deep.equal([
        { port: 'gi', tap: 'vmtap-gi', bridge: 'vmbr-gi' },
        { port: 'g0', macvtap: 'g0' },
        { port: 'g1', macvtap: 'g1' },
        { port: 'v0', vhost_user: true },
        { port: 'v1', vhost_user: true },
      ]);
      expect(node('host').ports.map((p: { name: string }) => p.name)).to.deep.equal(['h0', 'h1']);
      expect(node('tgen').ports.map((p: { name: string; peer: string }) => `${p.name}>${p.peer}`)).to.include.members(['t2>guest:g0', 't3>guest:g1', 'ti>guest:gi']);
    });

    it('places OVS\'s PMD and the generator on the housekeeping CPU, the VM\'s FIFO vCPU alone on the other', () => {
      expect(node('host').extra).to.deep.include({ ovs_pmd_cpus: '0', ovs_lcore_cpus: '0' });
      expect(node('tgen').extra).to.deep.include({ generator_cpus: '0' });
      expect(node('guest').launch).to.deep.include({ vcpu_pins: '1', emulator_cpus: '0', vcpu_sched: { policy: 'fifo', priority: 1 } });
    });
  });
});
