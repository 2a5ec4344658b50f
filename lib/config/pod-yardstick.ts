// What Yardstick's own pod files carry that this suite does not read: a closed list of node
// keys and roles, each with the file it comes from. Read from opnfv/yardstick at commit
// 63d0e99fa2e4 ("add yardstick iruya 9.0.0 release notes", 2020-01-07): etc/yardstick/nodes/**,
// yardstick/benchmark/contexts/{base,node}.py and yardstick/ssh.py. Paths below are relative
// to that repository. The keys Yardstick and this suite share (name, role, ip, user, ssh_port,
// key_filename, password, pkey) are in pod-schema.ts's nodeFields instead.
import type { NodeRole } from './pod-model.ts';

export interface YardstickNodeKey {
  key: string;
  /** Where Yardstick writes or reads it. */
  source: string;
  /** Its value is a password: never printed, and redacted from every log. */
  secret?: boolean;
  /** Said in the note when a pod file carries the key. */
  hint?: string;
}

/** Node keys of Yardstick's pod files that this suite accepts and does not use. */
export const YARDSTICK_NODE_KEYS: readonly YardstickNodeKey[] = [
  { key: 'ipmi_ip', source: 'etc/yardstick/nodes/pod.yaml.ipmi.sample' },
  { key: 'ipmi_user', source: 'etc/yardstick/nodes/pod.yaml.ipmi.sample' },
  { key: 'ipmi_password', source: 'etc/yardstick/nodes/pod.yaml.ipmi.sample; read by benchmark/scenarios/availability/attacker/attacker_baremetal.py', secret: true },
  { key: 'ipmi_pwd', source: 'etc/yardstick/nodes/compass_sclab_physical/pod.yaml', secret: true },
  { key: 'host_name', source: 'etc/yardstick/nodes/compass_sclab_virtual/pod.yaml; read by benchmark/scenarios/lib/get_numa_info.py' },
  { key: 'collectd', source: 'etc/yardstick/nodes/pod.yaml.collectd.sample; benchmark/contexts/node.py update_collectd_options_for_node' },
  { key: 'interfaces', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample; benchmark/contexts/node.py _get_server', hint: "this suite's data ports are ports:" },
  { key: 'routing_table', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample' },
  { key: 'nd_route_tbl', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample' },
  { key: 'host', source: "etc/yardstick/nodes/pod.yaml.nsb.sample (the VNF's own ip on bare metal, its compute node's otherwise); read on a guest as its host_node when it is one host node's address" },
  { key: 'tg_config', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample.ixia' },
  { key: 'port', source: 'etc/yardstick/nodes/pod.yaml.vpp.sample', hint: 'the SSH port is ssh_port, as in yardstick/ssh.py' },
  { key: 'username', source: 'etc/yardstick/nodes/pod.yaml.vpp.sample', hint: 'the SSH user is user, as in yardstick/ssh.py' },
  { key: 'tas_manager', source: 'etc/yardstick/nodes/standalone/pod_landslide.yaml' },
  { key: 'config', source: 'etc/yardstick/nodes/standalone/pod_landslide.yaml' },
];

/** Top-level keys of Yardstick's pod files besides nodes. */
export const YARDSTICK_TOP_KEYS: readonly YardstickNodeKey[] = [{ key: 'networks', source: 'benchmark/contexts/node.py init (optional static networks)' }];

export interface YardstickRole {
  /** The role as Yardstick spells it; `N` stands for the index of NSB's numbered roles. */
  name: string;
  pattern: RegExp;
  role: NodeRole;
  source: string;
  hint?: string;
}

const exact = (name: string) => new RegExp(`^${name.replace(/[-]/g, '\\-')}$`, 'i');

/** Node roles of Yardstick's pod files, and what each is in this suite. */
export const YARDSTICK_ROLES: readonly YardstickRole[] = [
  { name: 'Compute', pattern: exact('Compute'), role: 'host', source: 'benchmark/contexts/base.py read_pod_file; etc/yardstick/nodes/pod.yaml.sample' },
  { name: 'Controller', pattern: exact('Controller'), role: 'other', source: 'benchmark/contexts/base.py read_pod_file; etc/yardstick/nodes/pod.yaml.sample' },
  { name: 'Baremetal', pattern: exact('Baremetal'), role: 'other', source: 'benchmark/contexts/base.py read_pod_file; etc/yardstick/nodes/compass_sclab_physical/pod.yaml' },
  { name: 'Jumpserver', pattern: exact('Jumpserver'), role: 'other', source: 'etc/yardstick/nodes/pod.yaml.ipmi.sample' },
  { name: 'Opendaylight', pattern: exact('Opendaylight'), role: 'other', source: 'etc/yardstick/nodes/fuel_baremetal/pod.yaml' },
  { name: 'Opendaylight-Cluster-Leader', pattern: exact('Opendaylight-Cluster-Leader'), role: 'other', source: 'etc/yardstick/nodes/apex_baremetal/pod.yaml' },
  { name: 'Gateway', pattern: exact('Gateway'), role: 'other', source: 'etc/yardstick/nodes/fuel_baremetal/pod.yaml' },
  { name: 'TrafficGen', pattern: exact('TrafficGen'), role: 'tgen', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample' },
  { name: 'IxNet', pattern: exact('IxNet'), role: 'other', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample.ixia', hint: 'an IXIA chassis, which this suite does not drive' },
  { name: 'VirtualNetworkFunction', pattern: exact('VirtualNetworkFunction'), role: 'guest', source: 'etc/yardstick/nodes/pod.yaml.nsb.sample.ixia' },
  { name: 'OvsDpdk', pattern: exact('OvsDpdk'), role: 'other', source: 'etc/yardstick/nodes/standalone/host_ovs.yaml' },
  { name: 'Sriov', pattern: exact('Sriov'), role: 'other', source: 'etc/yardstick/nodes/standalone/host_sriov.yaml' },
  {
    name: 'vnf__N',
    pattern: /^vnf__\d+$/i,
    role: 'guest',
    source: 'etc/yardstick/nodes/standalone/pod_bm_vnf.yaml; pod_vepc_sut.yaml',
  },
  {
    name: 'tg__N',
    pattern: /^tg__\d+$/i,
    role: 'other',
    source: 'etc/yardstick/nodes/standalone/trex_bm.yaml.sample; pod_landslide.yaml',
    hint: "NSB's traffic generator slot (TRex, IXIA or Landslide); to use a Linux generator as this suite's tgen, give it role TrafficGen and ports:",
  },
];

// The Yardstick role a declared role is, if any.
export function findYardstickRole(declared: string): YardstickRole | undefined {
  const trimmed = declared.trim();
  return YARDSTICK_ROLES.find((r) => r.pattern.test(trimmed));
}

// The Yardstick node key of that name, if it is one.
export function findYardstickKey(key: string, list: readonly YardstickNodeKey[] = YARDSTICK_NODE_KEYS): YardstickNodeKey | undefined {
  return list.find((k) => k.key === key);
}
