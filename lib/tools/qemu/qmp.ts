// QMP, QEMU's JSON control protocol, as the kfn-qmp agent relays it: the greeting, the reply
// to qmp_capabilities, then one reply per command, with events (objects with an "event" key)
// anywhere in between (QEMU docs/interop/qmp-spec.txt; reply shapes from qapi/machine.json
// and qapi/control.json, QEMU 7.2 and current). Pure: argv in, typed values out.
import { ToolOutputParseError } from '../../errors.ts';

export interface QmpCommand {
  execute: string;
  arguments?: Record<string, unknown>;
}

export type QmpReply = { ok: true; value: unknown } | { ok: false; errorClass: string; desc: string };

export interface QmpEvent {
  event: string;
  data: unknown;
}

export interface QmpTranscript {
  version: { major: number; minor: number; micro: number; package: string };
  /** One per command sent, in order; fewer when QEMU stopped answering. */
  replies: QmpReply[];
  events: QmpEvent[];
}

export interface VcpuThread {
  cpuIndex: number;
  threadId: number;
  qomPath: string;
}

const TOOL = 'QMP (kfn-qmp)';

// The agent's argv: socket, one overall timeout, then each command as one JSON word.
export function buildQmpArgv(agentPath: string, socketPath: string, timeoutMs: number, commands: readonly QmpCommand[]): string[] {
  return [agentPath, socketPath, String(Math.max(1, Math.round(timeoutMs))), ...commands.map((c) => JSON.stringify(c))];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string, lineNumber?: number, line?: string): never {
  throw new ToolOutputParseError(TOOL, message, lineNumber === undefined ? undefined : { lineNumber, ...(line === undefined ? {} : { line }) });
}

function whole(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${what}: expected a whole number, found ${JSON.stringify(value)}`);
  return value;
}

// Reads the agent's stdout; the first reply (to qmp_capabilities) must be a success.
export function parseQmpTranscript(stdout: string): QmpTranscript {
  const lines = stdout.split('\n').map((l) => l.replace(/\r$/, ''));
  const replies: QmpReply[] = [];
  const events: QmpEvent[] = [];
  let version: QmpTranscript['version'] | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      fail('expected one JSON object per line', i + 1, line);
    }
    if (!isObject(obj)) fail('expected a JSON object', i + 1, line);
    if (version === undefined) {
      const qmp = obj.QMP;
      const v = isObject(qmp) && isObject(qmp.version) ? qmp.version : undefined;
      const q = v && isObject(v.qemu) ? v.qemu : undefined;
      if (!q) fail('expected the greeting {"QMP": {"version": {"qemu": {...}}}} first', i + 1, line);
      version = { major: whole(q.major, 'greeting major'), minor: whole(q.minor, 'greeting minor'), micro: whole(q.micro, 'greeting micro'), package: typeof v?.package === 'string' ? v.package : '' };
      return;
    }
    if (typeof obj.event === 'string') {
      events.push({ event: obj.event, data: obj.data });
    } else if ('return' in obj) {
      replies.push({ ok: true, value: obj.return });
    } else if (isObject(obj.error)) {
      replies.push({ ok: false, errorClass: String(obj.error.class ?? ''), desc: String(obj.error.desc ?? '') });
    } else {
      fail('expected "return", "error" or "event"', i + 1, line);
    }
  });
  if (version === undefined) fail('no QMP greeting: QEMU did not answer on its QMP socket');
  const capabilities = replies.shift();
  if (!capabilities) fail('no reply to qmp_capabilities');
  if (!capabilities.ok) fail(`qmp_capabilities was refused: ${capabilities.errorClass}: ${capabilities.desc}`);
  return { version, replies, events };
}

// The reply's value, or an error saying which command QEMU refused and why.
export function replyValue(transcript: QmpTranscript, index: number, command: string): unknown {
  const reply = transcript.replies[index];
  if (!reply) fail(`no reply to ${command}`);
  if (!reply.ok) fail(`${command} failed: ${reply.errorClass}: ${reply.desc}`);
  return reply.value;
}

// query-cpus-fast (CpuInfoFast, since 2.12): the host thread of every vCPU, by cpu-index.
export function parseCpusFast(value: unknown): VcpuThread[] {
  if (!Array.isArray(value) || value.length === 0) fail(`query-cpus-fast: expected a non-empty list, found ${JSON.stringify(value)?.slice(0, 80)}`);
  const threads = value.map((cpu, i): VcpuThread => {
    if (!isObject(cpu)) fail(`query-cpus-fast[${i}]: expected an object`);
    return { cpuIndex: whole(cpu['cpu-index'], `query-cpus-fast[${i}].cpu-index`), threadId: whole(cpu['thread-id'], `query-cpus-fast[${i}].thread-id`), qomPath: String(cpu['qom-path'] ?? '') };
  });
  const indexes = threads.map((t) => t.cpuIndex);
  if (new Set(indexes).size !== indexes.length) fail(`query-cpus-fast: cpu-index repeats: ${indexes.join(', ')}`);
  return threads.sort((a, b) => a.cpuIndex - b.cpuIndex);
}

// query-kvm (KvmInfo): whether this QEMU really runs the guest under KVM.
export function parseQueryKvm(value: unknown): { enabled: boolean; present: boolean } {
  if (!isObject(value) || typeof value.enabled !== 'boolean' || typeof value.present !== 'boolean') fail(`query-kvm: expected {enabled, present} booleans, found ${JSON.stringify(value)}`);
  return { enabled: value.enabled, present: value.present };
}

// query-status (StatusInfo): `running` and the run state, e.g. "running", "prelaunch", "shutdown".
export function parseQueryStatus(value: unknown): { running: boolean; status: string } {
  if (!isObject(value) || typeof value.running !== 'boolean' || typeof value.status !== 'string') fail(`query-status: expected {running, status}, found ${JSON.stringify(value)}`);
  return { running: value.running, status: value.status };
}

export function formatQemuVersion(v: QmpTranscript['version']): string {
  return `${v.major}.${v.minor}.${v.micro}${v.package ? ` (${v.package})` : ''}`;
}

// qom-list (ObjectPropertyInfo list): the child names under a QOM path, e.g. the -device ids under /machine/peripheral.
export function parseQomList(value: unknown): string[] {
  if (!Array.isArray(value)) fail(`qom-list: expected a list, found ${JSON.stringify(value)?.slice(0, 80)}`);
  return value.map((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string') fail(`qom-list[${i}]: expected {name, type}, found ${JSON.stringify(p)?.slice(0, 80)}`);
    return p.name;
  });
}
