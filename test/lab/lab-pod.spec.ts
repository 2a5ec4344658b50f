// Builds a real lab pod (namespaces, veths, sshds) in a temporary checkout dir, so it
// never collides with the lab of /work/main. Needs root.

import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../../lib/errors.ts';
import { labDown, labStatus, labUp, type LabState } from '../../lib/lab/index.ts';
import { deriveLabNames } from '../../lib/lab/plan.ts';

const NODE_BIN = process.execPath;

async function listNamespaces(prefix: string): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list']);
  return stdout.split('\n').filter((l) => l.startsWith(`${prefix}-`));
}

async function listRootLinks(prefix: string): Promise<string[]> {
  const { stdout } = await execa('ip', ['-o', 'link']);
  return stdout.split('\n').filter((l) => l.includes(prefix));
}

function processesMentioning(fragment: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(fragment) && Number(pid) !== process.pid) out.push(`${pid} ${cmd}`);
    } catch {
      // Exited while listed.
    }
  }
  return out;
}

async function expectNothingLeft(root: string): Promise<void> {
  const prefix = deriveLabNames(root).prefix;
  expect(await listNamespaces(prefix), 'namespaces').to.deep.equal([]);
  expect(await listRootLinks(prefix), 'root links').to.deep.equal([]);
  expect(processesMentioning(join(root, '.lab')), 'processes').to.deep.equal([]);
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).to.not.include(prefix);
  expect(existsSync(join(root, '.lab')), '.lab dir').to.equal(false);
}

function ssh(state: LabState, ip: string, command: string[], knownHosts = state.knownHosts) {
  return execa('ssh', [
    '-F', '/dev/null', '-i', state.keyFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${ip}`, ...command,
  ], { reject: false, timeout: 20_000 });
}

describe('lab pod on this machine (as root)', function () {
  this.timeout(60_000);
  let root = '';
  let state: LabState;
  const nodeIp = (name: string) => state.nodes.find((n) => n.name === name)!.ip;
  const ns = (name: string) => state.nodes.find((n) => n.name === name)!.namespace;

  before(function () {
    if (process.getuid?.() !== 0) throw new Error('the lab spec must run as root');
    root = mkdtempSync('/tmp/kfn-labspec-');
  });

  after(async () => {
    if (!root) return;
    await labDown({ root }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to run without root, saying so', async () => {
    const script = `import('${join(import.meta.dirname, '../../lib/lab/index.ts')}').then((m) => m.labUp({ root: '/tmp', installPackages: false }))` +
      `.then(() => console.log('built'), (e) => console.log(e.name + ': ' + e.message))`;
    const r = await execa('runuser', ['-u', 'nobody', '--', NODE_BIN, '-e', script], { cwd: '/tmp', reject: false });
    expect(r.stdout).to.match(/^LabError: the lab pod must be built by root/);
  });

  it('up builds a lab whose status is healthy', async () => {
    state = await labUp({ root, guest: 'namespace' });
    expect(state.complete).to.equal(true);
    expect(state.prefix).to.equal(deriveLabNames(state.root).prefix);
    const status = await labStatus({ root });
    expect(status.problems).to.deep.equal([]);
    expect(status.healthy).to.equal(true);
    expect(status.podYaml).to.equal(join(state.root, '.lab', 'pod.yaml'));
    expect(status.nodes.map((n) => [n.name, n.sshdRunning, n.sshdAnswers])).to.deep.equal([
      ['host', true, true],
      ['guest', true, true],
      ['tgen', true, true],
    ]);
  });

  it('the system ssh client, checking host keys strictly, lands in the host namespace', async () => {
    const r = await ssh(state, nodeIp('host'), ['ip', '-o', 'link']);
    expect(r.exitCode, r.stderr).to.equal(0);
    const names = r.stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]);
    expect(names).to.include.members(['lo', 'mg0', 'h0', 'h1']);
    expect(names).to.not.include('t0');
    expect(names).to.not.include('eth0');
  });

  it('the same client refuses a node whose key is not in known_hosts', async () => {
    const empty = join(root, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await ssh(state, nodeIp('guest'), ['true'], empty);
    expect(r.exitCode).to.equal(255);
    expect(r.stderr).to.match(/Host key verification failed/);
  });

  it('the interrupt link carries IP from tgen to guest, and data links have IPv6 off', async () => {
    const guestIp = state.interruptCidr.replace(/\.0\/30$/, '.2');
    const ping = await execa('ip', ['netns', 'exec', ns('tgen'), 'ping', '-c', '1', '-W', '2', guestIp], { reject: false });
    expect(ping.exitCode, ping.stdout).to.equal(0);
    for (const [node, ifname] of [['tgen', 't0'], ['host', 'h1'], ['guest', 'gi'], ['tgen', 'c1']] as const) {
      const r = await execa('ip', ['netns', 'exec', ns(node), 'cat', `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`]);
      expect(r.stdout.trim(), `${node}:${ifname}`).to.equal('1');
    }
  });

  it('a second up changes nothing and returns the same state', async () => {
    const pids = state.nodes.map((n) => n.sshdPid);
    const again = await labUp({ root, guest: 'namespace' });
    expect(again).to.deep.equal(state);
    expect(again.nodes.map((n) => n.sshdPid)).to.deep.equal(pids);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `sshd ${pid}`).to.equal(true);
  });

  it('down removes namespaces, links, processes and the state dir, and is safe twice', async () => {
    // A detached process started over SSH must go too.
    const bg = await ssh(state, nodeIp('guest'), ['setsid', 'sleep', '600', '</dev/null', '>/dev/null', '2>&1', '&']);
    expect(bg.exitCode, bg.stderr).to.equal(0);
    const report = await labDown({ root });
    expect(report.usedStateFile).to.equal(true);
    expect(report.deletedNamespaces).to.have.length(3);
    expect(report.killedPids.length).to.be.at.least(4);
    await expectNothingLeft(state.root);
    const twice = await labDown({ root });
    expect(twice.nothingFound).to.equal(true);
  });

  it('a failed up names its step and leaves nothing behind', async () => {
    let caught: unknown;
    await labUp({ root, installPackages: false, guest: 'namespace', failAfterStep: 'namespaces' }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LabError);
    expect((caught as Error).message).to.match(/^lab up failed at step "namespaces": injected failure .*; the partial lab was removed$/);
    await expectNothingLeft(state.root);
    expect((await labDown({ root })).nothingFound).to.equal(true);
  });

  it('down cleans a half-built lab found by prefix alone, without state.json', async () => {
    await labUp({ root, installPackages: false, guest: 'namespace', abandonAfterStep: 'sshd' }).catch(() => undefined);
    expect(await listNamespaces(state.prefix)).to.have.length(3);
    unlinkSync(join(root, '.lab', 'state.json'));
    const report = await labDown({ root });
    expect(report.usedStateFile).to.equal(false);
    expect(report.killedPids).to.have.length(3);
    await expectNothingLeft(state.root);
  });

  it('up rebuilds a half-built lab into a healthy one', async () => {
    await labUp({ root, installPackages: false, guest: 'namespace', abandonAfterStep: 'data-links' }).catch(() => undefined);
    expect(await listNamespaces(state.prefix)).to.have.length(3);
    const rebuilt = await labUp({ root, installPackages: false, guest: 'namespace' });
    expect(rebuilt.complete).to.equal(true);
    expect((await labStatus({ root })).healthy).to.equal(true);
    await labDown({ root });
    await expectNothingLeft(state.root);
  });
});
