import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { parseNodeSnapshot } from '../../../../lib/tools/node-snapshot/parse.ts';

const B = 'KFNSNAP-abcdef01';
const h = (kind: string, arg: string) => `==> ${B} ${kind} ${arg} <==`;

// Output shaped exactly as the script prints it: content, then one newline, then the end line.
const GOOD = [
  'motd noise before the begin line is ignored',
  h('begin', 'v1'),
  h('file', '/proc/cmdline'),
  'ro quiet isolcpus=2-3',
  '',
  h('end', '0'),
  h('file', '/proc/1/cmdline'),
  'qemu\0-m\0' + '2G\0',
  h('end', '0'),
  h('file', '/sys/empty'),
  '',
  h('end', '0'),
  h('file', '/sys/newline'),
  '',
  '',
  h('end', '0'),
  h('file', '/sys/kernel/debug/x'),
  'cat: /sys/kernel/debug/x: Permission denied',
  '',
  h('end', '1'),
  h('missing', '/sys/kernel/realtime'),
  h('missing', '/sys/class/net/*/device/numa_node'),
  h('link', '/sys/bus/pci/devices/0000:18:00.0/driver'),
  '../../../../bus/pci/drivers/vfio-pci',
  '',
  h('end', '0'),
  h('cmd', 'uname-r'),
  '6.1.0-53-rt-amd64',
  '',
  h('end', '0'),
  h('cmd', 'irqbalance-systemctl'),
  'inactive',
  '',
  h('end', '3'),
  h('file', '/etc/tricky'),
  '==> KFNSNAP-other123 end 0 <==',
  '==> x <==',
  '',
  h('end', '0'),
  h('done', 'v1'),
  '',
].join('\n');

describe('parseNodeSnapshot', () => {
  it('reads files, links, missing paths, read errors and commands exactly', () => {
    const s = parseNodeSnapshot(GOOD, B);
    expect(s.files.get('/proc/cmdline')).to.equal('ro quiet isolcpus=2-3\n');
    expect(s.files.get('/proc/1/cmdline'), 'no trailing newline kept as is').to.equal('qemu\0-m\0' + '2G\0');
    expect(s.files.get('/sys/empty')).to.equal('');
    expect(s.files.get('/sys/newline')).to.equal('\n');
    expect(s.errors.get('/sys/kernel/debug/x')).to.equal('cat: /sys/kernel/debug/x: Permission denied');
    expect(s.files.has('/sys/kernel/debug/x')).to.equal(false);
    expect([...s.missing]).to.deep.equal(['/sys/kernel/realtime', '/sys/class/net/*/device/numa_node']);
    expect(s.links.get('/sys/bus/pci/devices/0000:18:00.0/driver')).to.equal('../../../../bus/pci/drivers/vfio-pci');
    expect(s.commands.get('uname-r')).to.deep.equal({ exitCode: 0, stdout: '6.1.0-53-rt-amd64\n' });
    expect(s.commands.get('irqbalance-systemctl')).to.deep.equal({ exitCode: 3, stdout: 'inactive\n' });
    expect(s.files.get('/etc/tricky'), 'another boundary is content').to.equal('==> KFNSNAP-other123 end 0 <==\n==> x <==\n');
  });

  const lines = GOOD.split('\n');
  const rejects: Array<[string, string, RegExp]> = [
    ['no begin line', lines.filter((l) => !l.includes(' begin ')).join('\n'), /no "==> KFNSNAP-abcdef01 begin" line/],
    ['another run\'s boundary', GOOD.replaceAll(B, 'KFNSNAP-99999999'), /another run's/],
    ['truncated inside an item', lines.slice(0, 4).join('\n'), /ends inside file \/proc\/cmdline .* truncated/],
    ['truncated between items', lines.slice(0, 6).join('\n'), /ends between items with no done line/],
    ['text between items', GOOD.replace(h('missing', '/sys/kernel/realtime'), 'stray text'), /expected an item header between items/],
    ['a header inside an item', GOOD.replace(`${h('end', '1')}\n`, ''), /expected the end of file \/sys\/kernel\/debug\/x/],
    ['a bad exit status', GOOD.replace(h('end', '3'), h('end', 'three')), /exit status after "end"/],
    ['an unknown item kind', GOOD.replace(h('missing', '/sys/kernel/realtime'), h('weird', '/x')), /unknown item kind "weird"/],
    ['a header with no path', GOOD.replace(h('missing', '/sys/kernel/realtime'), `==> ${B} missing <==`), /expected a path or name after "missing"/],
    ['text after done', `${GOOD}junk\n`, /nothing after the done line/],
  ];
  for (const [name, text, message] of rejects) {
    it(`rejects ${name}`, () => {
      expect(() => parseNodeSnapshot(text, B)).to.throw(ToolOutputParseError, message);
    });
  }

  it('rejects an empty output and a malformed boundary argument', () => {
    expect(() => parseNodeSnapshot('', B)).to.throw(ToolOutputParseError, /begin/);
    expect(() => parseNodeSnapshot(GOOD, 'a b')).to.throw(ToolOutputParseError, /boundary/);
  });
});
