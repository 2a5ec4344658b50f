import { expect } from 'chai';
import { ConfigError } from '../../../../lib/errors.ts';
import {
  buildCompileArgv,
  buildRxCommand,
  buildTrialCommand,
  buildTxCommand,
  quoteShellWord,
  type TrialParams,
} from '../../../../lib/tools/softgen/command.ts';

const base: TrialParams = {
  binary: '/tmp/kfn/kfn-softgen',
  txIf: 't0',
  rxIf: 't1',
  frame: { kind: 'fixed', sizeBytes: 64 },
  ratePps: 10000,
  durationS: 2,
  direction: 'one-way',
  streamId: 1,
};

describe('softgen command builders', () => {
  it('builds a one-way trial argv', () => {
    const cmd = buildTrialCommand(base);
    expect(cmd.argv).to.deep.equal([
      '/tmp/kfn/kfn-softgen', 'trial', '--tx-if', 't0', '--rx-if', 't1',
      '--size', '64', '--rate', '10000', '--stream-id', '1', '--duration', '2',
    ]);
    expect(cmd.command).to.equal(cmd.argv.join(' '));
    expect(cmd.expectedMs).to.equal(2450); // 2 s + grace 250 ms + drain 200 ms
  });

  it('builds a bidirectional IMIX trial with every option', () => {
    const cmd = buildTrialCommand({
      ...base,
      frame: { kind: 'imix' },
      direction: 'bidirectional',
      streamId: 40,
      flows: 128,
      drainMs: 500,
      batch: 32,
      txMethod: 'ring',
      dstMac: '02:00:00:00:00:0a',
      reverseDstMac: '02:00:00:00:00:0b',
      srcIp: '198.18.1.1',
      dstIp: '198.19.1.1',
      txCpu: 0,
      rxCpu: 1,
    });
    expect(cmd.argv.slice(6)).to.deep.equal([
      '--imix', '--rate', '10000', '--stream-id', '40', '--flows', '128', '--batch', '32', '--tx-method', 'ring',
      '--duration', '2', '--bidirectional', '--rev-stream-id', '41', '--drain-ms', '500',
      '--dst-mac', '02:00:00:00:00:0a', '--rev-dst-mac', '02:00:00:00:00:0b',
      '--src-ip', '198.18.1.1', '--dst-ip', '198.19.1.1', '--tx-cpu', '0', '--rx-cpu', '1',
    ]);
    expect(cmd.expectedMs).to.equal(2750); // 2 s + grace 250 ms + drain 500 ms
  });

  it('expects no grace for an unpaced trial', () => {
    expect(buildTrialCommand({ ...base, ratePps: 0 }).expectedMs).to.equal(2200);
  });

  it('wraps the reverse stream id at 65535', () => {
    const cmd = buildTrialCommand({ ...base, direction: 'bidirectional', streamId: 65535 });
    expect(cmd.argv.slice(cmd.argv.indexOf('--rev-stream-id'))).to.deep.equal(['--rev-stream-id', '1']);
  });

  it('lists every bad trial parameter at once', () => {
    try {
      buildTrialCommand({ ...base, rxIf: 't0', frame: { kind: 'fixed', sizeBytes: 63 }, ratePps: -1, durationS: 0, streamId: 70000, dstMac: 'zz' });
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      const paths = (error as ConfigError).issues.map((i) => i.path);
      expect(paths).to.have.members(['rxIf', 'streamId', 'frame.sizeBytes', 'ratePps', 'durationS', 'dstMac']);
      expect((error as ConfigError).message).to.match(/frame\.sizeBytes: expected an integer in \[64, 1518\], found 63/);
    }
  });

  it('rejects equal stream ids in a bidirectional trial and odd interface names', () => {
    expect(() => buildTrialCommand({ ...base, direction: 'bidirectional', reverseStreamId: 1 })).to.throw(ConfigError, /reverseStreamId: must differ/);
    expect(() => buildTrialCommand({ ...base, txIf: 'eth0; reboot' })).to.throw(ConfigError, /txIf: expected an interface name/);
  });

  it('builds receive-only runs for pktgen and for a softgen stream', () => {
    expect(buildRxCommand({ binary: 'kfn-softgen', iface: 'p1', stream: 'pktgen', durationS: 30 }).argv).to.deep.equal([
      'kfn-softgen', 'rx', '--if', 'p1', '--pktgen', '--duration', '30',
    ]);
    const rx = buildRxCommand({ binary: 'kfn-softgen', iface: 'p1', stream: 9, durationS: 1.5, firstSeq: 0 });
    expect(rx.argv).to.deep.equal(['kfn-softgen', 'rx', '--if', 'p1', '--stream-id', '9', '--duration', '1.5', '--first-seq', '0']);
    expect(() => buildRxCommand({ binary: 'kfn-softgen', iface: 'p1', stream: 0, durationS: 1 })).to.throw(ConfigError, /stream/);
  });

  it('builds send-only runs and needs a duration or a count', () => {
    const tx = buildTxCommand({ binary: 'kfn-softgen', iface: 'b0', frame: { kind: 'fixed', sizeBytes: 64 }, ratePps: 0, count: 5000000, streamId: 5 });
    expect(tx.argv).to.deep.equal(['kfn-softgen', 'tx', '--if', 'b0', '--size', '64', '--rate', '0', '--stream-id', '5', '--count', '5000000']);
    const paced = buildTxCommand({ binary: 'kfn-softgen', iface: 'b0', frame: { kind: 'imix' }, ratePps: 1000, count: 500, durationS: 10, streamId: 5 });
    expect(paced.expectedMs).to.equal(500);
    expect(() => buildTxCommand({ binary: 'kfn-softgen', iface: 'b0', frame: { kind: 'imix' }, ratePps: 0, streamId: 5 })).to.throw(ConfigError, /durationS or count/);
  });

  it('builds the exact compile line', () => {
    expect(buildCompileArgv({ source: 'kfn-softgen.c', output: 'kfn-softgen' })).to.deep.equal([
      'gcc', '-Wall', '-Wextra', '-Werror', '-O2', '-o', 'kfn-softgen', 'kfn-softgen.c',
    ]);
  });

  it('quotes shell words only when needed', () => {
    expect(quoteShellWord('--rate')).to.equal('--rate');
    expect(quoteShellWord("it's here")).to.equal(`'it'\\''s here'`);
    expect(quoteShellWord('')).to.equal("''");
  });
});
