// The guest's serial console, read while it boots: how far it got, and what it said last,
// so that a guest that never comes up is reported by the stage it stalled in, never as a
// bare timeout. Markers are Linux's own (init/main.c "Linux version", "Run %s as init
// process", kernel/panic.c "Kernel panic - not syncing"), initramfs-tools' (scripts/local
// "Gave up waiting for root file system device", "ALERT!"), systemd's and the project
// image's own ready line. Pure.

/** Printed on the console by the project's guest image once sshd has started. */
export const READY_MARKER = 'kfn-guest-ready';

export type BootStage = 'nothing' | 'firmware' | 'kernel' | 'userspace' | 'ready';

export interface BootLogReading {
  stage: BootStage;
  /** `uname -r` of the booting kernel, from its "Linux version" line. */
  kernelRelease?: string;
  /** True when the kernel says PREEMPT_RT in its version line. */
  preemptRt?: boolean;
  /** A line that means the boot cannot succeed (a panic, no root file system). */
  fatal?: string;
  /** The last line with text, escape sequences removed, for messages. */
  lastLine: string;
}

const FATAL = [
  /Kernel panic - not syncing:.*/,
  /VFS: Unable to mount root fs.*/,
  /Gave up waiting for root file system device.*/,
  /ALERT!\s+.*does not exist\.\s+Dropping to a shell!/,
  /No working init found\..*/,
];

// Escape sequences (colours, cursor moves) that systemd writes to a serial console.
function stripTerminal(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

// Reads the whole log so far; a later stage wins over an earlier one.
export function readBootLog(text: string): BootLogReading {
  const lines = stripTerminal(text.replaceAll('\r', '')).split('\n');
  let stage: BootStage = text.trim() === '' ? 'nothing' : 'firmware';
  const reading: BootLogReading = { stage, lastLine: '' };
  for (const line of lines) {
    const version = /Linux version (\S+) .*$/.exec(line);
    if (version) {
      stage = stage === 'nothing' || stage === 'firmware' ? 'kernel' : stage;
      reading.kernelRelease = version[1] as string;
      reading.preemptRt = /\bPREEMPT_RT\b/.test(line);
    }
    if (/Run \S+ as init process|systemd\[1\]:/.test(line) && (stage === 'kernel' || stage === 'firmware')) stage = 'userspace';
    if (line.includes(READY_MARKER)) stage = 'ready';
    const fatal = FATAL.map((re) => re.exec(line)?.[0]).find((m) => m !== undefined);
    if (fatal && reading.fatal === undefined) reading.fatal = fatal.trim();
    if (line.trim() !== '') reading.lastLine = line.trim().slice(0, 200);
  }
  reading.stage = stage;
  return reading;
}

// One phrase for a message: "the kernel started (6.1.0-57-rt-amd64) but userspace did not", ...
export function describeBootStage(reading: BootLogReading): string {
  const last = reading.lastLine ? `; last console line: ${JSON.stringify(reading.lastLine)}` : '';
  if (reading.fatal) return `the guest failed to boot: ${JSON.stringify(reading.fatal)}${last}`;
  switch (reading.stage) {
    case 'nothing':
      return 'the guest printed nothing on its serial console';
    case 'firmware':
      return `the guest kernel never started${last}`;
    case 'kernel':
      return `the guest kernel ${reading.kernelRelease ?? ''} started but never ran init${last}`.replace('  ', ' ');
    case 'userspace':
      return `the guest reached userspace but never reported ready${last}`;
    case 'ready':
      return `the guest reported ready${last}`;
  }
}
