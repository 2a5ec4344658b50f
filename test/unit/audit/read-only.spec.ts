import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSnapshotScript } from '../../../lib/tools/node-snapshot/command.ts';
import { ALLOWED_REDIRECTIONS, extractStringLiterals, findWritePatterns, WRITE_PATTERNS } from './source-scan.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const AUDIT_DIR = join(ROOT, 'lib', 'audit');
const COMMAND_FILE = join(ROOT, 'lib', 'tools', 'node-snapshot', 'command.ts');

/** Beyond the brief's list: anything else that changes a node's state. */
const SCRIPT_ONLY_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['rm/mkdir/dd/kill', /\b(rm|rmdir|mkdir|dd|kill|pkill|killall|insmod|rmmod|chmod|chown|ln|mv|cp|touch|truncate)\b/],
  ['systemctl changing units', /(?<![-\w])systemctl\s+(?!is-active\b)[a-z-]/],
  ['virsh changing domains', /(?<![-\w])virsh\s+(?!(list|dumpxml)\b)[a-z-]/],
  ['ethtool settings', /(?<![-\w])ethtool\s+(?!-i\b)[a-z-]/],
  ['taskset', /\btaskset\b/],
  ['echo', /\becho\b/],
  ['sysctl', /\bsysctl\b/],
];

const script = buildSnapshotScript({ boundary: 'KFNSNAP-test0001', pciAddresses: ['0000:18:00.0'], interfaces: ['ens1f1'] }).script;

describe('the snapshot script and the audit are read-only', () => {
  it('the scanner itself finds each write pattern (so a clean scan means something)', () => {
    const samples: Array<[string, string]> = [
      ['output redirection', 'printf 1 > /proc/sys/kernel/watchdog'],
      ['output redirection', 'cat x >>/tmp/log'],
      ['tee', 'printf 0 | tee /sys/kernel/mm/ksm/run'],
      ['echo into a file', 'echo 0 >/proc/irq/5/smp_affinity_list'],
      ['sysctl -w', 'sysctl -w kernel.watchdog=0'],
      ['mount', 'mount -t debugfs none /sys/kernel/debug'],
      ['modprobe', 'modprobe vfio-pci'],
    ];
    for (const [name, sample] of samples) expect(findWritePatterns(sample), sample).to.include(name);
    // Why only literals are scanned: code like this would look like a redirection.
    expect(findWritePatterns('x => y; a >= b; if (a > b) {}')).to.deep.equal(['output redirection']);
    const scriptOnly: Array<[string, string]> = [
      ['systemctl changing units', 'systemctl stop irqbalance'],
      ['virsh changing domains', 'virsh vcpupin rt-guest 0 2'],
      ['ethtool settings', 'ethtool -K ens1f1 gro off'],
      ['rm/mkdir/dd/kill', 'kill -9 4242'],
    ];
    for (const [name, sample] of scriptOnly) expect(findWritePatterns(sample, SCRIPT_ONLY_PATTERNS), sample).to.include(name);
  });

  it('the tokenizer reads literals, not code, comments or regular expressions', () => {
    const source = [
      "// QEMU's comment with > and 'quotes",
      "const a = (x) => x > 1 ? 'one' : \"two\";",
      'const re = /[\'"]immediate[\'"]/g;',
      "const t = `outer ${f('inner')} tail`;",
      '/* block > comment */ const b = 3 / 2;',
    ].join('\n');
    expect(extractStringLiterals(source)).to.deep.equal(['one', 'two', 'inner', 'outer ${…} tail']);
  });

  it('the built script writes nothing: only 2>&1 and >/dev/null redirect', () => {
    const stripped = script.replace(ALLOWED_REDIRECTIONS, '');
    expect(stripped).to.not.include('>', 'a redirection other than 2>&1 or >/dev/null');
    expect(findWritePatterns(stripped)).to.deep.equal([]);
    expect(findWritePatterns(stripped, SCRIPT_ONLY_PATTERNS)).to.deep.equal([]);
  });

  it('the script runs only read-only commands', () => {
    const commands = [...script.matchAll(/^\s*(?:if has \S+; then )?c \S+ (.+?)(?:; fi)?$/gm)].map((m) => m[1]);
    expect(commands).to.have.length.greaterThan(5);
    for (const command of commands) {
      expect(command, command).to.match(/^(uname -[rvm]|procs|ps -eLo pid,tid,psr,comm|systemctl is-active irqbalance|ethtool -i \S+|virsh (list --name|dumpxml --domain "\$dom"))$/);
    }
  });

  it('lib/tools/node-snapshot/command.ts has no write pattern in its strings', () => {
    const literals = extractStringLiterals(readFileSync(COMMAND_FILE, 'utf8'));
    expect(literals.join('\n')).to.include('/proc/cmdline');
    const findings = literals.flatMap((l) => findWritePatterns(l.replace(ALLOWED_REDIRECTIONS, '')).map((p) => `${p}: ${l.slice(0, 80)}`));
    expect(findings).to.deep.equal([]);
  });

  it('lib/audit has no write pattern in its strings and imports nothing that can write or execute', () => {
    const files = readdirSync(AUDIT_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files).to.include.members(['index.ts', 'guest-sources.ts', 'tuning-doc.ts']);
    for (const file of files) {
      const source = readFileSync(join(AUDIT_DIR, file), 'utf8');
      const literals = extractStringLiterals(source);
      expect(literals.length, file).to.be.greaterThan(0);
      const findings = literals.flatMap((l) => findWritePatterns(l, WRITE_PATTERNS).map((p) => `${p}: ${l.slice(0, 80)}`));
      expect(findings, file).to.deep.equal([]);
      const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      for (const spec of imports) {
        expect(spec, `${file} imports ${spec}`).to.not.match(/^(node:)?(fs|child_process|net|dgram|http|https)(\/|$)|^execa$|^ssh2$|\/remote\//);
      }
    }
  });
});
