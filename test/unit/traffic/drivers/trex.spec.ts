import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { MeasurementError, ToolOutputParseError } from '../../../../lib/errors.ts';
import type { RemoteCommand } from '../../../../lib/remote/types.ts';
import { TrexGenerator } from '../../../../lib/traffic/drivers/trex.ts';
import type { TrialParams } from '../../../../lib/traffic/generator.ts';
import { buildScriptedSession, buildTgenNode, type FakeCall } from '../../../support/fake-node-session.ts';

const FIXTURES = new URL('../../../fixtures/trex/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const NODE = buildTgenNode([
  { name: 'p0', lineRateBps: 10e9 },
  { name: 'p1', lineRateBps: 10e9 },
]);
const params: TrialParams = { frameSize: 64, rate: { pps: 1_000_000 }, durationS: 10, flows: 4, direction: 'bidirectional', ports: { tx: 'p0', rx: 'p1' } };
const starts = (calls: FakeCall[]) => calls.filter((c): c is Extract<FakeCall, { kind: 'start' }> => c.kind === 'start');

describe('traffic/drivers/trex TrexGenerator', () => {
  it('uploads the script once, runs it detached per trial and parses its document', async () => {
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: fixture('trial-bidir-64.json'), runningPolls: 2 } });
    const gen = new TrexGenerator({ session, scriptText: '# script', apiPaths: ['/opt/trex/api'] });
    const first = await gen.runTrial(params);
    await gen.runTrial(params);
    const uploads = session.calls.filter((c) => c.kind === 'upload');
    expect(uploads).to.deep.equal([{ kind: 'upload', path: '/tmp/kfn-test-run/kfn-trex-trial.py', content: '# script', mode: 0o755 }]);
    const runs = starts(session.calls);
    expect(runs).to.have.length(2);
    expect(runs[0]!.name).to.not.equal(runs[1]!.name);
    const argv = runs[0]!.raw as string[];
    expect(argv.slice(0, 3)).to.deep.equal(['python3', '/tmp/kfn-test-run/kfn-trex-trial.py', '--spec']);
    expect(JSON.parse(argv[3]!).directions.map((d: any) => [d.tx_port, d.rx_port, d.load_pps])).to.deep.equal([
      [0, 1, 999_000],
      [1, 0, 999_000],
    ]);
    expect(argv.slice(4)).to.deep.equal(['--api-path', '/opt/trex/api']);
    expect(first.directions.map((d) => [d.txPort, d.rxPort])).to.deep.equal([
      ['p0', 'p1'],
      ['p1', 'p0'],
    ]);
    expect(first.directions[0]!.latency!.avgNs).to.equal(14_000);
  });

  it('uploads the real agent script by default', async () => {
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: fixture('trial-bidir-64.json') } });
    await new TrexGenerator({ session }).runTrial(params);
    const upload = session.calls.find((c) => c.kind === 'upload') as Extract<FakeCall, { kind: 'upload' }>;
    expect(upload.content).to.match(/^#!\/usr\/bin\/env python3\n"""kfn-trex-trial:/);
  });

  it('reports the TRex error of a failed trial', async () => {
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: fixture('trial-error-no-server.json'), exitCode: 4 } });
    const gen = new TrexGenerator({ session, scriptText: '#' });
    let caught: unknown;
    await gen.runTrial(params).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(MeasurementError);
    expect((caught as Error).message).to.match(/Failed to get server response/);
  });

  it('names exit code and stderr when the script printed no document', async () => {
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: '', stderr: 'Traceback...\nImportError: zmq', exitCode: 1 } });
    let caught: unknown;
    await new TrexGenerator({ session, scriptText: '#' }).runTrial(params).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(MeasurementError);
    expect((caught as Error).message).to.equal('kfn-trex-trial on tgen exited with 1: Traceback... | ImportError: zmq');
  });

  it('stops the trial with SIGINT when aborted and rejects with the reason', async () => {
    const controller = new AbortController();
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: '', runningPolls: 1000 } }, {
      onStart: () => setTimeout(() => controller.abort(new Error('aborted by the user')), 5),
    });
    let caught: unknown;
    await new TrexGenerator({ session, scriptText: '#' }).runTrial(params, controller.signal).catch((e) => (caught = e));
    expect((caught as Error).message).to.equal('aborted by the user');
    expect(session.calls.filter((c) => c.kind === 'stop')).to.deep.equal([{ kind: 'stop', name: starts(session.calls)[0]!.name, signal: 'INT' }]);
  });

  it('calibrates pps-only ports by flooding and keeps the rate TRex reached', async () => {
    const veth = buildTgenNode([{ name: 't0' }, { name: 't1' }]);
    // TRex answers with the fixture's counts for whatever spec it was given.
    const answer = (command: RemoteCommand) => JSON.stringify({ ...JSON.parse(fixture('trial-bidir-64.json')), spec: JSON.parse((command as string[])[3]!) });
    const session = buildScriptedSession(veth, { 'trex-trial': { stdout: answer } });
    const gen = new TrexGenerator({ session, scriptText: '#', calibrationPps: 5_000_000 });
    const cal = await gen.calibrate({ frameSize: 64, durationS: 10, flows: 4, direction: 'bidirectional', ports: { tx: 't0', rx: 't1' } });
    expect(JSON.parse((starts(session.calls)[0]!.raw as string[])[3]!).directions[0].load_pps).to.equal(4_999_000);
    expect(cal.maxTxPps).to.equal(1_000_000);
    expect(cal.trial.valid).to.equal(false);
  });

  it('refuses a document that answers another trial than the one asked for', async () => {
    const session = buildScriptedSession(NODE, { 'trex-trial': { stdout: fixture('trial-bidir-64.json') } });
    let caught: unknown;
    await new TrexGenerator({ session, scriptText: '#' }).runTrial({ ...params, rate: { pps: 500_000 } }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(ToolOutputParseError);
    expect((caught as Error).message).to.match(/the document is for another trial/);
  });

  it('refuses a percent rate on a veth before anything runs', async () => {
    const veth = buildTgenNode([{ name: 't0' }, { name: 't1' }]);
    const session = buildScriptedSession(veth, { 'trex-trial': {} });
    let caught: unknown;
    await new TrexGenerator({ session, scriptText: '#' }).runTrial({ ...params, rate: { percentLineRate: 50 }, ports: { tx: 't0', rx: 't1' } }).catch((e) => (caught = e));
    expect((caught as Error).message).to.match(/pps only/);
    expect(session.calls).to.deep.equal([]);
  });
});
