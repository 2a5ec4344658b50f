import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import {
  parseOvsdbAtom,
  parseOvsdbInteger,
  parseOvsdbMap,
  parseOvsdbSet,
  parseVsctlGet,
  parseVsctlRecords,
} from '../../../../lib/tools/ovs/value.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ovs/${name}`, import.meta.url), 'utf8');

describe('tools/ovs values (ovs-vsctl 3.1)', () => {
  it('reads other_config with a quoted value that holds spaces and "="', () => {
    expect(parseOvsdbMap(fixture('get-other-config.txt'))).to.deep.equal({
      'dpdk-extra': '--no-pci --file-prefix=kfnovstest',
      'dpdk-init': 'true',
      'dpdk-lcore-mask': '0x1',
      'dpdk-socket-mem': '256',
      'pmd-cpu-mask': '0x2',
    });
  });

  it('reads an empty map, escapes and bare words', () => {
    expect(parseOvsdbMap('{}\n')).to.deep.equal({});
    expect(parseOvsdbMap('{mode=client, status=disconnected}')).to.deep.equal({ mode: 'client', status: 'disconnected' });
    expect(parseOvsdbMap('{"a,b"="x\\"y", c="\\u0041"}')).to.deep.equal({ 'a,b': 'x"y', c: 'A' });
  });

  it('reads atoms and sets', () => {
    expect(parseOvsdbAtom('"DPDK 22.11.11"\n')).to.equal('DPDK 22.11.11');
    expect(parseOvsdbAtom('netdev')).to.equal('netdev');
    expect(parseOvsdbSet('[]')).to.deep.equal([]);
    expect(parseOvsdbSet('[afxdp, dpdk, dpdkvhostuserclient]')).to.deep.equal(['afxdp', 'dpdk', 'dpdkvhostuserclient']);
    expect(parseOvsdbSet('kfn-br-test')).to.deep.equal(['kfn-br-test']);
    expect(parseOvsdbInteger('4\n')).to.equal(4);
    expect(parseOvsdbInteger('[]')).to.equal(null);
  });

  it('reads every record and column of a --columns listing', () => {
    const records = parseVsctlRecords(fixture('list-interface-columns.txt'));
    expect(records.map((r) => r.name)).to.deep.equal(['kfn-br-test', 'p0', 'p1', 'vhu0', 'vhu1']);
    const vhu0 = records[3] as Record<string, string>;
    expect(parseOvsdbInteger(vhu0.ofport as string)).to.equal(2);
    const stats = parseOvsdbMap(vhu0.statistics as string);
    expect(stats.ovs_tx_failure_drops).to.equal('10361');
    expect(stats.rx_packets).to.equal('769');
  });

  it('reads a full record whose long column names run into the colon', () => {
    const [p0] = parseVsctlRecords(fixture('list-interface-p0.txt'));
    expect(p0?.ingress_policing_kpkts_burst).to.equal('0');
    expect(parseOvsdbAtom(p0?.mac_in_use as string)).to.equal('92:0c:96:ed:9c:fe');
    expect(parseOvsdbMap(p0?.options as string)).to.deep.equal({ 'dpdk-devargs': 'net_af_packet0,iface=h0' });
    expect(parseOvsdbMap(p0?.status as string).driver_name).to.equal('net_af_packet');
  });

  it('reads the Open_vSwitch record', () => {
    const [ovs] = parseVsctlRecords(fixture('list-open-vswitch.txt'));
    expect(parseOvsdbAtom(ovs?.dpdk_initialized as string)).to.equal('true');
    expect(parseOvsdbSet(ovs?.iface_types as string)).to.include('dpdkvhostuserclient');
  });

  it('splits a multi-column get into its columns', () => {
    const got = parseVsctlGet(fixture('get-vhu0-ofport-status.txt'), ['ofport', 'status']);
    expect(parseOvsdbInteger(got.ofport as string)).to.equal(2);
    expect(parseOvsdbMap(got.status as string).status).to.equal('connected');
  });

  it('rejects what ovs-vsctl never prints', () => {
    expect(() => parseOvsdbMap('dpdk-init=true')).to.throw(ToolOutputParseError, /braces/);
    expect(() => parseOvsdbMap('{a=1, a=2}')).to.throw(ToolOutputParseError, /twice/);
    expect(() => parseOvsdbMap('{a}')).to.throw(ToolOutputParseError, /key=value/);
    expect(() => parseOvsdbMap('{a="x}')).to.throw(ToolOutputParseError, /closing quote/);
    expect(() => parseOvsdbMap('{a=1,, b=2}')).to.throw(ToolOutputParseError, /empty element/);
    expect(() => parseOvsdbAtom('')).to.throw(ToolOutputParseError);
    expect(() => parseOvsdbAtom('two words')).to.throw(ToolOutputParseError, /bare word/);
    expect(() => parseOvsdbSet('[a, b')).to.throw(ToolOutputParseError);
    expect(() => parseOvsdbInteger('"4"')).to.throw(ToolOutputParseError, /integer/);
    expect(() => parseVsctlRecords('not a record line')).to.throw(ToolOutputParseError, /column : value/);
    expect(() => parseVsctlGet('\n', ['ofport'])).to.throw(ToolOutputParseError, /found 0/);
    expect(() => parseVsctlGet('1\n', ['ofport', 'status'])).to.throw(ToolOutputParseError, /expected 2/);
  });
});
