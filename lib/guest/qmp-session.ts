// QMP on a host node: the kfn-qmp agent, built there once, run through the host's session.
import type { Pod } from '../config/pod-model.ts';
import { ensureAgent, resolveAgentCacheDirs } from '../provision/build-agent.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildQmpArgv, parseQmpTranscript, type QmpCommand, type QmpTranscript } from '../tools/qemu/qmp.ts';
import { GuestLaunchError } from '../errors.ts';

export interface QmpClient {
  /** Sends the commands in order; rejects when QEMU does not answer or kfn-qmp fails. */
  run(commands: readonly QmpCommand[], options?: { timeoutMs?: number; allowClose?: boolean }): Promise<QmpTranscript>;
}

export async function createQmpClient(session: NodeSession, input: { pod: Pod; socketPath: string; dryRun: boolean; guest: string }): Promise<QmpClient> {
  const agent = await ensureAgent(session, 'kfn-qmp', { dryRun: input.dryRun, cacheDirs: resolveAgentCacheDirs(input.pod, session.node) });
  return {
    async run(commands, options = {}) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      const argv = buildQmpArgv(agent.binaryPath, input.socketPath, timeoutMs, commands);
      const r = await session.exec(argv, { reject: false, timeoutMs: timeoutMs + 10_000, label: `qmp ${commands.map((c) => c.execute).join(',')}` });
      // Exit 5: QEMU closed the socket, which is what `quit` does once it has answered.
      if (r.failed && !(options.allowClose && r.exitCode === 5)) {
        throw new GuestLaunchError(`QMP ${commands.map((c) => c.execute).join(', ')} to the QEMU of guest ${input.guest} on ${session.node.name} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
      }
      return parseQmpTranscript(r.stdout);
    },
  };
}
