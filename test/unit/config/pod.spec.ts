import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildPod, loadPod } from '../../../lib/config/pod.ts';
import { podSecrets } from '../../../lib/config/pod-model.ts';
import { catchConfigError, expectConfigError, type ExpectedIssue } from './expect-config-error.ts';

const dir = fileURLToPath(new URL('../../fixtures/config/pod/', import.meta.url));
const fixture = (name: string) => `${dir}${name}`;
const NO_ENV = {};

describe('config/pod: bad pod files', () => {
  const table: Array<{ fixture: string; issue: ExpectedIssue; secret?: string }> = [
    { fixture: 'bad-ssh-port.yaml', issue: { path: 'nodes[1].ssh_port', includes: ['expected an integer 1-65535, got "abc"', 'guest'] } },
    { fixture: 'ssh-port-range.yaml', issue: { path: 'nodes[0].ssh_port', includes: ['expected an integer 1-65535, got 70000'] } },
    { fixture: 'missing-role.yaml', issue: { path: 'nodes[0].role', includes: ['missing', 'expected host, guest or tgen'] } },
    { fixture: 'unknown-role.yaml', issue: { path: 'nodes[0].role', includes: ['unknown role "Hots"', 'expected host, guest or tgen'] } },
    { fixture: 'missing-ip.yaml', issue: { path: 'nodes[0].ip', includes: ['missing', 'expected an IP address or host name'] } },
    { fixture: 'duplicate-names.yaml', issue: { path: 'nodes[1].name', includes: ['expected a unique node name', '"t1"', 'nodes[0]'] } },
    { fixture: 'jump-host-unknown.yaml', issue: { path: 'nodes[1].jump_host', includes: ['expected the name of a node in this pod, got "bastion"', 'host, guest'] } },
    { fixture: 'jump-host-self.yaml', issue: { path: 'nodes[0].jump_host', includes: ["expected another node's name", 'itself'] } },
    { fixture: 'jump-host-chain.yaml', issue: { path: 'nodes[0].jump_host', includes: ['has its own jump_host'] } },
    { fixture: 'jump-host-object.yaml', issue: { path: 'nodes[0].jump_host.ssh_port', includes: ['expected an integer 1-65535, got 0'] }, secret: 'jump-pass-77' },
    { fixture: 'jump-host-object.yaml', issue: { path: 'nodes[0].jump_host.password', includes: ['unknown key', 'password_env'] }, secret: 'jump-pass-77' },
    { fixture: 'cpus-half.yaml', issue: { path: 'nodes[0].housekeeping_cpus', includes: ['missing', 'role vnf (guest) needs housekeeping_cpus'] } },
    { fixture: 'cpu-overlap.yaml', issue: { path: 'nodes[0].housekeeping_cpus', includes: ['expected no CPU in both rt_cpus and housekeeping_cpus, got 3 in both'] } },
    { fixture: 'bad-cpu-list.yaml', issue: { path: 'nodes[0].rt_cpus', includes: ['expected a CPU list such as "2-5,8"', 'got "3-1"', 'runs backwards'] } },
    { fixture: 'bad-fingerprint.yaml', issue: { path: 'nodes[0].host_key.fingerprint', includes: ['expected SHA256:<43 base64 characters>', 'got "MD5:'] } },
    { fixture: 'host-key-both.yaml', issue: { path: 'nodes[0].host_key', includes: ['give exactly one of known_hosts or fingerprint, got both'] } },
    { fixture: 'bad-peer.yaml', issue: { path: 'nodes[0].ports[0].peer', includes: ['expected node:port of this pod, got "t2:p9"', 'has ports p0'] } },
    { fixture: 'bad-mac.yaml', issue: { path: 'nodes[0].ports[0].mac', includes: ['expected a MAC address', 'got "02:00:00:00:01"'] } },
    { fixture: 'bad-pci.yaml', issue: { path: 'nodes[0].ports[0].pci', includes: ['expected a PCI address such as 0000:3b:00.0', 'got "3b:00.0"'] } },
    { fixture: 'bad-line-rate.yaml', issue: { path: 'nodes[0].ports[0].line_rate', includes: ['expected a line rate such as "10G"', 'got "10GB"'] } },
    { fixture: 'unknown-key.yaml', issue: { path: 'nodes[0].rt_cpu', includes: ['unknown key: did you mean rt_cpus?'] } },
    { fixture: 'misspelt-role.yaml', issue: { path: 'nodes[0].role', includes: ['unknown role "vnf_0": did you mean vnf__0?'] } },
    { fixture: 'bad-pkey.yaml', issue: { path: 'nodes[0].pkey', includes: ['expected a private key as text', 'got a string'] }, secret: 'kfn-not-a-key-material' },
    { fixture: 'password-number.yaml', issue: { path: 'nodes[0].password', includes: ['expected a string', 'got a number'] }, secret: '918273645' },
    { fixture: 'password-and-env.yaml', issue: { path: 'nodes[0].password_env', includes: ['give at most one of password or password_env'] }, secret: 'Tr0ub4dor&3-in-file' },
    { fixture: 'password-syntax-error.yaml', issue: { path: '', includes: ['YAML syntax error at line 7, column 1'] }, secret: 'hunter2-unterminated' },
    { fixture: 'yaml-syntax.yaml', issue: { path: '', includes: ['YAML syntax error at line 4, column', 'bad indentation'] } },
    { fixture: 'no-nodes.yaml', issue: { path: 'nodes', includes: ['expected at least one node'] } },
    { fixture: 'not-a-mapping.yaml', issue: { path: '', includes: ['expected a mapping with a nodes: list', 'got a list'] } },
    { fixture: 'empty.yaml', issue: { path: '', includes: ['the file is empty', 'expected a pod inventory'] } },
    { fixture: 'no-such-pod.yaml', issue: { path: '', includes: ['cannot read the file (no such file)', 'expected a pod inventory'] } },
  ];
  for (const row of table) {
    it(`${row.fixture}: ${row.issue.path || '(top level)'}`, () => {
      expectConfigError(() => loadPod(fixture(row.fixture), { env: NO_ENV }), { file: fixture(row.fixture), issue: row.issue, secret: row.secret });
    });
  }

  it('reports every problem of a file at once', () => {
    const error = catchConfigError(() => loadPod(fixture('many-issues.yaml'), { env: NO_ENV }));
    expect(error.issues.map((i) => i.path)).to.have.members(['pod_name', 'nodes[0].ssh_port', 'nodes[1].housekeeping_cpus', 'nodes[1].jump_host', 'nodes[2].name']);
  });

  it('loads an unchanged Yardstick pod.yaml, noting that its Compute nodes name no CPUs yet', () => {
    const pod = loadPod(fixture('yardstick-pod.yaml'), { env: NO_ENV });
    const computes = pod.nodes.filter((n) => n.role === 'host');
    expect(computes.map((n) => [n.rtCpus, n.housekeepingCpus])).to.deep.equal([[[], []], [[], []]]);
    const cpuNotes = pod.notes.filter((n) => n.includes('names no rt_cpus or housekeeping_cpus'));
    expect(cpuNotes).to.have.length(2);
    expect(pod.notes.join('\n')).not.to.include('r00t');
  });

  it('loads a guest that names no CPU lists, with a note, rather than picking CPUs', () => {
    const pod = loadPod(fixture('cpus-missing.yaml'), { env: NO_ENV });
    expect(pod.nodes[0]?.rtCpus).to.deep.equal([]);
    expect(pod.notes.some((n) => n.includes('the harness does not pick CPUs itself'))).to.equal(true);
  });
});

describe('config/pod: good pod files', () => {
  it('loads a Yardstick pod.yaml with CPU lists added, mapping its roles', () => {
    const pod = loadPod(fixture('yardstick-pod-cpus.yaml'), { env: NO_ENV });
    expect(pod.name).to.equal('lf-pod2');
    expect(pod.lab).to.equal(false);
    expect(pod.nodes.map((n) => [n.name, n.role, n.declaredRole])).to.deep.equal([
      ['node1', 'other', 'Controller'],
      ['node2', 'other', 'Controller'],
      ['node4', 'host', 'Compute'],
      ['node5', 'host', 'compute'],
    ]);
    const [, , node4, node5] = pod.nodes;
    expect(node4).to.include({ ip: '203.0.113.14', user: 'root', sshPort: 2222, keyFilename: '/root/yardstick/yardstick/resources/files/yardstick_key' });
    expect(node4?.rtCpus).to.deep.equal([2, 3, 4, 5, 8]);
    expect(node4?.housekeepingCpus).to.deep.equal([0, 1]);
    expect(node5).to.include({ user: 'root', sshPort: 22, password: 'r00t-node5-literal' });
    expect(node5?.rtCpus).to.deep.equal([3]);
    expect(node5?.housekeepingCpus).to.deep.equal([0]);
    expect(pod.notes.filter((n) => n.includes('has role Controller: kept, but no test case uses it'))).to.have.length(2);
    expect(pod.notes.some((n) => n.includes('ipmi_ip, ipmi_user, ipmi_password are accepted but not used'))).to.equal(true);
    for (const secret of ['ipmi-secret-1', 'r00t-node5-literal']) expect(pod.notes.join('\n')).not.to.include(secret);
  });

  it('refuses a slip of a key it reads, at the top level too, but keeps a far unknown key with a note', () => {
    const node = { name: 't', role: 'TrafficGen', ip: '198.18.0.9' };
    const error = catchConfigError(() => buildPod({ 'pod-name': 'p', nodes: [{ ...node, Key_Filename: '/k', housekeeping_cpu: '0' }] }, { file: 'p.yaml', env: NO_ENV }));
    expect(error.issues.map((i) => [i.path, i.message.split('?')[0]])).to.deep.equal([
      ['pod-name', 'unknown key: did you mean pod_name'],
      ['nodes[0].Key_Filename', 'unknown key: did you mean key_filename'],
      ['nodes[0].housekeeping_cpu', 'unknown key: did you mean housekeeping_cpus'],
    ]);
    const both = catchConfigError(() => buildPod({ nodes: [{ ...node, ssh_port: 'abc', rt_cpu: '1' }] }, { file: 'p.yaml', env: NO_ENV }));
    expect(both.issues.map((i) => i.path), 'a slip is reported beside a bad field, not hidden by it').to.deep.equal(['nodes[0].ssh_port', 'nodes[0].rt_cpu']);
    const pod = buildPod({ nodes: [{ ...node, rack: 'A3', ipmi_passwd: 'kfn-typo-secret' }] }, { file: 'p.yaml', env: NO_ENV });
    expect(pod.notes).to.include("node t (nodes[0]): keys rack, ipmi_passwd (Yardstick has ipmi_password) are neither this suite's nor Yardstick's: kept, not used");
    expect(podSecrets(pod, NO_ENV), 'a secret-looking unknown key is redacted all the same').to.include('kfn-typo-secret');
  });

  it('defaults the pod name to the file name, and NODE_NAME overrides it', () => {
    const raw = { nodes: [{ name: 't', role: 'TrafficGen', ip: '198.18.0.9' }] };
    expect(buildPod(raw, { file: '/etc/kvmfornfv/pod-7.yaml', env: NO_ENV }).name).to.equal('pod-7');
    const pod = buildPod({ ...raw, pod_name: 'from-file' }, { file: 'x.yaml', env: { NODE_NAME: 'intel-pod10' } });
    expect(pod.name).to.equal('intel-pod10');
    expect(pod.notes.join('\n')).to.include('NODE_NAME');
  });

  describe('the extended format', () => {
    const file = fixture('extended-pod.yaml');

    it('never reads, nor needs, the key files it names', () => {
      const pod = loadPod(file, { env: NO_ENV });
      const keyFiles = pod.nodes.flatMap((n) => [n.keyFilename, n.jumpHost?.keyFilename]).filter((k) => k !== undefined);
      expect(keyFiles).to.have.length(4);
      for (const key of keyFiles) expect(existsSync(key), key).to.equal(false);
    });

    it('resolves a jump host given by node name into that node\'s connection', () => {
      const guest = loadPod(file, { env: NO_ENV }).nodes.find((n) => n.name === 'guest1');
      expect(guest).to.deep.include({ role: 'guest', user: 'cloud', sshPort: 2022, passwordRef: { env: 'GUEST1_PASSWORD' }, rtCpus: [1], housekeepingCpus: [0] });
      expect(guest?.hostKey).to.deep.equal({ fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' });
      expect(guest?.jumpHost).to.deep.equal({
        ip: '198.18.0.2',
        user: 'root',
        sshPort: 22,
        keyFilename: '/nonexistent/kvmfornfv-test/keys/host1_id_ed25519',
        keyPassphraseRef: { env: 'HOST1_KEY_PASSPHRASE' },
        hostKey: { knownHosts: '/nonexistent/kvmfornfv-test/known_hosts' },
      });
    });

    it('resolves a jump host given in place, ports, tools and extra', () => {
      const pod = loadPod(file, { env: NO_ENV });
      const [host, , tgen] = pod.nodes;
      expect(tgen).to.deep.include({ role: 'tgen', declaredRole: 'TrafficGen', rtCpus: [], housekeepingCpus: [] });
      expect(tgen?.jumpHost).to.deep.equal({
        ip: 'bastion.example.net',
        user: 'jump',
        sshPort: 2200,
        keyFilename: '/nonexistent/kvmfornfv-test/keys/bastion_id_rsa',
        passwordRef: { env: 'BASTION_PASSWORD' },
        hostKey: { fingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' },
      });
      expect(host?.ports).to.deep.equal([
        { name: 'p0', interface: 'ens1f0', pci: '0000:3b:00.0', mac: '3c:fd:fe:a1:b2:c3', lineRateBps: 25e9, peer: 'tgen1:t0' },
        { name: 'p1', interface: 'ens1f1', pci: '0000:3b:00.1', lineRateBps: 25e9, peer: 'tgen1:t1' },
      ]);
      expect(tgen?.ports.map((p) => p.lineRateBps)).to.deep.equal([100e6, 10e9]);
      expect(host?.tools).to.deep.equal({ cyclictest: '/opt/rt-tests/bin/cyclictest' });
      expect(host?.extra).to.deep.equal({ ovs: { pmd_cpu_mask: '0x4' } });
    });

    it('notes unset secret variables by name only, and never their values once set', () => {
      const unset = loadPod(file, { env: NO_ENV }).notes.join('\n');
      for (const name of ['HOST1_KEY_PASSPHRASE', 'GUEST1_PASSWORD', 'BASTION_PASSWORD']) expect(unset).to.include(`${name} is not set`);
      const env = { HOST1_KEY_PASSPHRASE: 'pp-value-1', GUEST1_PASSWORD: 'pw-value-2', BASTION_PASSWORD: 'pw-value-3' };
      const pod = loadPod(file, { env });
      expect(pod.notes.join('\n')).not.to.match(/is not set|pp-value-1|pw-value-2|pw-value-3/);
      // The model knows which values to redact once they are set.
      expect(podSecrets(pod, env)).to.include.members(['pp-value-1', 'pw-value-2', 'pw-value-3']);
    });
  });
});

// Four pod files in the shapes of Yardstick's own (opnfv/yardstick 63d0e99fa2e4, etc/yardstick/nodes/; see each file's header).
describe("config/pod: Yardstick's own pod files", () => {
  const load = (name: string) => loadPod(fixture(name), { env: NO_ENV });
  const roles = (name: string) => load(name).nodes.map((n) => `${n.name}:${n.declaredRole}->${n.role}`);

  it('an IPMI pod: Jumpserver and Baremetal kept unused, ipmi_password and ipmi_pwd kept secret', () => {
    const pod = load('yardstick-ipmi-pod.yaml');
    expect(roles('yardstick-ipmi-pod.yaml')).to.deep.equal(['node0:Jumpserver->other', 'node1:Controller->other', 'node2:Compute->host', 'node4:Compute->host', 'node9:Baremetal->other']);
    expect(pod.notes).to.include('node node4 (nodes[3]): Yardstick keys ipmi_ip, ipmi_user, ipmi_pwd are accepted but not used');
    expect(podSecrets(pod, NO_ENV)).to.include.members(['kfn-ipmi-pod-bmc-pw-1', 'kfn-ipmi-pod-bmc-pw-2', 'Kfn@ipmi-pwd-3', 'kfn-ipmi-pod-jump-pw']);
  });

  it('an NSB pod: vnf__0 read as guest, IxNet kept, interfaces and routing tables accepted unused', () => {
    const pod = load('yardstick-nsb-pod.yaml');
    expect(roles('yardstick-nsb-pod.yaml')).to.deep.equal([
      'trafficgen_1:TrafficGen->tgen',
      'vnf:TrafficGen->tgen',
      'trafficgen_ixia:IxNet->other',
      'vnf0:VirtualNetworkFunction->guest',
      'vnf_0:vnf__0->guest',
    ]);
    const notes = pod.notes.join('\n');
    expect(notes).to.include("node vnf (nodes[1]): Yardstick keys host, interfaces, routing_table, nd_route_tbl are accepted but not used; interfaces: this suite's data ports are ports:");
    expect(notes).to.include('node vnf0 (nodes[3]): Yardstick keys port, username are accepted but not used; port: the SSH port is ssh_port');
    expect(notes).to.include('node vnf_0 (nodes[4]) has Yardstick NSB role vnf__0: read as guest');
    expect(pod.nodes.find((n) => n.name === 'vnf0')?.sshPort, "Yardstick's ssh layer reads ssh_port, not port").to.equal(22);
  });

  it('a pod with Opendaylight and Gateway roles: kept, unused, one note each', () => {
    const pod = load('yardstick-odl-pod.yaml');
    expect(roles('yardstick-odl-pod.yaml')).to.deep.equal(['node3:Controller->other', 'node4:Compute->host', 'node6:Opendaylight->other', 'node7:Gateway->other', 'node8:Opendaylight-Cluster-Leader->other']);
    expect(pod.notes.filter((n) => n.includes(': kept, but no test case uses it'))).to.have.length(4);
  });

  it('a pod with literal passwords and an inline key: all used or redacted, none in a note', () => {
    const pod = load('yardstick-passwords-pod.yaml');
    const node5 = pod.nodes.find((n) => n.name === 'node5');
    expect(node5?.privateKey).to.match(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(node5?.keyFilename).to.equal('/root/.ssh/id_rsa');
    const secrets = podSecrets(pod, NO_ENV);
    expect(secrets).to.include.members([`kfn-pw-controller '$x"y`, 'kfn-pw-compute4', 'kfn-pw-ipmi-4', 'kfn-pw-ipmi-5', 'kfn-pw-tas-super', 'kfn-pw-tas-cfg', 'kfn-pw-tas-test']);
    expect(secrets, 'the inline key whole, and each of its lines').to.include.members([node5?.privateKey?.trim(), 'a2ZuLXBrZXktZml4dHVyZS1ub3QtYS1yZWFsLWtleS1saW5lLW9uZQo=']);
    const notes = pod.notes.join('\n');
    expect(notes).to.include('node node5 (nodes[2]) has its private key inline (pkey): used to log in, never printed; key_filename /root/.ssh/id_rsa is not read');
    expect(notes).to.include('node tas (nodes[3]) has role tg__0: kept, but no test case uses it (NSB');
    expect(notes).to.include("node node4 (nodes[1]): key rack is neither this suite's nor Yardstick's: kept, not used");
    for (const secret of secrets) expect(notes).not.to.include(secret);
  });
});
