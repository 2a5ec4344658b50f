// How forwarding topologies find their ports in pod.yaml: by the `peer: node:port` cabling,
// read from either end, so a topology never guesses which generator port faces which device port.
import type { DataPort, Pod, PodNode } from '../config/pod-model.ts';
import { TopologyError } from '../errors.ts';
import type { TrialPorts } from '../traffic/generator.ts';

export interface CabledPort {
  /** The port on the node asked about. */
  local: DataPort;
  remote: DataPort;
  remoteNode: PodNode;
}

// The port at the other end of a cable, looked up from either side's `peer`.
export function findPeer(pod: Pod, node: PodNode, port: DataPort): CabledPort | undefined {
  if (port.peer) {
    const [nodeName, portName] = port.peer.split(':');
    const remoteNode = pod.nodes.find((n) => n.name === nodeName);
    const remote = remoteNode?.ports.find((p) => p.name === portName);
    if (remoteNode && remote) return { local: port, remote, remoteNode };
  }
  for (const remoteNode of pod.nodes) {
    const remote = remoteNode.ports.find((p) => p.peer === `${node.name}:${port.name}`);
    if (remote) return { local: port, remote, remoteNode };
  }
  return undefined;
}

// The ports of `from` cabled to `to`, in `from`'s pod.yaml order.
export function findCabledPorts(pod: Pod, from: PodNode, to: PodNode): CabledPort[] {
  return from.ports.map((p) => findPeer(pod, from, p)).filter((c): c is CabledPort => c !== undefined && c.remoteNode.name === to.name);
}

// Two ports of one node cabled to each other (the lab's c0/c1): the generator's loopback.
export function findLoopbackPorts(pod: Pod, node: PodNode): TrialPorts | undefined {
  for (const port of node.ports) {
    const peer = findPeer(pod, node, port);
    if (peer && peer.remoteNode.name === node.name && peer.remote.name !== port.name) return { tx: port.name, rx: peer.remote.name };
  }
  return undefined;
}

// The two device ports of a topology and the generator ports facing them: given, or the first
// two cabled pairs. The generator's tx port faces the device's first port.
export function resolveDevicePorts(a: { pod: Pod; device: PodNode; tgen: PodNode; devicePorts?: readonly string[] }): { device: [DataPort, DataPort]; tgen: TrialPorts } {
  const cabled = findCabledPorts(a.pod, a.device, a.tgen);
  let chosen: CabledPort[];
  if (a.devicePorts) {
    chosen = a.devicePorts.map((name) => {
      const c = cabled.find((x) => x.local.name === name);
      if (!c) {
        const known = cabled.map((x) => x.local.name).join(', ') || 'none';
        throw new TopologyError(`port ${name} of ${a.device.name} is not cabled to ${a.tgen.name} in pod.yaml (ports with a peer on ${a.tgen.name}: ${known})`);
      }
      return c;
    });
  } else chosen = cabled.slice(0, 2);
  if (chosen.length !== 2 || chosen[0]!.local.name === chosen[1]!.local.name) {
    throw new TopologyError(
      `${a.device.name} needs two data ports cabled to ${a.tgen.name} (pod.yaml ports[].peer), found ${cabled.map((c) => `${c.local.name}<->${c.remote.name}`).join(', ') || 'none'}`,
    );
  }
  return { device: [chosen[0]!.local, chosen[1]!.local], tgen: { tx: chosen[0]!.remote.name, rx: chosen[1]!.remote.name } };
}
