// Which host each guest runs on (host_node, NSB's host: address, the pod's only host), the
// bad inputs around it, and the compute groups the harness measures side by side.
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { buildPod, loadPod } from '../../../lib/config/pod.ts';
import { computeGroups, groupOf } from '../../../lib/config/pod-groups.ts';
import { expectConfigError } from './expect-config-error.ts';

const FILE = '/pods/groups.yaml';
const cpus = { rt_cpus: '1', housekeeping_cpus: '0' };
const host = (name: string, ip: string) => ({ name, role: 'Compute', ip, ...cpus });
const guest = (name: string, ip: string, more: Record<string, unknown> = {}) => ({ name, role: 'vnf', ip, ...cpus, ...more });
const tgen = { name: 'tg', role: 'TrafficGen', ip: '192.0.2.99' };
const load = (nodes: unknown[]) => buildPod({ pod_name: 'p', nodes }, { file: FILE, env: {} });
const relations = (nodes: unknown[]) => load(nodes).nodes.filter((n) => n.role === 'guest').map((n) => `${n.name}@${n.hostNode ?? '-'}`);
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/config/pod/${name}`, import.meta.url));

describe('config/pod: the host each guest runs on', () => {
  it('needs no key in a pod with one host: its guests run there', () => {
    const pod = load([host('c0', '192.0.2.10'), guest('g0', '192.0.2.20'), tgen]);
    expect(relations([host('c0', '192.0.2.10'), guest('g0', '192.0.2.20'), tgen])).to.deep.equal(['g0@c0']);
    expect(pod.notes).to.include("guest g0 runs on host c0: from the pod's only host (pod.yaml gives no host_node)");
  });

  it('takes host_node as given, over several hosts', () => {
    expect(relations([host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g1', '192.0.2.21', { host_node: 'c1' }), guest('g0', '192.0.2.20', { host_node: 'c0' })])).to.deep.equal(['g1@c1', 'g0@c0']);
  });

  it("reads Yardstick NSB's host: as the guest's host when it is exactly one host's address; its own ip means bare metal", () => {
    const pod = loadPod(fixture('yardstick-nsb-two-computes.yaml'), { env: {} });
    expect(pod.nodes.filter((n) => n.role === 'guest').map((n) => `${n.name}@${n.hostNode ?? '-'}`)).to.deep.equal(['vnf_a@compute_2', 'vnf_b@compute_1', 'vnf_bm@-']);
    const notes = pod.notes.join('\n');
    expect(notes).to.include('guest vnf_a runs on host compute_2: from Yardstick NSB host: 203.0.113.32, the address of host compute_2');
    // host: was used on vnf_a, so it is not listed as unused there; on the bare-metal VNF it is.
    expect(notes).not.to.match(/node vnf_a \(nodes\[3\]\): Yardstick key host is accepted but not used/);
    expect(notes).to.include('node vnf_bm (nodes[5]): Yardstick key host is accepted but not used');
  });

  it("lets host: agree with host_node, and falls back to the only host when host: names none", () => {
    expect(relations([host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g', '192.0.2.20', { host: '192.0.2.11', host_node: 'c1' })])).to.deep.equal(['g@c1']);
    expect(relations([host('c0', '192.0.2.10'), guest('g', '192.0.2.20', { host: '198.51.100.7' })])).to.deep.equal(['g@c0']);
  });

  const bad: Array<{ what: string; nodes: unknown[]; path: string; includes: string[] }> = [
    {
      what: 'a guest with no host among several',
      nodes: [host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g', '192.0.2.20')],
      path: 'nodes[2].host_node',
      includes: ['missing; the pod has 2 host nodes (c0, c1)', 'never measured at once'],
    },
    {
      what: 'an NSB host: that is no host node address, among several',
      nodes: [host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g', '192.0.2.20', { host: '192.0.2.77' })],
      path: 'nodes[2].host_node',
      includes: ['host: 192.0.2.77 is the address of no host node'],
    },
    {
      what: 'an NSB host: shared by two hosts',
      nodes: [host('c0', '192.0.2.10'), host('c1', '192.0.2.10'), guest('g', '192.0.2.20', { host: '192.0.2.10' })],
      path: 'nodes[2].host_node',
      includes: ['is the address of 2 host nodes'],
    },
    {
      what: 'host_node contradicting host:',
      nodes: [host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g', '192.0.2.20', { host: '192.0.2.11', host_node: 'c0' })],
      path: 'nodes[2].host_node',
      includes: ['expected the host that host: 192.0.2.11 names (node c1), got "c0"'],
    },
    {
      what: 'an unknown host',
      nodes: [host('c0', '192.0.2.10'), guest('g', '192.0.2.20', { host_node: 'c9' })],
      path: 'nodes[1].host_node',
      includes: ['expected the name of a host node of this pod, got "c9"'],
    },
    {
      what: 'a guest on a node that is not a host',
      nodes: [host('c0', '192.0.2.10'), tgen, guest('g', '192.0.2.20', { host_node: 'tg' })],
      path: 'nodes[2].host_node',
      includes: ['expected a node with role host (Compute), got "tg" with role TrafficGen'],
    },
    {
      what: 'host_node on a host',
      nodes: [host('c0', '192.0.2.10'), { ...host('c1', '192.0.2.11'), host_node: 'c0' }],
      path: 'nodes[1].host_node',
      includes: ['expected host_node only on a guest node'],
    },
  ];
  for (const row of bad) {
    it(`refuses ${row.what} (${row.path})`, () => {
      expectConfigError(() => load(row.nodes), { file: FILE, issue: { path: row.path, includes: row.includes } });
    });
  }
});

describe('config/pod-groups: compute groups', () => {
  it('groups each host with its guests, host first, and leaves generators shared', () => {
    const pod = load([tgen, host('c0', '192.0.2.10'), host('c1', '192.0.2.11'), guest('g1', '192.0.2.21', { host_node: 'c1' }), guest('g0', '192.0.2.20', { host_node: 'c0' }), guest('g1b', '192.0.2.22', { host_node: 'c1' })]);
    const { groups, shared } = computeGroups(pod);
    expect(groups.map((g) => [g.name, g.nodes.map((n) => n.name)])).to.deep.equal([
      ['c0', ['c0', 'g0']],
      ['c1', ['c1', 'g1', 'g1b']],
    ]);
    expect(shared.map((n) => n.name)).to.deep.equal(['tg']);
    expect(groupOf(groups, 'g1b')?.name).to.equal('c1');
    expect(groupOf(groups, 'tg')).to.equal(undefined);
  });

  it('puts guests that name no host in one group of their own: nothing says they are apart', () => {
    const pod = loadPod(fixture('yardstick-nsb-two-computes.yaml'), { env: {} });
    expect(computeGroups(pod).groups.map((g) => [g.name, g.host?.name ?? null, g.nodes.map((n) => n.name)])).to.deep.equal([
      ['compute_1', 'compute_1', ['compute_1', 'vnf_b']],
      ['compute_2', 'compute_2', ['compute_2', 'vnf_a']],
      ['vnf_bm', null, ['vnf_bm']],
    ]);
    const hostless = load([guest('a', '192.0.2.20'), guest('b', '192.0.2.21'), tgen]);
    expect(computeGroups(hostless).groups.map((g) => g.nodes.map((n) => n.name))).to.deep.equal([['a', 'b']]);
  });
});
