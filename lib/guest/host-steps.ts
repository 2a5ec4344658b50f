// The launcher's steps on the host node: waiting for the boot, reading the console.
import { GuestLaunchError } from '../errors.ts';
import { quoteArg } from '../remote/quote.ts';
import type { NodeSession } from '../remote/types.ts';
import { buildBootWaitScript, parseBootWait, type BootWaitOutcome, type BootWaitStage } from '../tools/qemu/boot-wait.ts';

export async function waitForBoot(host: NodeSession, input: { stage: BootWaitStage; consolePath: string; pid: number; forwardPort: number; timeoutS: number }): Promise<BootWaitOutcome> {
  const r = await host.exec({ script: buildBootWaitScript(input) }, { reject: false, timeoutMs: (input.timeoutS + 30) * 1000, label: `wait for guest ${input.stage}` });
  if (r.failed) throw new GuestLaunchError(`waiting for the guest on ${host.node.name} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  return parseBootWait(r.stdout);
}

/** The last 64 KiB of the serial console: enough for the kernel line and the last words. */
export async function readConsoleTail(host: NodeSession, consolePath: string): Promise<string> {
  const head = await host.exec({ script: `grep -m1 'Linux version' ${quoteArg(consolePath)} 2>/dev/null; echo; tail -c 65536 ${quoteArg(consolePath)} 2>/dev/null` }, { reject: false, label: 'guest console' });
  return head.stdout;
}
