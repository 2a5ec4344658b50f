// Where a run's node sessions come from: real SSH, or a dry run that connects to
// nothing and reads no key, printing each node's commands instead.
import type { Pod } from '../config/pod-model.ts';
import { podSecrets } from '../config/pod-model.ts';
import { DryRunSession } from '../remote/dry-run.ts';
import type { HostKeyPolicy } from '../remote/host-key.ts';
import { SessionPool } from '../remote/session-pool.ts';
import { connectNode } from '../remote/ssh-session.ts';
import type { SessionSource } from '../harness/node-sessions.ts';

export interface SessionSourceOptions {
  pod: Pod;
  dryRun: boolean;
  runId: string;
  log: (line: string) => void;
  hostKeyPolicy: HostKeyPolicy;
  knownHosts?: string | undefined;
  /** Where dry-run commands are printed. */
  print?: (line: string) => void;
}

export function createSessionSource(options: SessionSourceOptions): SessionSource {
  const secrets = podSecrets(options.pod);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const pool = new SessionPool({
    log: options.log,
    open: async (node) => {
      if (options.dryRun) {
        return new DryRunSession(node, {
          runId: options.runId,
          secrets,
          // Probes for a tool answer as if it were installed, so the dry run prints the
          // measurement commands a real run would reach, not the install path.
          respond: (command) => {
            const probe = /command -v ([\w.-]+)'?$/.exec(command);
            return probe ? { stdout: `/usr/bin/${probe[1]}\n`, exitCode: 0 } : undefined;
          },
          log: (line) => {
            options.log(line);
            print(line);
          },
        });
      }
      return connectNode(node, {
        runId: options.runId,
        secrets,
        log: options.log,
        hostKeyPolicy: options.hostKeyPolicy,
        ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
      });
    },
  });
  return {
    get: (node) => pool.get(node),
    retire: (node) => pool.retire(node.name),
    cleanupAll: async () => {
      await pool.cleanupAll();
    },
    closeAll: async () => {
      await pool.closeAll();
    },
  };
}
