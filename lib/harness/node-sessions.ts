// Hands suites one session per node for the whole run, and records each node's system
// information (the build under test) the first time the node is reached.
import type { Pod, PodNode } from '../config/pod-model.ts';
import type { NodeSession } from '../remote/types.ts';
import type { NodeSystemInfo } from '../results/model.ts';
import { buildSysinfoScript } from '../tools/sysinfo/command.ts';
import { parseSysinfo } from '../tools/sysinfo/parse.ts';

/** What the harness needs of a session pool; lib/remote's SessionPool and the dry-run pool fit it. */
export interface SessionSource {
  get(node: PodNode): Promise<NodeSession>;
  /** Cleans up, closes and forgets one node's session; returns the cleanup error, if any. */
  retire(node: PodNode): Promise<string | undefined>;
  cleanupAll(): Promise<void>;
  closeAll(): Promise<void>;
}

export interface NodeSessions {
  session(node: PodNode): Promise<NodeSession>;
  readonly systemInfo: Record<string, NodeSystemInfo>;
  readonly tools: Record<string, Record<string, string>>;
  recordToolVersion(node: string, tool: string, version: string): void;
  recordSystemInfo(info: NodeSystemInfo): void;
  /** From now on, sessions to this node fail with this error (a launched guest that did not boot). */
  markUnavailable(node: PodNode, error: Error): void;
  /** Before a node goes away (a launched guest's VM stops): clean up and close its session, and open no new one. */
  retire(node: PodNode): Promise<string | undefined>;
  /** Stops every remote process of this run and removes its remote files, on every node reached. */
  cleanupAll(): Promise<void>;
  closeAll(): Promise<void>;
}

export function createNodeSessions(pod: Pod, source: SessionSource, log: (line: string) => void): NodeSessions {
  const systemInfo: Record<string, NodeSystemInfo> = {};
  const tools: Record<string, Record<string, string>> = {};
  const probed = new Map<string, Promise<void>>();
  const unavailable = new Map<string, Error>();

  const probe = async (node: PodNode, session: NodeSession) => {
    const result = await session.exec({ script: buildSysinfoScript() }, { reject: false, label: 'sysinfo', privileged: false });
    try {
      systemInfo[node.name] = parseSysinfo(result.stdout, node);
    } catch (error) {
      log(`sysinfo of ${node.name} could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  return {
    systemInfo,
    tools,
    async session(node) {
      if (!pod.nodes.includes(node)) throw new Error(`node ${node.name} is not in pod ${pod.name}`);
      const blocked = unavailable.get(node.name);
      if (blocked) throw blocked;
      const session = await source.get(node);
      if (!probed.has(node.name)) probed.set(node.name, probe(node, session));
      await probed.get(node.name);
      return session;
    },
    recordToolVersion(node, tool, version) {
      (tools[node] ??= {})[tool] = version;
    },
    recordSystemInfo(info) {
      systemInfo[info.node] = info;
    },
    markUnavailable(node, error) {
      unavailable.set(node.name, error);
    },
    retire(node) {
      unavailable.set(node.name, new Error(`node ${node.name} is gone: its session was retired`));
      return source.retire(node);
    },
    cleanupAll: () => source.cleanupAll(),
    closeAll: () => source.closeAll(),
  };
}
