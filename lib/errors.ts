// Every failure the harness can explain has a class here, so that the CLI maps
// kinds to exit codes in one place (lib/results/exit-codes.ts) and prints a short
// message instead of a stack trace.

export type ErrorKind =
  | 'config' // bad input: pod.yaml, thresholds, catalogue, CLI options
  | 'remote' // SSH or a remote command failed
  | 'parse' // a tool printed something its parser cannot accept
  | 'provision' // a tool or agent could not be installed or built on a node
  | 'topology' // a forwarding topology could not be set up
  | 'guest' // a guest the harness launches could not be started or stopped
  | 'measurement' // a measurement ran but its result cannot be trusted
  | 'push' // a result push (TestAPI, InfluxDB) failed
  | 'lab'; // the lab pod could not be built or removed

export class KfnError extends Error {
  readonly kind: ErrorKind;
  /** One line, safe for JUnit and logs. `message` may be longer. */
  readonly shortMessage: string;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; shortMessage?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.shortMessage = options?.shortMessage ?? message.split('\n')[0] ?? message;
  }
}

/** Bad input. The message names the file, the field path and what was expected. */
export class ConfigError extends KfnError {
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map((i) => `${file}: ${i.path || '(top level)'}: ${i.message}`);
    super('config', lines.join('\n'), options);
    this.file = file;
    this.issues = issues;
  }
}

export interface ConfigIssue {
  /** Dotted path to the field, e.g. `nodes[1].ssh_port`; empty for the whole file. */
  path: string;
  /** What was expected, and what was found where that helps. */
  message: string;
}

export class ToolOutputParseError extends KfnError {
  readonly tool: string;
  readonly lineNumber: number | undefined;
  readonly line: string | undefined;

  constructor(tool: string, message: string, where?: { lineNumber?: number; line?: string; source?: string }) {
    const at = where?.lineNumber === undefined ? '' : ` at line ${where.lineNumber}`;
    const src = where?.source ? ` (${where.source})` : '';
    const shown = where?.line === undefined ? '' : `: ${JSON.stringify(where.line.slice(0, 200))}`;
    super('parse', `cannot parse ${tool} output${src}${at}: ${message}${shown}`);
    this.tool = tool;
    this.lineNumber = where?.lineNumber;
    this.line = where?.line;
  }
}

export class ProvisionError extends KfnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provision', message, options);
  }
}

export class TopologyError extends KfnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('topology', message, options);
  }
}

/** A launched guest did not boot, could not be pinned, or could not be stopped. */
export class GuestLaunchError extends KfnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('guest', message, options);
  }
}

export class MeasurementError extends KfnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('measurement', message, options);
  }
}

export class LabError extends KfnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('lab', message, options);
  }
}

export class PushError extends KfnError {
  /** 'rejected' is a 400, 'unauthorized' a missing or refused credential, 'forbidden' another 403, 'unreachable' no answer. */
  readonly reason: 'rejected' | 'unauthorized' | 'forbidden' | 'unreachable' | 'other';

  constructor(reason: PushError['reason'], message: string, options?: { cause?: unknown }) {
    super('push', message, options);
    this.reason = reason;
  }
}

export function isKfnError(error: unknown): error is KfnError {
  return error instanceof KfnError;
}

/** Errors whose message already explains itself; others are shown with their class name. */
const SELF_EXPLAINING = new Set(['ThresholdFailure', 'UnjudgeableFigure', 'DryRunStop', 'AssertionError']);

/** A description of any thrown value, for JUnit and the console. */
export function describeError(error: unknown): string {
  if (error instanceof KfnError) return error.message;
  if (error instanceof Error) return SELF_EXPLAINING.has(error.name) ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
