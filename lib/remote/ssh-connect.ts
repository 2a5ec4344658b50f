// Opening an authenticated ssh2 connection to a node, through its jump host when it has one,
// with host-key checking on. Key files and referenced secrets are read here, at connect time.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import ssh2, { type Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import type { Readable } from 'node:stream';
import type { HostKeyPin, PodNode, SecretRef } from '../config/pod-model.ts';
import { HostKeyError, SshConnectError } from './errors.ts';
import { decideHostKey, type HostKeyPolicy, type KnownHostsText } from './host-key.ts';
import { listKnownHostsFiles, listKnownKeyTypes, orderHostKeyAlgorithms, parseKnownHosts, readKeyType, type KnownHostsFiles } from './known-hosts.ts';

/** The SSH endpoint of a node or of its jump host. */
export interface SshTarget {
  /** For messages: `node guest` or `jump host 10.0.0.1 of node guest`. */
  subject: string;
  node: string;
  host: string;
  port: number;
  user: string;
  keyFilename?: string;
  /** Inline private key (Yardstick's pkey): used instead of keyFilename. */
  privateKey?: string;
  password?: string;
  passwordRef?: SecretRef;
  keyPassphraseRef?: SecretRef;
  hostKey?: HostKeyPin;
}

export interface ConnectSettings {
  hostKeyPolicy: HostKeyPolicy;
  /** --known-hosts: read in place of ~/.ssh/known_hosts{,2}, and where accept-new records keys. */
  knownHostsFile: string | undefined;
  /** OpenSSH's files for targets that pin nothing; by default listKnownHostsFiles of the user's home. */
  knownHostsFiles?: KnownHostsFiles;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export interface Connection {
  client: Client;
  jump: Client | undefined;
  /** Host keys accepted, to pin them for reconnects within this session. */
  hostKeys: { target: Buffer; jump: Buffer | undefined };
  end(): void;
}

export interface AuthSettings {
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  agent?: string;
}

// The targets of one node: the node itself and, when it has one, its jump host.
export function buildTargets(node: PodNode): { target: SshTarget; jump: SshTarget | undefined } {
  const target: SshTarget = { ...node, subject: `node ${node.name}`, node: node.name, host: node.ip, port: node.sshPort };
  const j = node.jumpHost;
  const jump = j ? { ...j, subject: `jump host ${j.ip} of node ${node.name}`, node: node.name, host: j.ip, port: j.sshPort } : undefined;
  return { target, jump };
}

// Credentials for one target: the key file is read now and a missing secret is named.
export async function resolveAuth(target: SshTarget, env: NodeJS.ProcessEnv): Promise<AuthSettings> {
  const auth: AuthSettings = {};
  const secret = (ref: SecretRef, what: string): string => {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new SshConnectError(target.node, `${what} of ${target.subject} is read from environment variable ${ref.env}, which is not set`);
    }
    return value;
  };
  if (target.privateKey !== undefined || target.keyFilename) {
    const what = target.privateKey !== undefined ? 'the inline key (pkey)' : `key file ${target.keyFilename}`;
    if (target.privateKey !== undefined) auth.privateKey = Buffer.from(target.privateKey);
    else {
      try {
        auth.privateKey = await readFile(target.keyFilename as string);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new SshConnectError(target.node, `cannot read key file ${target.keyFilename} of ${target.subject} (${code})`, { cause: e });
      }
    }
    if (target.keyPassphraseRef) auth.passphrase = secret(target.keyPassphraseRef, 'key passphrase');
    const parsed = ssh2.utils.parseKey(auth.privateKey, auth.passphrase);
    if (parsed instanceof Error) {
      const hint = /encrypted/i.test(parsed.message) && !auth.passphrase ? ': the key is encrypted, set keyPassphraseRef' : `: ${parsed.message}`;
      throw new SshConnectError(target.node, `cannot use ${what} of ${target.subject}${hint}`);
    }
  }
  if (target.password) auth.password = target.password;
  else if (target.passwordRef) auth.password = secret(target.passwordRef, 'password');
  if (!auth.privateKey && auth.password === undefined) {
    if (!env.SSH_AUTH_SOCK) {
      throw new SshConnectError(target.node, `${target.subject} has no key_filename, no password and no ssh-agent (SSH_AUTH_SOCK) to log in with`);
    }
    auth.agent = env.SSH_AUTH_SOCK;
  }
  return auth;
}

// Connect the node (and its jump host first), verified and authenticated, or throw.
export async function openConnection(
  node: PodNode,
  settings: ConnectSettings,
  remembered: { target: Buffer | undefined; jump: Buffer | undefined },
): Promise<Connection> {
  const { target, jump } = buildTargets(node);
  // Read every credential before touching the network: a config error must not wait for a timeout.
  const targetAuth = await resolveAuth(target, settings.env);
  const jumpAuth = jump ? await resolveAuth(jump, settings.env) : undefined;
  let jumpClient: Client | undefined;
  let jumpKey: Buffer | undefined;
  let sock: Readable | undefined;
  if (jump && jumpAuth) {
    const opened = await connectClient(jump, jumpAuth, settings, remembered.jump, undefined);
    jumpClient = opened.client;
    jumpKey = opened.hostKey;
    try {
      sock = await forwardTo(jumpClient, target);
    } catch (e) {
      jumpClient.end();
      throw e;
    }
  }
  try {
    const opened = await connectClient(target, targetAuth, settings, remembered.target, sock);
    const client = opened.client;
    client.on('close', () => jumpClient?.end());
    return {
      client,
      jump: jumpClient,
      hostKeys: { target: opened.hostKey, jump: jumpKey },
      end: () => {
        client.end();
        jumpClient?.end();
      },
    };
  } catch (e) {
    jumpClient?.end();
    throw e;
  }
}

function forwardTo(jump: Client, target: SshTarget): Promise<Readable> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
      if (err) {
        const message = `${target.subject}: jump host cannot open a connection to ${target.host}:${target.port}: ${err.message}`;
        reject(new SshConnectError(target.node, message, { cause: err, retryable: true }));
      } else resolve(stream);
    });
  });
}

async function readKnownHosts(path: string | undefined, required: boolean, target: SshTarget): Promise<KnownHostsText | undefined> {
  if (!path) return undefined;
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return undefined;
    throw new SshConnectError(target.node, `cannot read known_hosts file ${path} for ${target.subject} (${code ?? 'error'})`, { cause: e });
  }
}

// OpenSSH's files, read as ssh reads them: a missing one is skipped, and so is one it cannot
// read, which the "not found" message then names.
async function readOpenSshFiles(files: KnownHostsFiles): Promise<{ texts: KnownHostsText[]; searched: { path: string; problem?: string }[] }> {
  const texts: KnownHostsText[] = [];
  const searched: { path: string; problem?: string }[] = [];
  for (const path of [...files.user, ...files.system]) {
    try {
      texts.push({ path, text: await readFile(path, 'utf8') });
      searched.push({ path });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      searched.push(code === 'ENOENT' ? { path } : { path, problem: `unreadable: ${code ?? 'error'}` });
    }
  }
  return { texts, searched };
}

// Append as OpenSSH's add_host_to_hostfile does: create ~/.ssh (0700) if needed, and end a
// last line that lacks its newline first, so the new entry is never glued to it.
async function appendKnownHostsLine(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const before = await readFile(path, 'utf8').catch(() => '');
  const separator = before !== '' && !before.endsWith('\n') ? '\n' : '';
  await appendFile(path, `${separator}${line}\n`, { mode: 0o600 });
}

async function connectClient(
  target: SshTarget,
  auth: AuthSettings,
  settings: ConnectSettings,
  remembered: Buffer | undefined,
  sock: Readable | undefined,
): Promise<{ client: Client; hostKey: Buffer }> {
  const pinKnownHosts = await readKnownHosts(target.hostKey?.knownHosts, true, target);
  // A pin decides alone: OpenSSH's files are not even read, so a stale line there cannot matter.
  const pinned = target.hostKey?.fingerprint !== undefined || pinKnownHosts !== undefined;
  const files = settings.knownHostsFiles ?? listKnownHostsFiles(userInfo().homedir, settings.knownHostsFile);
  const openSsh = pinned ? { texts: [], searched: [] } : await readOpenSshFiles(files);
  const client = new ssh2.Client();
  let hostKeyError: HostKeyError | undefined;
  let accepted: Buffer | undefined;

  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    const decision = decideHostKey({
      subject: target.subject,
      node: target.node,
      host: target.host,
      port: target.port,
      offered: key,
      policy: settings.hostKeyPolicy,
      pin: target.hostKey,
      pinKnownHosts,
      knownHostsFiles: openSsh.texts,
      searched: openSsh.searched,
      appendPath: files.user[0],
      remembered,
    });
    if (!decision.accept) {
      hostKeyError = decision.error;
      return verify(false);
    }
    if (decision.note) settings.log(`[${target.node}] ${decision.note}`);
    accepted = key;
    const append = decision.append;
    if (!append) return verify(true);
    appendKnownHostsLine(append.path, append.line).then(
        () => verify(true),
        (e: unknown) => {
          settings.log(`[${target.node}] could not record host key in ${append.path}: ${String(e)}`);
          verify(true);
        },
      );
  };

  const knownTypes = (pinKnownHosts ? [pinKnownHosts] : openSsh.texts).flatMap((f) => listKnownKeyTypes(parseKnownHosts(f.text, f.path).entries, target.host, target.port));
  const serverHostKey = orderHostKeyAlgorithms(remembered ? [readKeyType(remembered) ?? ''] : knownTypes);
  const config: ConnectConfig = {
    // Names come from DEFAULT_HOST_KEY_ALGORITHMS, which mirrors ssh2's own list.
    ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as ServerHostKeyAlgorithm[] } } : {}),
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: settings.readyTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    hostVerifier,
    ...auth,
    ...(sock ? { sock } : {}),
  };

  return new Promise((resolve, reject) => {
    let ready = false;
    const fail = (e: unknown) => {
      if (ready) return;
      ready = true;
      client.removeAllListeners('ready');
      client.end();
      reject(hostKeyError ?? describeConnectFailure(target, e, settings.readyTimeoutMs));
    };
    client.once('ready', () => {
      if (ready) return;
      ready = true;
      resolve({ client, hostKey: accepted ?? Buffer.alloc(0) });
    });
    client.on('error', fail);
    client.once('close', () => fail(new Error('connection closed during the SSH handshake')));
    try {
      client.connect(config);
    } catch (e) {
      fail(e);
    }
  });
}

// Name the failure the way an operator fixes it: which node, which endpoint, which step.
function describeConnectFailure(target: SshTarget, error: unknown, readyTimeoutMs: number): SshConnectError {
  const err = error instanceof Error ? error : new Error(String(error));
  const level = (err as { level?: string }).level;
  const endpoint = `${target.user}@${target.host}:${target.port}`;
  if (level === 'client-authentication') {
    return new SshConnectError(target.node, `${target.subject} (${endpoint}) refused authentication (${err.message})`, { cause: err });
  }
  if (level === 'client-timeout') {
    return new SshConnectError(target.node, `${target.subject} (${endpoint}) did not complete the SSH handshake within ${readyTimeoutMs / 1000} s`, {
      cause: err,
      retryable: true,
    });
  }
  return new SshConnectError(target.node, `cannot connect to ${target.subject} (${endpoint}): ${err.message}`, { cause: err, retryable: true });
}
