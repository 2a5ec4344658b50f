// Records the kernel's process events on this machine (where the lab's nodes live) into a
// tracefs instance of our own, streamed out of trace_pipe so nothing is lost to a full
// buffer. Needs root. See lib/tools/ftrace/process-trace.ts for the format.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildTraceStartScript, buildTraceStopScript, parseProcessTrace, type ProcessEvent } from '../../lib/tools/ftrace/process-trace.ts';

export interface ProcessTrace {
  /** Stops recording, removes the instance (and the tracefs mount it made) and returns the events. */
  stop(): Promise<ProcessEvent[]>;
}

export async function startProcessTrace(): Promise<ProcessTrace> {
  let tracefs = '/sys/kernel/tracing';
  let mounted = false;
  if (!existsSync(join(tracefs, 'instances'))) {
    tracefs = mkdtempSync(join(tmpdir(), 'kfn-tracefs-'));
    await execa('mount', ['-t', 'tracefs', 'nodev', tracefs]);
    mounted = true;
  }
  const instance = `kfn-trace-${process.pid}-${Date.now()}`;
  await execa('sh', ['-c', buildTraceStartScript({ tracefs, instance })]);
  const reader = spawn('cat', [join(tracefs, 'instances', instance, 'trace_pipe')], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (b: Buffer) => chunks.push(b));
  let stopped: Promise<ProcessEvent[]> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        await execa('sh', ['-c', `echo 0 > ${join(tracefs, 'instances', instance, 'tracing_on')}`]);
        // Let the reader drain what was recorded before the switch.
        await new Promise((resolve) => setTimeout(resolve, 500));
        reader.kill();
        await execa('sh', ['-c', buildTraceStopScript({ tracefs, instance })]);
        if (mounted) {
          await execa('umount', [tracefs]);
          rmdirSync(tracefs);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        // The last line may be cut where the reader was stopped.
        return parseProcessTrace(text.slice(0, text.lastIndexOf('\n') + 1), 'process trace');
      })()),
  };
}
