import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildQmpArgv, formatQemuVersion, parseCpusFast, parseQmpTranscript, parseQueryKvm, parseQueryStatus, replyValue } from '../../../../lib/tools/qemu/qmp.ts';

// kfn-qmp's stdout against QEMU 7.2.22 (Debian 12); see test/fixtures/qemu/README.md.
const recorded = readFileSync(new URL('../../../fixtures/qemu/kfn-qmp-7.2-tcg.stdout', import.meta.url), 'utf8');

describe('tools/qemu QMP', () => {
  it('passes each command as one JSON word after the socket and the timeout', () => {
    expect(buildQmpArgv('/c/kfn-qmp', '/run/kfn/qmp.sock', 4999.6, [{ execute: 'query-cpus-fast' }, { execute: 'qom-get', arguments: { path: '/machine', property: 'type' } }])).to.deep.equal([
      '/c/kfn-qmp',
      '/run/kfn/qmp.sock',
      '5000',
      '{"execute":"query-cpus-fast"}',
      '{"execute":"qom-get","arguments":{"path":"/machine","property":"type"}}',
    ]);
  });

  it('reads the recorded 7.2 conversation: one reply per command, events apart, errors kept', () => {
    const t = parseQmpTranscript(recorded);
    expect(formatQemuVersion(t.version)).to.equal('7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
    // query-version, query-kvm, query-cpus-fast, query-status, nonexistent, cont, quit
    expect(t.replies).to.have.length(7);
    expect(t.events.map((e) => e.event)).to.deep.equal(['RESUME', 'SHUTDOWN']);
    expect(parseQueryKvm(replyValue(t, 1, 'query-kvm'))).to.deep.equal({ enabled: false, present: true });
    expect(parseCpusFast(replyValue(t, 2, 'query-cpus-fast'))).to.deep.equal([
      { cpuIndex: 0, threadId: 26812, qomPath: '/machine/unattached/device[0]' },
      { cpuIndex: 1, threadId: 26813, qomPath: '/machine/unattached/device[2]' },
    ]);
    expect(parseQueryStatus(replyValue(t, 3, 'query-status'))).to.deep.equal({ running: false, status: 'prelaunch' });
    expect(() => replyValue(t, 4, 'nonexistent')).to.throw(ToolOutputParseError, /nonexistent failed: CommandNotFound: The command nonexistent has not been found/);
    expect(() => replyValue(t, 7, 'query-name')).to.throw(/no reply to query-name/);
  });

  it('accepts CRLF line ends, as QEMU writes them on its socket', () => {
    const crlf = recorded.split('\n').join('\r\n');
    expect(parseQmpTranscript(crlf).replies).to.have.length(7);
  });

  it('rejects output without a greeting, a non-JSON line, and a refused qmp_capabilities', () => {
    expect(() => parseQmpTranscript('')).to.throw(ToolOutputParseError, /no QMP greeting/);
    expect(() => parseQmpTranscript('{"return": {}}\n')).to.throw(/expected the greeting/);
    const greeting = recorded.split('\n')[0];
    expect(() => parseQmpTranscript(`${greeting}\n{"return": {}}\nqemu: terminating on signal 15\n`)).to.throw(/line 3/);
    expect(() => parseQmpTranscript(`${greeting}\n{"error": {"class": "CommandNotFound", "desc": "x"}}\n`)).to.throw(/qmp_capabilities was refused/);
    expect(() => parseQmpTranscript(`${greeting}\n{"neither": 1}\n`)).to.throw(/expected "return", "error" or "event"/);
  });

  it('rejects query-cpus-fast replies without a thread id or with a repeated index', () => {
    expect(() => parseCpusFast([])).to.throw(/non-empty list/);
    expect(() => parseCpusFast([{ 'cpu-index': 0, 'qom-path': '/x' }])).to.throw(/thread-id: expected a whole number/);
    expect(() => parseCpusFast([{ 'cpu-index': 0, 'thread-id': 5 }, { 'cpu-index': 0, 'thread-id': 6 }])).to.throw(/cpu-index repeats/);
    // The removed query-cpus shape (QEMU < 6.0: "CPU", "thread_id") is not taken for the new one.
    expect(() => parseCpusFast([{ CPU: 0, thread_id: 5 }])).to.throw(/cpu-index/);
  });

  it('rejects query-kvm and query-status replies of another shape', () => {
    expect(() => parseQueryKvm({ enabled: 'yes', present: true })).to.throw(/query-kvm/);
    expect(() => parseQueryStatus({ status: 'running' })).to.throw(/query-status/);
  });
});
