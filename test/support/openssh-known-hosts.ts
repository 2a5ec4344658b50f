// known_hosts situations judged by the real OpenSSH client, shared by the unit test (which
// replays verdicts recorded with OpenSSH 9.2p1, test/unit/remote/fixtures/openssh-verdicts.json)
// and the integration test (which asks the installed ssh again, live, and can re-record).
// Every known_hosts text is built from what ssh-keyscan and ssh-keygen -H printed.

/** What the real tools printed, against one sshd that has a single ed25519 host key. */
export interface RecordedTools {
  /** `ssh -V`. */
  openssh: string;
  port: number;
  /** `ssh-keyscan -t ed25519 -p PORT 127.0.0.1` (stdout). */
  keyscan: string;
  /** `ssh-keyscan -H -t ed25519 -p PORT 127.0.0.1` (stdout). */
  keyscanHashed: string;
  /** `ssh-keygen -H -f F` of "127.0.0.1,localhost KEY" and "[localhost]:PORT KEY" (the file afterwards). */
  keygenHashed: string;
  /** Public halves (`type base64`) of two keys the server does not have. */
  otherEd25519: string;
  otherEcdsa: string;
}

export type Verdict = 'accepted' | 'unknown' | 'changed' | 'revoked';

export interface Situation {
  name: string;
  /** The name ssh is given (and the pod's ip). */
  host: '127.0.0.1' | 'localhost';
  /** UserKnownHostsFile and GlobalKnownHostsFile contents. */
  user: string;
  system: string;
}

// The situations, each built only from tool output and the keys above.
export function buildSituations(t: RecordedTools): Situation[] {
  const served = (t.keyscan.trim().split(' ').slice(1, 3)).join(' ');
  const p = t.port;
  const s = (name: string, user: string, system = '', host: Situation['host'] = '127.0.0.1'): Situation => ({ name, host, user, system });
  return [
    s('a line written by ssh-keyscan', t.keyscan),
    s('a line written by ssh-keyscan -H', t.keyscanHashed),
    s('hashed by ssh-keygen -H, for the bare host, on a port other than 22', t.keygenHashed),
    s('hashed by ssh-keygen -H, for [localhost]:port, looked up as localhost', t.keygenHashed, '', 'localhost'),
    s('the name in another case', `[LocalHost]:${p} ${served}\n`, '', 'localhost'),
    s('the bare host with another key', `127.0.0.1 ${t.otherEd25519}\n`),
    s('a stale bare-host line beside a ssh-keyscan line', `127.0.0.1 ${t.otherEd25519}\n${t.keyscan}`),
    s('another key of the same type', `[127.0.0.1]:${p} ${t.otherEd25519}\n`),
    s('only a key of another type', `[127.0.0.1]:${p} ${t.otherEcdsa}\n`),
    s('a wildcard', `[127.0.0.*]:${p} ${served}\n`),
    s('a wildcard with its own name negated', `[127.0.0.*]:*,![127.0.0.1]:${p} ${served}\n`),
    s('a negation on another line', `[127.0.0.*]:*,![127.0.0.1]:${p} ${t.otherEd25519}\n${t.keyscan}`),
    s('several names on one line', `node9,[127.0.0.1]:${p},10.0.0.9 ${served}\n`),
    s('@revoked beside a plain line', `${t.keyscan}@revoked * ${served}\n`),
    s('@cert-authority only', `@cert-authority * ${served}\n`),
    s('the user file changed, the system file lists the key', `[127.0.0.1]:${p} ${t.otherEd25519}\n`, t.keyscan),
    s('the user file lists the key, the system file revokes it', t.keyscan, `@revoked * ${served}\n`),
    s('no entry anywhere', ''),
  ];
}

// What ssh's output says, under StrictHostKeyChecking=yes with BatchMode (exit 0: it ran `true`).
export function readSshVerdict(exitCode: number, stderr: string): Verdict | undefined {
  if (exitCode === 0) return 'accepted';
  if (/REVOKED HOST KEY DETECTED/.test(stderr)) return 'revoked';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return 'changed';
  if (/No \S+ host key is known for/.test(stderr)) return 'unknown';
  return undefined;
}

// What this suite's HostKeyError message says, in the same terms.
export function readSuiteVerdict(error: Error | undefined): Verdict | undefined {
  if (!error) return 'accepted';
  if (/REVOKED host key/.test(error.message)) return 'revoked';
  if (/has CHANGED/.test(error.message)) return 'changed';
  if (/no host key is known/.test(error.message)) return 'unknown';
  return undefined;
}
