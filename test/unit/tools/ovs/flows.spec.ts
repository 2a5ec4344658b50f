import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { findFlowByInPort, parseDumpFlows } from '../../../../lib/tools/ovs/flows.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ovs/${name}`, import.meta.url), 'utf8');

describe('tools/ovs parseDumpFlows (ovs-ofctl 3.1)', () => {
  it('reads the four PVP flows with their counters', () => {
    const flows = parseDumpFlows(fixture('dump-flows-pvp.txt'));
    expect(flows.map((f) => [f.match, f.actions, f.packets, f.bytes])).to.deep.equal([
      ['in_port=1', 'output:2', 11642, 698530],
      ['in_port=3', 'output:4', 1281, 76870],
      ['in_port=4', 'output:3', 3513, 210790],
      ['in_port=2', 'output:1', 769, 46150],
    ]);
    expect(flows[0]).to.include({ cookie: '0x0', table: 0, priority: 32768, durationS: 19.3 });
  });

  it('separates priority and cookie from the match, and reads a match-all drop rule', () => {
    const flows = parseDumpFlows(fixture('dump-flows-cookie.txt'));
    expect(flows).to.have.length(5);
    expect(flows[0]).to.include({ cookie: '0x6b666e', priority: 100, match: 'in_port=1', packets: 2225 });
    expect(flows[4]).to.include({ cookie: '0x0', priority: 0, match: '', actions: 'drop', packets: 0 });
    expect(findFlowByInPort(flows, 3, '0x6b666e')?.packets).to.equal(969);
    expect(findFlowByInPort(flows, 3, '0x1')).to.equal(undefined);
    expect(findFlowByInPort(flows, 9)).to.equal(undefined);
  });

  it('reads an OpenFlow 1.3 reply with the reset_counts flag', () => {
    const flows = parseDumpFlows(fixture('dump-flows-of13.txt'));
    expect(flows.map((f) => f.match)).to.deep.equal(['in_port=1', 'in_port=3', 'in_port=4', 'in_port=2']);
    expect(flows[0]?.packets).to.equal(11643);
  });

  it('reads an empty table as no flows', () => {
    expect(parseDumpFlows('NXST_FLOW reply (xid=0x4):\n')).to.deep.equal([]);
  });

  it('refuses a dump without counters instead of reading zero', () => {
    expect(() => parseDumpFlows(fixture('dump-flows-nostats.txt'))).to.throw(ToolOutputParseError, /n_packets/);
  });

  it('refuses empty output, a line without actions and a counter that is not a number', () => {
    expect(() => parseDumpFlows('')).to.throw(ToolOutputParseError, /no output/);
    expect(() => parseDumpFlows('NXST_FLOW reply (xid=0x4):\n cookie=0x0, n_packets=1, n_bytes=2, in_port=1\n')).to.throw(ToolOutputParseError, /actions=/);
    expect(() => parseDumpFlows(' cookie=0x0, duration=1.0s, table=0, n_packets=x, n_bytes=2, in_port=1 actions=drop\n')).to.throw(ToolOutputParseError, /n_packets/);
    expect(() => parseDumpFlows(' cookie=0x0, duration=1s0, table=0, n_packets=1, n_bytes=2, in_port=1 actions=drop\n')).to.throw(ToolOutputParseError, /duration/);
  });
});
