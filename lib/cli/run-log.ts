// The run log keeps every command and event of a run, timestamped, with the pod's
// secrets redacted before a line reaches the disk.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

interface RedactorLike {
  redact(text: string): string;
}

export interface RunLog {
  write(line: string): void;
  setRedactor(redactor: RedactorLike): void;
  close(): Promise<void>;
}

export async function openRunLog(path: string): Promise<RunLog> {
  const stream = createWriteStream(path, { flags: 'a' });
  await once(stream, 'open');
  let redactor: RedactorLike = { redact: (t) => t };
  let closed = false;
  return {
    write(line) {
      if (!closed) stream.write(`${new Date().toISOString()} ${redactor.redact(line)}\n`);
    },
    setRedactor(r) {
      redactor = r;
    },
    async close() {
      if (closed) return;
      closed = true;
      stream.end();
      await once(stream, 'close');
    },
  };
}
